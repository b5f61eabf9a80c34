// "Print": buttons marked data-print open the browser's print dialog. Served from /static
// (the CSP allows no inline script); without it, the browser's own Print does the same.
(function () {
  "use strict";
  document.querySelectorAll("[data-print]").forEach(function (button) {
    button.hidden = false;
    button.addEventListener("click", function () {
      window.print();
    });
  });
})();
