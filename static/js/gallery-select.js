// The gallery's selection (a count, select all, the bulk buttons enabled only with something
// selected) and its stars, sent in place. Without scripts both still work as plain forms.
(function () {
  "use strict";
  const form = document.getElementById("bulk-form");
  if (form) {
    const boxes = () => [...document.querySelectorAll('input[name="ids"][form="bulk-form"]')];
    const all = document.getElementById("select-all");
    const count = document.getElementById("selected-count");
    const show = () => {
      const chosen = boxes().filter((box) => box.checked).length;
      count.textContent = chosen ? `${chosen} selected` : "None selected";
      for (const id of ["bulk-download", "bulk-delete"]) document.getElementById(id).disabled = !chosen;
      all.checked = chosen > 0 && chosen === boxes().length;
      all.indeterminate = chosen > 0 && chosen < boxes().length;
      for (const box of boxes()) box.closest(".gallery-item").classList.toggle("selected", box.checked);
    };
    document.addEventListener("change", (event) => {
      if (event.target === all) for (const box of boxes()) box.checked = all.checked;
      if (event.target === all || event.target.matches('input[name="ids"]')) show();
    });
    show();
  }

  document.addEventListener("submit", async (event) => {
    const star = event.target.closest(".favourite-form");
    if (!star) return;
    event.preventDefault();
    const value = star.elements.favourite;
    const button = star.querySelector(".favourite");
    try {
      const response = await fetch(star.action, {
        method: "POST", body: new FormData(star), credentials: "same-origin",
        headers: { Accept: "application/json" },
      });
      if (!response.ok) return;
      const { favourite } = await response.json();
      button.setAttribute("aria-pressed", String(favourite));
      button.title = favourite ? "Remove from favourites" : "Add to favourites";
      value.value = favourite ? "0" : "1";
    } catch (error) {
      star.submit();  // No answer: the plain form tries instead.
    }
  });
})();
