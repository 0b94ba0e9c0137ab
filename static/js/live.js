// The signed-in user's live feed: one websocket per page, reconnecting on its own, that hands
// each event to the page scripts that asked for its type. Keeps the header balance current.
"use strict";

window.rollerLive = (function () {
  const handlers = {};

  function emit(type, payload) {
    (handlers[type] || []).forEach((handler) => handler(payload));
  }

  function on(type, handler) {
    (handlers[type] = handlers[type] || []).push(handler);
  }

  on("balance", (event) => {
    const balance = document.getElementById("balance");
    if (!balance) return;
    balance.dataset.credits = event.credits;
    balance.textContent = `${event.credits} credit${event.credits === 1 ? "" : "s"}`;
  });

  function connect(delay) {
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    const socket = new WebSocket(`${scheme}://${location.host}/ws/generations/`);
    socket.addEventListener("open", () => { delay = 1000; emit("open"); });
    socket.addEventListener("message", (message) => {
      const event = JSON.parse(message.data);
      emit(event.type, event);
    });
    socket.addEventListener("close", () => {
      emit("close");
      setTimeout(() => connect(Math.min(delay * 2, 30000)), delay);
    });
  }

  document.addEventListener("DOMContentLoaded", () => connect(1000));
  return { on };
})();
