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

  // Reconnecting waits 1 s, doubling to at most 30 s while the server stays away, each wait
  // jittered so that the pages cut off by one restart do not all knock at the same moment.
  const FIRST_DELAY = 1000;
  const MAX_DELAY = 30000;
  // A socket that closes sooner than this after opening keeps backing off.
  const STABLE_MS = 10000;

  function jittered(delay) {
    return delay / 2 + Math.random() * (delay / 2);
  }

  function connect(delay) {
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    // The live-events server may be elsewhere than the pages (LIVE_EVENTS_URL).
    const url = document.body.dataset.liveEventsUrl || `${scheme}://${location.host}/ws/generations/`;
    const socket = new WebSocket(url);
    let openedAt = null;
    // Pages refetch what they show on every "open": events sent while no socket was open
    // (a restart of the server or of Redis) are gone, and the API has the current state.
    socket.addEventListener("open", () => { openedAt = Date.now(); emit("open"); });
    socket.addEventListener("message", (message) => {
      const event = JSON.parse(message.data);
      emit(event.type, event);
    });
    socket.addEventListener("close", async (closed) => {
      emit("close");
      // This browser's session may have changed (a password change keeps it signed in under a
      // new session), so a 4401 means "check", not "give up".
      if (closed.code === CLOSE_NOT_AUTHENTICATED || openedAt === null) {
        if (!(await stillSignedIn())) {
          emit("signedout");
          showSignedOut();
          return;
        }
      }
      if (openedAt !== null && Date.now() - openedAt >= STABLE_MS) delay = FIRST_DELAY;
      setTimeout(() => connect(Math.min(delay * 2, MAX_DELAY)), jittered(delay));
    });
  }

  document.addEventListener("DOMContentLoaded", () => connect(FIRST_DELAY));
  return { on };
})();
