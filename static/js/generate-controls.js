// The generate page's controls: aspect-ratio presets, sliders paired with their number boxes,
// the seed's dice and lock, character counters, the GPU line and the Ctrl+Enter shortcut.
// Submitting and the canvas are generate.js's.
"use strict";

(function () {
  const form = document.getElementById("generate-form");
  if (!form) return;
  const models = JSON.parse(document.getElementById("models-data").textContent);
  const MAX_TEXT = 1000;
  const NEAR_TEXT = 900;
  const MIN_SIDE = 64;
  const MAX_SEED = 2 ** 32 - 1;

  function field(name) { return form.elements.namedItem(name); }
  function selectedModel() { return models.find((m) => m.slug === field("model").value); }

  // A size of `ratio` (as "3:4") near the model's default pixel count, in multiples of 8
  // (what the server requires) and within its limits.
  function presetSize(model, ratio) {
    const [across, down] = ratio.split(":").map(Number);
    const pixels = model.default_width * model.default_height;
    let width = Math.sqrt((pixels * across) / down);
    let height = Math.sqrt((pixels * down) / across);
    // Small models: the short side stays at least the smallest the server takes.
    const grow = Math.max(1, MIN_SIDE / Math.min(width, height));
    width *= grow; height *= grow;
    const shrink = Math.min(1, model.max_width / width, model.max_height / height);
    width *= shrink; height *= shrink;
    const side = (value, maximum) => Math.min(maximum, Math.max(MIN_SIDE, Math.round(value / 8) * 8));
    return [side(width, model.max_width), side(height, model.max_height)];
  }

  function aspectChoices() { return [...form.querySelectorAll('input[name="aspect"]')]; }

  // Ticks the preset the width and height match, or Custom.
  function showAspect() {
    const model = selectedModel();
    const width = Number(field("width").value);
    const height = Number(field("height").value);
    let match = "custom";
    if (model) {
      for (const choice of aspectChoices()) {
        if (choice.value === "custom") continue;
        const [w, h] = presetSize(model, choice.value);
        if (w === width && h === height) { match = choice.value; break; }
      }
    }
    for (const choice of aspectChoices()) choice.checked = choice.value === match;
    document.getElementById("custom-size").dataset.custom = match === "custom" ? "1" : "";
  }

  function sizeSet(width, height) {
    for (const [name, value] of [["width", width], ["height", height]]) {
      field(name).value = value;
      field(name).dispatchEvent(new Event("input", { bubbles: true }));
    }
  }

  form.querySelector(".aspect-choices").addEventListener("change", (event) => {
    const model = selectedModel();
    if (!model || event.target.name !== "aspect") return;
    if (event.target.value === "custom") {
      document.getElementById("custom-size").dataset.custom = "1";
      field("width").focus();
      return;
    }
    sizeSet(...presetSize(model, event.target.value));
  });
  field("width").addEventListener("input", showAspect);
  field("height").addEventListener("input", showAspect);

  // Each slider and its number box show one value; the number box is what is sent.
  const PAIRS = [["steps", "steps-slider"], ["guidance", "guidance-slider"]];
  function slidersFromModel() {
    const model = selectedModel();
    if (!model) return;
    const steps = document.getElementById("steps-slider");
    steps.max = model.max_steps;
    field("steps").max = model.max_steps;
    const guidance = document.getElementById("guidance-slider");
    guidance.max = model.max_guidance;
    field("guidance").max = model.max_guidance;
  }
  function slidersShow() {
    for (const [name, sliderId] of PAIRS) {
      const value = field(name).value;
      if (value !== "") document.getElementById(sliderId).value = value;
    }
  }
  for (const [name, sliderId] of PAIRS) {
    const slider = document.getElementById(sliderId);
    slider.addEventListener("input", () => { field(name).value = slider.value; });
    field(name).addEventListener("input", () => {
      if (field(name).value !== "") slider.value = field(name).value;
    });
  }

  // The GPU line under the model picker.
  function showGpu() {
    const model = selectedModel();
    const line = document.getElementById("model-gpu");
    if (!model) { line.textContent = ""; return; }
    const price = `${model.credits_per_image} credit${model.credits_per_image === 1 ? "" : "s"} per image`;
    line.textContent = `${price} · ${model.gpu_ready ? "GPU ready" : "GPU starts on demand"}`;
    line.dataset.gpu = model.gpu_ready ? "ready" : "cold";
  }

  // Character counters: "123 / 1000", marked near and at the limit; generate.js refuses to
  // send a text over it and says why.
  function showCount(name) {
    const counter = document.getElementById(`${name}-count`);
    const length = field(name).value.length;
    counter.textContent = `${length} / ${MAX_TEXT}`;
    counter.dataset.state = length > MAX_TEXT ? "over" : length >= NEAR_TEXT ? "near" : "";
    const slot = form.querySelector(`.field-error[data-field="${name}"]`);
    if (length > MAX_TEXT) {
      slot.textContent = `${length - MAX_TEXT} character${length - MAX_TEXT === 1 ? "" : "s"} over the limit of ${MAX_TEXT}.`;
      slot.dataset.counter = "1";
    } else if (slot.dataset.counter) {
      slot.textContent = "";
      delete slot.dataset.counter;
    }
  }
  for (const name of ["prompt", "negative_prompt"]) {
    field(name).addEventListener("input", () => showCount(name));
  }

  // The seed: the dice picks one; locked, it stays for the next generation (the one the server
  // picked, if the box was empty); unlocked, the box empties again after each generation.
  const lock = document.getElementById("seed-lock");
  const seedHint = document.getElementById("seed-hint");
  function locked() { return lock.getAttribute("aria-pressed") === "true"; }
  function showLock() {
    lock.textContent = locked() ? "Locked" : "Lock";
    seedHint.textContent = locked() ? "Locked: the seed stays between generations." : "Unlocked: a new seed each time.";
  }
  lock.addEventListener("click", () => {
    lock.setAttribute("aria-pressed", locked() ? "false" : "true");
    showLock();
  });
  document.getElementById("seed-dice").addEventListener("click", () => {
    const values = new Uint32Array(1);
    crypto.getRandomValues(values);
    field("seed").value = Math.min(values[0], MAX_SEED);
    field("seed").dispatchEvent(new Event("input", { bubbles: true }));
  });
  form.addEventListener("generation:submitted", (event) => {
    if (locked()) {
      if (field("seed").value === "") field("seed").value = event.detail.seed;
    } else {
      field("seed").value = "";
    }
  });

  // Pixel-art scaling: sharp pixels instead of smoothing wherever the canvas enlarges.
  const pixelArt = document.getElementById("pixel-art");
  function showPixelArt() { document.getElementById("canvas-stage").dataset.pixelArt = pixelArt.checked ? "1" : ""; }
  pixelArt.addEventListener("change", showPixelArt);

  form.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      if (!document.getElementById("generate").disabled) form.requestSubmit();
    }
  });

  function showAll() {
    slidersFromModel();
    slidersShow();
    showAspect();
    showGpu();
    showCount("prompt");
    showCount("negative_prompt");
  }
  // generate.js resets sizes, steps and guidance on a model change first (its listener came first).
  field("model").addEventListener("change", showAll);
  showAll();
  showLock();
  showPixelArt();
  // A remix with the same seed (generate.js filled the form before this ran) keeps it.
  if (field("seed").value !== "") { lock.setAttribute("aria-pressed", "true"); showLock(); }
})();
