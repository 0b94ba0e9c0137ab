// The signed-in user's live feed: one websocket per page, reconnecting on its own, that hands
// each event to the page scripts that asked for its type. Keeps the header balance current.
// Once the session is gone (signed out elsewhere, password changed, account deleted) it stops
// and says so, instead of knocking on the server forever.
"use strict";

window.rollerLive = (function () {
  const handlers = {};
  // The server's close code for "not signed in" (README, "Live events").
  const CLOSE_NOT_AUTHENTICATED = 4401;

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

  function showSignedOut() {
    if (document.getElementById("signed-out")) return;
    const notice = document.createElement("p");
    notice.id = "signed-out";
    notice.className = "notice";
    notice.setAttribute("role", "alert");
    const link = document.createElement("a");
    link.href = `/accounts/login/?next=${encodeURIComponent(location.pathname + location.search)}`;
    link.textContent = "Sign in again";
    notice.append("You were signed out, so live updates stopped. ", link, ".");
    (document.querySelector("main") || document.body).prepend(notice);
  }

  // A refused handshake reaches the browser without the server's code, so ask the API.
  async function stillSignedIn() {
    try {
      const response = await fetch("/api/v1/me", { credentials: "same-origin" });
      return response.status !== 401;
    } catch (error) {
      return true;  // Offline or the server is restarting: keep retrying.
    }
  }

  function connect(delay) {
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    const socket = new WebSocket(`${scheme}://${location.host}/ws/generations/`);
    let opened = false;
    socket.addEventListener("open", () => { opened = true; delay = 1000; emit("open"); });
    socket.addEventListener("message", (message) => {
      const event = JSON.parse(message.data);
      emit(event.type, event);
    });
    socket.addEventListener("close", async (closed) => {
      emit("close");
      // This browser's session may have changed (a password change keeps it signed in under a
      // new session), so a 4401 means "check", not "give up".
      if (closed.code === CLOSE_NOT_AUTHENTICATED || !opened) {
        if (!(await stillSignedIn())) {
          emit("signedout");
          showSignedOut();
          return;
        }
      }
      setTimeout(() => connect(Math.min(delay * 2, 30000)), delay);
    });
  }

  document.addEventListener("DOMContentLoaded", () => connect(1000));
  return { on };
})();
