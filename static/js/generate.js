// The generate page: submits through the JSON API and follows every generation live over the
// websocket, so nothing on this page needs a reload.
"use strict";

(function () {
  const form = document.getElementById("generate-form");
  const grid = document.getElementById("generations");
  const cardTemplate = document.getElementById("generation-card");
  const liveStatus = document.getElementById("live-status");
  const formError = document.getElementById("form-error");
  const models = JSON.parse(document.getElementById("models-data").textContent);
  const STATUS_LABELS = {
    queued: "Queued", running: "Running", succeeded: "Succeeded", failed: "Failed", canceled: "Cancelled",
  };
  const KIND_LABELS = { image: "From an image", variations: "Variations of an image", upscale: "Upscaled x2" };
  // As the server checks them (generation.schemas): said before sending.
  const MAX_INIT_IMAGE_BYTES = 4 * 1024 * 1024;
  const MAX_PROMPT_LENGTH = 1000;
  const canvas = document.getElementById("canvas");
  const canvasStage = document.getElementById("canvas-stage");
  const canvasPreview = document.getElementById("canvas-preview");
  const canvasImages = document.getElementById("canvas-images");
  const canvasProgress = document.getElementById("canvas-progress");
  const canvasStatus = document.getElementById("canvas-status");
  const canvasPrompt = document.getElementById("canvas-prompt");
  // The generation the canvas shows: the newest one pressed for on this page (or, on arrival,
  // the newest of the cards).
  let canvasId = null;
  let canvasModel = "";
  // Events can arrive out of order (and overtake an API response); the revision, which goes up
  // with every status change, tells which is newer, so a card never shows an older state.
  function isStale(element, event) {
    if (event.revision === undefined) return false;
    if (event.revision < Number(element.dataset.revision || 0)) return true;
    element.dataset.revision = event.revision;
    return false;
  }

  function csrfToken() {
    const match = document.cookie.match(/(?:^|; )csrftoken=([^;]+)/);
    return match ? decodeURIComponent(match[1]) : "";
  }

  function field(name) { return form.elements.namedItem(name); }

  function selectedModel() {
    return models.find((m) => m.slug === field("model").value);
  }

  function initImageFile() {
    const input = field("init_image");
    return input && input.files.length ? input.files[0] : null;
  }

  function showCost() {
    const model = selectedModel();
    const cost = document.getElementById("cost");
    if (!model || !cost) return;
    const perImage = initImageFile() ? model.credits_per_image_to_image : model.credits_per_image;
    const count = Number(field("count").value) || 1;
    const credits = perImage * count;
    const plural = (n) => `${n} credit${n === 1 ? "" : "s"}`;
    cost.textContent = count === 1 ? `Costs ${plural(credits)}.` : `Costs ${plural(credits)} (${count} × ${plural(perImage)}).`;
  }

  // Strength applies only to a start image; without one it is neither editable nor sent.
  function applyInitImage() {
    const chosen = Boolean(initImageFile());
    field("strength").disabled = !chosen;
    document.getElementById("strength-slider").disabled = !chosen;
    showCost();
  }

  function showDefaultSampler() {
    const model = selectedModel();
    const option = field("sampler").querySelector('option[value=""]');
    const own = model && model.default_sampler && field("sampler").querySelector(`option[value="${CSS.escape(model.default_sampler)}"]`);
    option.textContent = own ? `Default (${own.textContent})` : "Default";
  }

  // Some samplers (LCM) are only for few-step (Turbo) models, as the server checks: other
  // models are not offered them, and one chosen for an earlier model falls back to the default.
  function offerSamplers() {
    const model = selectedModel();
    const fewStep = Boolean(model) && model.family === "turbo";
    for (const option of field("sampler").options) {
      if (option.dataset.fewStepOnly === undefined) continue;
      option.hidden = option.disabled = !fewStep;
      if (!fewStep && option.selected) field("sampler").value = "";
    }
  }

  function applyModelLimits() {
    const model = selectedModel();
    if (!model) return;
    field("width").max = model.max_width; field("width").value = model.default_width;
    field("height").max = model.max_height; field("height").value = model.default_height;
    field("steps").max = model.max_steps; field("steps").value = model.default_steps;
    field("guidance").max = model.max_guidance; field("guidance").value = model.default_guidance;
    offerSamplers();
    showDefaultSampler();
    showCost();
  }

  function clearErrors() {
    formError.textContent = "";
    form.querySelectorAll(".field-error").forEach((el) => { el.textContent = ""; });
  }

  function showError(error) {
    const slot = error.field && form.querySelector(`.field-error[data-field="${error.field}"]`);
    if (slot) {
      slot.textContent = error.message;
      const details = form.querySelector("details");
      if (details && details.contains(slot)) details.open = true;
    } else {
      formError.textContent = error.message;
    }
    if (error.code === "insufficient_credits") {
      const link = document.createElement("a");
      link.href = "/billing/";
      link.textContent = " Get more credits.";
      formError.appendChild(link);
    }
  }

  function dataUrl(file) {
    return new Promise((resolve, reject) => {
      const reader = new FileReader();
      reader.onload = () => resolve(reader.result);
      reader.onerror = () => reject(reader.error);
      reader.readAsDataURL(file);
    });
  }

  async function requestBody() {
    const body = { prompt: field("prompt").value };
    const negative = field("negative_prompt").value.trim();
    if (negative) body.negative_prompt = negative;
    if (field("model").value) body.model = field("model").value;
    if (field("sampler").value) body.sampler = field("sampler").value;
    for (const name of ["width", "height", "steps", "count", "seed"]) {
      const raw = field(name).value.trim();
      if (raw !== "") body[name] = Number(raw);
    }
    const guidance = field("guidance").value.trim();
    if (guidance !== "") body.guidance = Number(guidance);
    const file = initImageFile();
    if (file) {
      body.init_image = await dataUrl(file);
      const strength = field("strength").value.trim();
      if (strength !== "") body.strength = Number(strength);
    }
    return body;
  }

  function cardFor(id) {
    return grid.querySelector(`.generation[data-id="${id}"]`);
  }

  // As the server-rendered cards mark generations made through the Discord bot.
  function originBadge() {
    const badge = document.createElement("span");
    badge.className = "badge origin-badge";
    badge.textContent = "from Discord";
    return badge;
  }

  function addCard(generation) {
    let card = cardFor(generation.id);
    if (card) return card;
    card = cardTemplate.content.firstElementChild.cloneNode(true);
    card.dataset.id = generation.id;
    card.dataset.model = generation.model;
    card.querySelector(".prompt").textContent = generation.prompt;
    const kind = KIND_LABELS[generation.kind] ? `${KIND_LABELS[generation.kind]} · ` : "";
    // Records carry the model's slug; the page's models data knows its name.
    const model = models.find((m) => m.slug === generation.model);
    card.querySelector(".detail").textContent =
      `${kind}${model ? model.name : generation.model} · ${generation.width}×${generation.height} · ${generation.steps} steps · seed ${generation.seed}`;
    card.querySelector(".progress").max = generation.steps;
    card.querySelector(".cancel").dataset.id = generation.id;
    card.dataset.credits = generation.credits_charged || 0;
    if (generation.origin === "discord") card.querySelector(".status").after(" ", originBadge());
    grid.prepend(card);
    const empty = document.getElementById("no-generations");
    if (empty) empty.remove();
    return card;
  }

  function showImages(card, images) {
    const actions = card.querySelector(".image-actions-list");
    if (actions && !actions.children.length) {
      const generation = { id: card.dataset.id, model: card.dataset.model, images };
      actions.replaceChildren(...images.map((image, index) => window.rollerImageActions.build(generation, index)).filter(Boolean));
    }
    const box = card.querySelector(".images");
    box.replaceChildren(...images.map((image) => {
      const link = document.createElement("a");
      link.href = image.url; link.target = "_blank"; link.rel = "noopener";
      const img = document.createElement("img");
      img.src = image.url; img.width = image.width; img.height = image.height; img.dataset.seed = image.seed;
      img.alt = card.querySelector(".prompt").textContent;
      link.appendChild(img);
      return link;
    }));
  }

  // Applies an event or an API record to its card.
  function duration(seconds) {
    // Seconds up to two minutes: "about 2 min" for 90 s would promise too little.
    if (seconds < 120) return `${seconds} s`;
    return `${Math.round(seconds / 60)} min`;
  }

  // Queue position and ETA, from a live event or an API record.
  function queueText(event) {
    const place = `Position ${event.position || "?"}`;
    const eta = event.eta_seconds ? ` · ready in about ${duration(event.eta_seconds)}` : "";
    if (event.waiting_for_worker && event.gpu_starting_seconds != null) {
      const soon = event.gpu_starting_seconds > 0 ? `about ${duration(event.gpu_starting_seconds)}` : "any moment now";
      return `${place}: starting a GPU, ${soon}${eta}`;
    }
    if (event.waiting_for_worker) return `${place}: waiting for a GPU to start`;
    if (!event.position) return "Waiting in the queue";
    // No more GPUs will start: say so, so that a long wait is not a surprise.
    const busy = event.at_max ? " · every GPU is busy" : "";
    return `${place} in the queue${busy}${eta}`;
  }

  // A cancelled or failed generation gets back what it cost (the server refunds its
  // credits_charged); said as the server-rendered cards say it after a reload.
  function endedText(card, event) {
    const credits = Number(card.dataset.credits || 0);
    const back = `${credits} credit${credits === 1 ? "" : "s"} came back`;
    if (event.status === "canceled") return credits ? `Cancelled: your ${back}.` : "Cancelled.";
    let reason = (event.error || "something went wrong").trim();
    if (!/[.!?]$/.test(reason)) reason += ".";
    return credits ? `Failed: ${reason} Your ${back}.` : `Failed: ${reason}`;
  }

  // Generations started elsewhere (another tab, the API, Discord) are announced by their first
  // event: fetch the record once and add its card at the top.
  const fetching = new Set();
  // As many as the page shows after a reload (generation.views.RECENT_GENERATIONS).
  const RECENT_LIMIT = 12;

  async function insert(event) {
    if (fetching.has(event.id)) return;
    fetching.add(event.id);
    try {
      const response = await fetch(`/api/v1/generations/${event.id}`, { credentials: "same-origin" });
      if (!response.ok) return;
      const generation = await response.json();
      // This tab's own submit may have added the card meanwhile; addCard keeps that one.
      addCard(generation);
      update(generation);
      // The event that made us look may be newer than the record we fetched.
      update(event);
    } catch (error) {
      // The server went away; the card appears with the next event or a reload.
    } finally {
      fetching.delete(event.id);
    }
  }

  function onEvent(event) {
    if (cardFor(event.id)) update(event);
    else insert(event);
  }

  function canvasSize(width, height) {
    // Never enlarged past twice its own size, never wider than the canvas.
    return `width: ${width * 2}px; max-width: 100%; aspect-ratio: ${width} / ${height};`;
  }

  // Shows `generation` (an API record or event) on the canvas from now on.
  function canvasFollow(generation) {
    canvasId = generation.id;
    canvasModel = generation.model || "";
    delete canvasStage.dataset.revision;
    canvasStage.dataset.width = generation.width;
    canvasStage.dataset.height = generation.height;
    canvasPreview.removeAttribute("src");
    canvasPreview.hidden = true;
    canvasImages.replaceChildren();
    canvasPrompt.textContent = generation.prompt || "";
  }

  function canvasShowImages(images, prompt) {
    canvasImages.dataset.count = images.length;
    // The lightbox reads which generation (and model) a batch is from off its container.
    canvasImages.dataset.id = canvasId;
    canvasImages.dataset.model = canvasModel;
    canvasImages.replaceChildren(...images.map((image) => {
      const link = document.createElement("a");
      link.href = image.url; link.target = "_blank"; link.rel = "noopener";
      const img = document.createElement("img");
      img.src = image.url; img.width = image.width; img.height = image.height; img.alt = prompt;
      if (image.seed !== undefined) img.dataset.seed = image.seed;
      img.style.cssText = canvasSize(image.width, image.height);
      link.appendChild(img);
      return link;
    }));
  }

  function canvasUpdate(event) {
    if (event.id !== canvasId) return;
    if (isStale(canvasStage, event)) return;
    const changed = canvasStage.dataset.state !== event.status;
    canvasStage.dataset.state = event.status;
    const width = Number(canvasStage.dataset.width) || 512;
    const height = Number(canvasStage.dataset.height) || 512;
    if (event.status === "queued") {
      canvasProgress.hidden = false;
      canvasProgress.removeAttribute("value");
      canvasStatus.textContent = queueText(event);
    } else if (event.status === "running") {
      if (event.preview) {
        canvasPreview.src = event.preview;
        canvasPreview.style.cssText = `width: 100%; max-width: ${Math.max(width * 2, 320)}px; aspect-ratio: ${width} / ${height};`;
        canvasPreview.hidden = false;
      }
      const step = event.step ?? (event.progress && event.progress.step) ?? 0;
      const total = event.total ?? (event.progress && event.progress.total) ?? event.steps ?? 1;
      canvasProgress.hidden = false;
      canvasProgress.max = total; canvasProgress.value = step;
      canvasStatus.textContent = step ? `Sampling: step ${step} of ${total}` : "Starting…";
    } else {
      canvasProgress.hidden = true;
      canvasPreview.hidden = true;
      if (event.status === "succeeded") {
        canvasStatus.textContent = "Done.";
        if (event.images && event.images.length) canvasShowImages(event.images, canvasPrompt.textContent);
      } else {
        const card = cardFor(event.id);
        canvasStatus.textContent = card ? endedText(card, event)
          : event.status === "failed" ? (event.error || "Failed.") : "Cancelled.";
      }
    }
    if (changed) canvasAnnounce(event);
  }

  // Screen readers hear the status change (queued, sampling, done), not every step.
  function canvasAnnounce(event) {
    const said = { queued: "Queued.", running: "Sampling started." }[event.status];
    document.getElementById("canvas-announce").textContent = said || canvasStatus.textContent;
  }

  // On arrival the canvas shows the newest card, as the server rendered it.
  function canvasFromCard(card) {
    const first = card.querySelector(".images img");
    canvasFollow({
      id: card.dataset.id,
      model: card.dataset.model,
      prompt: card.querySelector(".prompt").textContent,
      width: first ? first.width : 0,
      height: first ? first.height : 0,
    });
    canvasStage.dataset.state = card.dataset.status;
    if (card.dataset.status === "succeeded") {
      canvasStatus.textContent = "Your newest image.";
      canvasShowImages([...card.querySelectorAll(".images img")].map((img) => ({
        url: img.dataset.full || img.src, width: img.width, height: img.height, seed: img.dataset.seed,
      })), canvasPrompt.textContent);
    }
  }

  function update(event) {
    canvasUpdate(event);
    const card = cardFor(event.id);
    if (!card) return;
    if (isStale(card, event)) return;
    if (event.credits_charged !== undefined) card.dataset.credits = event.credits_charged;
    card.dataset.status = event.status;
    card.querySelector(".status").textContent = STATUS_LABELS[event.status] || event.status;
    const progress = card.querySelector(".progress");
    const state = card.querySelector(".state");
    // Busy while it runs, so screen readers wait for the outcome instead of reading each step.
    state.setAttribute("aria-busy", event.status === "running" ? "true" : "false");
    card.querySelector(".cancel").hidden = !(event.status === "queued" || event.status === "running");
    const preview = card.querySelector(".preview");
    if (event.status === "queued") {
      progress.hidden = false;
      state.textContent = queueText(event);
    } else if (event.status === "running") {
      if (event.preview) { preview.src = event.preview; preview.hidden = false; }
      progress.hidden = false;
      const step = event.step ?? (event.progress && event.progress.step) ?? 0;
      const total = event.total ?? (event.progress && event.progress.total) ?? progress.max;
      progress.max = total; progress.value = step;
      state.textContent = `Step ${step} of ${total}`;
    } else {
      progress.hidden = true;
      preview.hidden = true;
      state.textContent = event.status === "failed" || event.status === "canceled" ? endedText(card, event) : "";
      if (event.images && event.images.length) showImages(card, event.images);
    }
  }

  // Kept until the server has answered, so that pressing Generate again after a network error
  // retries the same request instead of paying for a second one.
  let idempotencyKey = null;

  form.addEventListener("submit", async (submitEvent) => {
    submitEvent.preventDefault();
    clearErrors();
    let tooLong = false;
    for (const name of ["prompt", "negative_prompt"]) {
      const length = field(name).value.length;
      if (length > MAX_PROMPT_LENGTH) {
        const label = name === "prompt" ? "The prompt" : "The negative prompt";
        showError({ field: name, message: `${label} has ${length} characters; the most is ${MAX_PROMPT_LENGTH}. Shorten it to generate.` });
        tooLong = true;
      }
    }
    if (tooLong) {
      const first = field("prompt").value.length > MAX_PROMPT_LENGTH ? "prompt" : "negative_prompt";
      if (first === "negative_prompt") form.querySelector("details").open = true;
      field(first).focus();
      return;
    }
    const file = initImageFile();
    if (file && file.size > MAX_INIT_IMAGE_BYTES) {
      showError({ field: "init_image", message: "Init image must be at most 4 MB." });
      return;
    }
    idempotencyKey = idempotencyKey || (crypto.randomUUID ? crypto.randomUUID() : String(Math.random()).slice(2));
    const button = document.getElementById("generate");
    button.disabled = true;
    try {
      const body = JSON.stringify(await requestBody());
      const response = await fetch("/api/v1/generations", {
        method: "POST",
        headers: {
          "Content-Type": "application/json",
          "X-CSRFToken": csrfToken(),
          "Idempotency-Key": idempotencyKey,
        },
        body,
        credentials: "same-origin",
      });
      const data = await response.json().catch(() => null);
      idempotencyKey = null;
      if (!response.ok) {
        showError((data && data.error) || { message: `The server answered ${response.status}.` });
        return;
      }
      addCard(data);
      canvasFollow(data);
      update(data);
      form.dispatchEvent(new CustomEvent("generation:submitted", { detail: data }));
      // On a phone the canvas is below the form: bring the new generation into view.
      if (window.matchMedia("(max-width: 699px)").matches) {
        canvas.scrollIntoView({ behavior: "smooth", block: "start" });
      }
    } catch (error) {
      formError.textContent = "Could not reach the server. Check your connection and try again.";
    } finally {
      button.disabled = false;
    }
  });

  // Events sent while the socket was closed are lost: ask the API for every card that was
  // still unfinished; the revision keeps a reply older than an event from winning.
  async function catchUp() {
    const unfinished = grid.querySelectorAll('.generation[data-status="queued"], .generation[data-status="running"]');
    await Promise.all([...unfinished].map(async (card) => {
      try {
        const response = await fetch(`/api/v1/generations/${card.dataset.id}`, { credentials: "same-origin" });
        if (response.ok) update(await response.json());
      } catch (error) {
        // The server went away again; the next "open" tries again.
      }
    }));
  }

  // Generations started elsewhere while no socket was open sent their first events to nobody:
  // the ones newer than every card here go on top, in order, newest first.
  async function catchUpNew() {
    try {
      const response = await fetch(`/api/v1/generations?limit=${RECENT_LIMIT}`, { credentials: "same-origin" });
      if (!response.ok) return;
      const { results } = await response.json();
      const known = results.findIndex((generation) => cardFor(generation.id));
      const fresh = known === -1 ? results : results.slice(0, known);
      fresh.reverse().forEach((generation) => { addCard(generation); update(generation); });
    } catch (error) {
      // The server went away again; the next "open" tries again.
    }
  }

  window.rollerLive.on("generation", onEvent);
  window.rollerLive.on("open", () => {
    liveStatus.textContent = "Live updates on.";
    liveStatus.dataset.state = "open";
    catchUp();
    catchUpNew();
  });
  window.rollerLive.on("close", () => {
    liveStatus.textContent = "Live updates paused; reconnecting…";
    liveStatus.dataset.state = "closed";
  });
  window.rollerLive.on("signedout", () => {
    liveStatus.textContent = "Live updates stopped: you were signed out.";
    liveStatus.dataset.state = "signed-out";
  });

  grid.addEventListener("click", async (clickEvent) => {
    const button = clickEvent.target.closest(".cancel");
    if (!button) return;
    button.disabled = true;
    const card = button.closest(".generation");
    const response = await fetch(`/api/v1/generations/${card.dataset.id}/cancel`, {
      method: "POST",
      headers: { "X-CSRFToken": csrfToken() },
      credentials: "same-origin",
    }).catch(() => null);
    const data = response && (await response.json().catch(() => null));
    button.disabled = false;
    if (response && response.ok) {
      update(data);
    } else {
      card.querySelector(".state").textContent =
        (data && data.error && data.error.message) || "Could not cancel it. Try again.";
    }
  });

  // Variations and upscales pressed under an image of this page appear here, followed live.
  document.addEventListener(window.rollerImageActions.CREATED, (created) => {
    created.preventDefault();
    addCard(created.detail);
    canvasFollow(created.detail);
    update(created.detail);
  });

  field("model").addEventListener("change", applyModelLimits);
  field("count").addEventListener("input", showCost);
  field("init_image").addEventListener("change", applyInitImage);
  const slider = document.getElementById("strength-slider");
  slider.addEventListener("input", () => { field("strength").value = slider.value; });
  field("strength").addEventListener("input", () => { slider.value = field("strength").value; });
  applyModelLimits();
  applyInitImage();
  const newest = grid.querySelector(".generation");
  if (newest) canvasFromCard(newest);

  // Opened through a gallery "Remix" link: start from that generation's settings.
  const remixData = document.getElementById("remix-data");
  if (remixData) {
    const remix = JSON.parse(remixData.textContent);
    if (models.some((m) => m.slug === remix.model)) {
      field("model").value = remix.model;
      applyModelLimits();
    }
    for (const name of ["prompt", "negative_prompt", "width", "height", "steps", "guidance", "count", "seed", "sampler"]) {
      if (remix[name] !== null && remix[name] !== undefined) field(name).value = remix[name];
    }
    form.querySelector("details").open = true;
    showCost();
  }
})();
