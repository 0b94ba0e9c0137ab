// "Variations" and "Upscale x2" under finished images, on every page that shows them: each asks
// the API for a new generation from that image, which the signed-in user pays for, with its
// cost shown before pressing. A page that shows new generations live (the generate page, the
// gallery's first page) takes the new one in; from any other page the user is taken to the
// generate page, where it appears and is followed live.
"use strict";

window.rollerImageActions = (function () {
  const CREATED = "rollerai:generation-created";

  function csrfToken() {
    const match = document.cookie.match(/(?:^|; )csrftoken=([^;]+)/);
    return match ? decodeURIComponent(match[1]) : "";
  }

  function credits(amount) {
    return `${amount} credit${amount === 1 ? "" : "s"}`;
  }

  function models() {
    const data = document.getElementById("models-data");
    return data ? JSON.parse(data.textContent) : [];
  }

  function button(action, label, cost) {
    const element = document.createElement("button");
    element.type = "button";
    element.className = "secondary";
    element.dataset.action = action;
    const price = document.createElement("span");
    price.className = "cost";
    price.textContent = credits(cost);
    element.append(`${label} · `, price);
    return element;
  }

  // As the API decides (generation.validation.upscale_size): twice the size, or less where the
  // model's largest size says so, in multiples of 8; an image already there cannot grow. An
  // image of unknown size is offered it, and the API answers for it.
  const MIN_SIDE = 64;
  function upscalable(image, model) {
    const width = Number(image && (image.getAttribute ? image.getAttribute("width") : image.width));
    const height = Number(image && (image.getAttribute ? image.getAttribute("height") : image.height));
    if (!width || !height) return true;
    const factor = Math.min(2, model.max_width / width, model.max_height / height);
    const side = (length) => Math.max(MIN_SIDE, Math.floor(Math.trunc(length * factor) / 8) * 8);
    return side(width) > width || side(height) > height;
  }

  function upscaleLimit(model) {
    const note = document.createElement("span");
    note.className = "upscale-limit muted";
    note.textContent = `Already the largest size ${model.name} makes`;
    return note;
  }

  // The markup of templates/generation/_image_actions.html, for an image that arrived live;
  // null when its model is not offered any more.
  function build(generation, index) {
    const model = models().find((m) => m.slug === generation.model);
    if (!model) return null;
    const box = document.createElement("div");
    box.className = "image-actions";
    box.dataset.generation = generation.id;
    box.dataset.index = index;
    box.dataset.variationsPrice = model.credits_per_image_to_image;
    if (generation.images && generation.images.length > 1) {
      const number = document.createElement("span");
      number.className = "image-number";
      number.textContent = `#${index + 1}`;
      box.append(number, " ");
    }
    const count = document.createElement("select");
    count.className = "variations-count";
    count.setAttribute("aria-label", "How many variations");
    for (const n of [1, 2, 3, 4]) count.add(new Option(String(n), String(n), n === 4, n === 4));
    const error = document.createElement("span");
    error.className = "image-actions-error";
    error.setAttribute("role", "alert");
    box.append(
      count, " ",
      button("variations", "Variations", 4 * model.credits_per_image_to_image), " ",
      upscalable(generation.images && generation.images[index], model)
        ? button("upscale", "Upscale x2", model.credits_per_upscale)
        : upscaleLimit(model),
      " ",
      error,
    );
    return box;
  }

  document.addEventListener("change", (changeEvent) => {
    const count = changeEvent.target.closest(".variations-count");
    if (!count) return;
    const box = count.closest(".image-actions");
    const cost = Number(count.value) * Number(box.dataset.variationsPrice);
    box.querySelector('[data-action="variations"] .cost').textContent = credits(cost);
  });

  function showError(box, error) {
    const slot = box.querySelector(".image-actions-error");
    slot.textContent = error.message;
    if (error.code === "insufficient_credits") {
      const link = document.createElement("a");
      link.href = "/billing/";
      link.textContent = " Get more credits.";
      slot.appendChild(link);
    }
  }

  document.addEventListener("click", async (clickEvent) => {
    const pressed = clickEvent.target.closest(".image-actions button[data-action]");
    if (!pressed) return;
    const box = pressed.closest(".image-actions");
    const action = pressed.dataset.action;
    const body = { index: Number(box.dataset.index) };
    if (action === "variations") body.count = Number(box.querySelector(".variations-count").value);
    box.querySelector(".image-actions-error").textContent = "";
    box.querySelectorAll("button").forEach((b) => { b.disabled = true; });
    try {
      const response = await fetch(`/api/v1/generations/${box.dataset.generation}/${action}`, {
        method: "POST",
        headers: {
          "Content-Type": "application/json",
          "X-CSRFToken": csrfToken(),
          // A new key per press: pressing again asks for another one, on purpose.
          "Idempotency-Key": crypto.randomUUID ? crypto.randomUUID() : String(Math.random()).slice(2),
        },
        body: JSON.stringify(body),
        credentials: "same-origin",
      });
      const data = await response.json().catch(() => null);
      if (!response.ok) {
        showError(box, (data && data.error) || { message: `The server answered ${response.status}.` });
        return;
      }
      // A page that shows it live cancels the event; otherwise go where it does show.
      const shown = !document.dispatchEvent(new CustomEvent(CREATED, { detail: data, cancelable: true }));
      if (!shown) location.assign("/");
    } catch (error) {
      showError(box, { message: "Could not reach the server. Check your connection and try again." });
    } finally {
      box.querySelectorAll("button").forEach((b) => { b.disabled = false; });
    }
  });

  return { build, CREATED };
})();
