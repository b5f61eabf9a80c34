// A lookup in progress shows it: a form marked data-busy-text disables its submit button
// and says so on it ("Looking up...") once sent, so a 2-4 s wait does not look frozen and
// a second Enter sends nothing twice. Without script the form posts just the same.
(function () {
  "use strict";
  document.querySelectorAll("form[data-busy-text]").forEach(function (form) {
    var button = form.querySelector("[type=submit]");
    if (!button) {
      return;
    }
    var label = button.tagName === "INPUT" ? button.value : button.textContent;
    function show(text) {
      if (button.tagName === "INPUT") {
        button.value = text;
      } else {
        button.textContent = text;
      }
    }
    form.addEventListener("submit", function (event) {
      if (form.getAttribute("aria-busy") === "true") {
        event.preventDefault(); // already on its way
        return;
      }
      form.setAttribute("aria-busy", "true");
      show(form.getAttribute("data-busy-text"));
      // After this turn: a submitter disabled during the event would be left out of the post.
      window.setTimeout(function () {
        button.disabled = true;
      }, 0);
    });
    // Back from the member page (the browser's page cache): ready for the next lookup.
    window.addEventListener("pageshow", function () {
      form.removeAttribute("aria-busy");
      button.disabled = false;
      show(label);
    });
  });
})();
