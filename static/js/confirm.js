// Asks before a form that destroys something submits: <form data-confirm="Revoke the key?">.
// The site's Content-Security-Policy runs no inline handlers, so the question lives here.
(function () {
  "use strict";
  document.addEventListener("submit", function (event) {
    const form = event.target.closest("form[data-confirm]");
    if (form && !window.confirm(form.dataset.confirm)) event.preventDefault();
  });
  // A read-only field meant for copying (a share link) selects itself when clicked.
  document.addEventListener("focusin", function (event) {
    if (event.target.matches("input[data-select-on-focus]")) event.target.select();
  });
  document.addEventListener("click", function (event) {
    if (event.target.matches("input[data-select-on-focus]")) event.target.select();
  });
})();
