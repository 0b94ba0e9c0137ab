// The gallery and a generation's page follow the user's generations live over the websocket:
// badges and progress bars move, finished ones get their thumbnail, and on the first unfiltered
// page a generation started elsewhere (another tab, a remix) appears at the top.
"use strict";

(function () {
  const STATUS_LABELS = {
    queued: "Queued", running: "Running", succeeded: "Succeeded", failed: "Failed", canceled: "Cancelled",
  };
  const FINISHED = new Set(["succeeded", "failed", "canceled"]);
  const KIND_LABELS = { image: "From an image", variations: "Variations of an image", upscale: "Upscaled x2" };
  // Events can arrive out of order (and overtake an API response); the revision, which goes up
  // with every status change, tells which is newer, so a card never shows an older state.
  function isStale(element, event) {
    if (event.revision === undefined) return false;
    if (event.revision < Number(element.dataset.revision || 0)) return true;
    element.dataset.revision = event.revision;
    return false;
  }
  const grid = document.getElementById("gallery-grid");
  const detail = document.getElementById("generation-detail");
  const liveStatus = document.getElementById("live-status");
  const template = document.getElementById("gallery-card");
  // Ids whose record is being fetched, so that a burst of events adds one card, not several.
  const fetching = new Set();
  // A form on the page is being sent (Cancel, Make public): its answer is the next page, and a
  // reload now would race it and lose the message it brings.
  let submitting = false;
  // On window, so it hears a submit after any handler on the document that stops it.
  window.addEventListener("submit", (event) => { if (!event.defaultPrevented) submitting = true; });

  function thumbnail(image, alt) {
    const img = document.createElement("img");
    img.src = image.thumbnail_url; img.width = image.width; img.height = image.height;
    img.loading = "lazy"; img.alt = alt;
    return img;
  }

  function applyTo(card, event) {
    if (isStale(card, event)) return;
    card.dataset.status = event.status;
    card.querySelector(".status").textContent = STATUS_LABELS[event.status] || event.status;
    const progress = card.querySelector(".progress");
    if (progress) {
      const active = event.status === "queued" || event.status === "running";
      progress.hidden = !active;
      const step = event.step ?? (event.progress && event.progress.step);
      const total = event.total ?? (event.progress && event.progress.total);
      if (total) progress.max = total;
      if (step !== undefined && step !== null) progress.value = step;
    }
    const images = event.images || [];
    const link = card.querySelector(".thumb");
    if (link && images.length && !link.querySelector("img")) {
      link.replaceChildren(thumbnail(images[0], card.querySelector(".prompt").textContent));
    }
    // Variations and an upscale of the image the card shows, once it is there.
    if (images.length && !card.querySelector(".image-actions") && window.rollerImageActions) {
      const actions = window.rollerImageActions.build({ id: card.dataset.id, model: card.dataset.model, images: images.slice(0, 1) }, 0);
      if (actions) card.querySelector(".progress").before(actions);
    }
  }

  // As the server-rendered cards mark generations made through the Discord bot.
  function originBadge() {
    const badge = document.createElement("span");
    badge.className = "badge origin-badge";
    badge.textContent = "from Discord";
    return badge;
  }

  function cardFrom(generation) {
    const card = template.content.firstElementChild.cloneNode(true);
    const href = `/gallery/${generation.id}/`;
    card.dataset.id = generation.id;
    card.dataset.model = generation.model;
    card.querySelector(".thumb").href = href;
    const prompt = card.querySelector(".prompt a");
    prompt.href = href;
    prompt.textContent = generation.prompt.length > 90 ? `${generation.prompt.slice(0, 89)}…` : generation.prompt;
    // Records carry the model's slug; the filter's options know its name.
    const option = document.querySelector(`#gallery-model option[value="${CSS.escape(generation.model)}"]`);
    const model = option ? option.textContent : generation.model;
    const kind = KIND_LABELS[generation.kind] ? ` · ${KIND_LABELS[generation.kind]}` : "";
    card.querySelector(".detail").textContent =
      generation.count > 1 ? `${model}${kind} · ${generation.count} images` : `${model}${kind}`;
    const placeholder = card.querySelector(".placeholder");
    placeholder.style.aspectRatio = `${generation.width} / ${generation.height}`;
    // The thumbnail link's name until the picture comes.
    placeholder.setAttribute("aria-label", `${STATUS_LABELS[generation.status] || generation.status}: ${generation.prompt.slice(0, 120)}`);
    if (generation.origin === "discord") card.querySelector(".status").after(" ", originBadge());
    return card;
  }

  async function insert(event) {
    if (fetching.has(event.id)) return;
    fetching.add(event.id);
    try {
      const response = await fetch(`/api/v1/generations/${event.id}`, { credentials: "same-origin" });
      if (!response.ok) return;
      const generation = await response.json();
      if (grid.querySelector(`.gallery-item[data-id="${generation.id}"]`)) return;
      const card = cardFrom(generation);
      grid.prepend(card);
      const empty = document.getElementById("gallery-empty");
      if (empty) empty.remove();
      applyTo(card, generation);
      // The event that made us look may be newer than the record we fetched.
      applyTo(card, event);
    } finally {
      fetching.delete(event.id);
    }
  }

  function onGridEvent(event) {
    const card = grid.querySelector(`.gallery-item[data-id="${event.id}"]`);
    if (card) applyTo(card, event);
    else if (grid.dataset.liveInsert === "true") insert(event);
  }

  function onDetailEvent(event) {
    if (event.id !== detail.dataset.id) return;
    const wasFinished = FINISHED.has(detail.dataset.status);
    if (isStale(detail, event)) return;
    detail.dataset.status = event.status;
    const progress = detail.querySelector(".progress");
    if (progress && event.status === "running" && event.step !== undefined) {
      progress.hidden = false;
      progress.max = event.total; progress.value = event.step;
    }
    if (FINISHED.has(event.status) && !wasFinished && !submitting) {
      // Finished: the page's images, timings and actions all change, so show it afresh.
      location.reload();
    }
  }

  async function record(id) {
    try {
      const response = await fetch(`/api/v1/generations/${id}`, { credentials: "same-origin" });
      return response.ok ? await response.json() : null;
    } catch (error) {
      return null;  // The server went away again; the next "open" tries again.
    }
  }

  // Events sent while the socket was closed are lost: ask the API for everything shown that was
  // still unfinished; the revision keeps a reply older than an event from winning.
  async function catchUp() {
    const unfinished = (element) => !FINISHED.has(element.dataset.status);
    const jobs = [];
    if (grid) {
      grid.querySelectorAll(".gallery-item").forEach((card) => {
        if (unfinished(card)) {
          jobs.push(record(card.dataset.id).then((generation) => generation && applyTo(card, generation)));
        }
      });
    }
    if (detail && unfinished(detail)) {
      jobs.push(record(detail.dataset.id).then((generation) => generation && onDetailEvent(generation)));
    }
    await Promise.all(jobs);
  }

  if (!window.rollerLive) return;
  if (grid && grid.dataset.liveInsert === "true" && window.rollerImageActions) {
    // Variations and upscales pressed on this page appear at the top of it, followed live.
    document.addEventListener(window.rollerImageActions.CREATED, (created) => {
      created.preventDefault();
      insert(created.detail);
    });
  }
  if (grid) window.rollerLive.on("generation", onGridEvent);
  if (detail) window.rollerLive.on("generation", onDetailEvent);
  window.rollerLive.on("open", catchUp);
  if (liveStatus) {
    window.rollerLive.on("open", () => {
      liveStatus.textContent = "Live updates on.";
      liveStatus.dataset.state = "open";
    });
    window.rollerLive.on("close", () => {
      liveStatus.textContent = "Live updates paused; reconnecting…";
      liveStatus.dataset.state = "closed";
    });
    window.rollerLive.on("signedout", () => {
      liveStatus.textContent = "Live updates stopped: you were signed out.";
      liveStatus.dataset.state = "signed-out";
    });
  }
})();
