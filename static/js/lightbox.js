// The lightbox: opens a result over the page at its natural size, with arrow keys through its
// batch and the actions a finished image has (download, remix, copy seed, variations, upscale).
"use strict";

(function () {
  // Result images only: gallery thumbnails link to the detail page and keep doing so.
  const RESULT_IMAGES = ".generation .images img, .detail-images img, .canvas-images img";
  // Small results are shown bigger, but past 2x they only turn into blur (or blocks).
  const MAX_UPSCALE = 2;
  let dialog = null;
  let batch = [];
  let current = 0;
  let opener = null;

  function element(tag, props, ...children) {
    const made = Object.assign(document.createElement(tag), props || {});
    made.append(...children);
    return made;
  }

  function build() {
    const live = element("p", { className: "lightbox-live" });
    live.setAttribute("aria-live", "polite");
    const box = element("div", { className: "lightbox", hidden: true });
    box.setAttribute("role", "dialog");
    box.setAttribute("aria-modal", "true");
    box.setAttribute("aria-label", "Image viewer");
    const pixelated = element("input", { type: "checkbox", className: "lightbox-pixelated" });
    box.append(
      element("div", { className: "lightbox-bar" },
        element("span", { className: "lightbox-counter" }),
        element("label", { className: "lightbox-toggle" }, pixelated, " Pixel-art scaling"),
        element("button", { type: "button", className: "lightbox-close secondary", textContent: "Close", ariaLabel: "Close" })),
      element("div", { className: "lightbox-stage" },
        element("button", { type: "button", className: "lightbox-prev secondary", textContent: "‹", ariaLabel: "Previous image" }),
        element("img", { className: "lightbox-image", alt: "" }),
        element("button", { type: "button", className: "lightbox-next secondary", textContent: "›", ariaLabel: "Next image" })),
      element("p", { className: "lightbox-caption" }),
      element("div", { className: "lightbox-actions" },
        element("a", { className: "button lightbox-download", textContent: "Download", download: "" }),
        element("a", { className: "button lightbox-same-settings", textContent: "Use these settings" }),
        element("a", { className: "button lightbox-remix", textContent: "Remix" }),
        element("button", { type: "button", className: "secondary lightbox-copy-seed", textContent: "Copy seed" })),
      element("div", { className: "lightbox-image-actions" }),
      live,
    );
    box.querySelector(".lightbox-close").addEventListener("click", close);
    box.querySelector(".lightbox-prev").addEventListener("click", () => show(current - 1));
    box.querySelector(".lightbox-next").addEventListener("click", () => show(current + 1));
    box.querySelector(".lightbox-copy-seed").addEventListener("click", copySeed);
    pixelated.addEventListener("change", () => box.classList.toggle("pixelated", pixelated.checked));
    box.querySelector(".lightbox-image").addEventListener("load", fit);
    box.addEventListener("click", (clicked) => { if (clicked.target === box) close(); });
    box.addEventListener("keydown", onKey);
    window.addEventListener("resize", fit);
    document.body.appendChild(box);
    return box;
  }

  function fullUrl(img) {
    const link = img.closest("a");
    return (link && link.getAttribute("href")) || img.dataset.full || img.getAttribute("src");
  }

  function generationOf(img) {
    return img.closest("[data-id]");
  }

  function seedOf(img, index) {
    if (img.dataset.seed) return img.dataset.seed;
    // A card from before data-seed: its meta says the batch's first seed; image n has seed + n.
    const meta = generationOf(img) && generationOf(img).querySelector(".detail");
    const match = meta && meta.textContent.match(/seed (\d+)/);
    return match ? String(Number(match[1]) + index) : "";
  }

  function say(text) {
    const live = dialog.querySelector(".lightbox-live");
    live.textContent = "";
    // A fresh text node each time, so that the same words said twice are announced twice.
    requestAnimationFrame(() => { live.textContent = text; });
  }

  // Natural size, scaled down to fit the viewport, never up past MAX_UPSCALE.
  function fit() {
    if (!dialog || dialog.hidden) return;
    const image = dialog.querySelector(".lightbox-image");
    if (!image.naturalWidth) return;
    const stage = dialog.querySelector(".lightbox-stage");
    const room = Math.min(
      stage.clientWidth / image.naturalWidth,
      (window.innerHeight * 0.6) / image.naturalHeight,
    );
    const scale = Math.min(MAX_UPSCALE, Math.max(room, 0.01));
    image.style.width = `${Math.floor(image.naturalWidth * scale)}px`;
    image.style.height = `${Math.floor(image.naturalHeight * scale)}px`;
  }

  function imageActionsFor(img, index) {
    const generation = generationOf(img);
    const slot = dialog.querySelector(".lightbox-image-actions");
    slot.replaceChildren();
    if (!generation || !window.rollerImageActions) return;
    // The page's own buttons for this image, when it has them; built like generate.js otherwise.
    const existing = generation.querySelector(`.image-actions[data-index="${index}"]`);
    const box = existing
      ? existing.cloneNode(true)
      : window.rollerImageActions.build({ id: generation.dataset.id, model: generation.dataset.model, images: batch }, index);
    if (box) slot.appendChild(box);
  }

  function show(index) {
    current = (index + batch.length) % batch.length;
    const img = batch[current];
    const url = fullUrl(img);
    const image = dialog.querySelector(".lightbox-image");
    image.style.width = ""; image.style.height = "";
    image.src = url;
    image.alt = img.alt;
    const counter = `Image ${current + 1} of ${batch.length}`;
    dialog.querySelector(".lightbox-counter").textContent = counter;
    dialog.querySelector(".lightbox-caption").textContent = img.alt;
    const id = generationOf(img) ? generationOf(img).dataset.id : "";
    dialog.querySelector(".lightbox-download").href = `${url}?download=1`;
    dialog.querySelector(".lightbox-same-settings").href = `/?remix=${id}&same_seed=1`;
    dialog.querySelector(".lightbox-remix").href = `/?remix=${id}`;
    for (const name of [".lightbox-same-settings", ".lightbox-remix"]) dialog.querySelector(name).hidden = !id;
    dialog.querySelector(".lightbox-copy-seed").dataset.seed = seedOf(img, current);
    for (const name of [".lightbox-prev", ".lightbox-next"]) dialog.querySelector(name).hidden = batch.length < 2;
    imageActionsFor(img, current);
    say(counter);
    fit();
  }

  async function copySeed() {
    const seed = dialog.querySelector(".lightbox-copy-seed").dataset.seed;
    try {
      await navigator.clipboard.writeText(seed);
      say("Seed copied");
    } catch (error) {
      // No clipboard (an insecure page, or permission refused): the seed is still said.
      say(`Seed ${seed}: copy it by hand`);
    }
  }

  function focusable() {
    return [...dialog.querySelectorAll("a[href], button, input, select")].filter((el) => !el.hidden && !el.disabled && el.offsetParent !== null);
  }

  function onKey(pressed) {
    if (pressed.key === "Escape") { pressed.preventDefault(); close(); }
    else if (pressed.key === "ArrowRight" && pressed.target.tagName !== "SELECT") { pressed.preventDefault(); show(current + 1); }
    else if (pressed.key === "ArrowLeft" && pressed.target.tagName !== "SELECT") { pressed.preventDefault(); show(current - 1); }
    else if (pressed.key === "Tab") {
      const stops = focusable();
      if (!stops.length) return;
      const first = stops[0], last = stops[stops.length - 1];
      if (pressed.shiftKey && document.activeElement === first) { pressed.preventDefault(); last.focus(); }
      else if (!pressed.shiftKey && document.activeElement === last) { pressed.preventDefault(); first.focus(); }
    }
  }

  function open(img) {
    dialog = dialog || build();
    const container = img.closest(".images, .detail-images, .canvas-images");
    batch = [...container.querySelectorAll("img")];
    opener = img;
    dialog.hidden = false;
    document.body.classList.add("lightbox-open");
    show(batch.indexOf(img));
    dialog.querySelector(".lightbox-close").focus();
  }

  function close() {
    if (!dialog || dialog.hidden) return;
    dialog.hidden = true;
    document.body.classList.remove("lightbox-open");
    if (opener) opener.focus();
  }

  // Result images can be reached by keyboard: focusable, and said to be a button.
  function markResults(root) {
    root.querySelectorAll(RESULT_IMAGES).forEach((img) => {
      if (img.hasAttribute("tabindex")) return;
      img.tabIndex = 0;
      img.setAttribute("role", "button");
    });
  }

  document.addEventListener("click", (clicked) => {
    const img = clicked.target.closest(RESULT_IMAGES);
    if (!img || (dialog && dialog.contains(img))) return;
    clicked.preventDefault();
    open(img);
  });
  document.addEventListener("keydown", (pressed) => {
    if (pressed.key !== "Enter" && pressed.key !== " ") return;
    const img = pressed.target.closest && pressed.target.closest(RESULT_IMAGES);
    if (!img) return;
    pressed.preventDefault();
    open(img);
  });
  markResults(document);
  // Cards that arrive live get their images later; mark those as they come.
  new MutationObserver(() => markResults(document)).observe(document.body, { childList: true, subtree: true });
})();
