// The page's large balance follows the header's, which live.js keeps current; data-live says
// whether updates are arriving (the header alone can't tell a quiet feed from a broken one).
// On the checkout success page, data-balance-before on #arrival says when the credits landed.
window.rollerLive.on("open", () => { document.documentElement.dataset.live = "open"; });
window.rollerLive.on("close", () => { document.documentElement.dataset.live = "closed"; });
window.rollerLive.on("balance", (event) => {
  const large = document.getElementById("balance-large");
  if (large) large.textContent = event.credits;
  const arrival = document.getElementById("arrival");
  if (arrival && arrival.dataset.balanceBefore && event.credits > Number(arrival.dataset.balanceBefore)) {
    arrival.textContent = "Your credits have arrived.";
  }
});
