// "Copy summary": copies a block's text to the clipboard. Served from /static (the CSP allows
// no inline script). Without this script the block is still there to select by hand.
(function () {
  "use strict";

  function selectText(element) {
    var range = document.createRange();
    range.selectNodeContents(element);
    var selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
  }

  function wire(button) {
    var target = document.getElementById(button.getAttribute("data-copy-target"));
    var status = document.getElementById(button.getAttribute("data-copy-status"));
    if (!target || !status) {
      return;
    }
    function fallback() {
      selectText(target);
      status.textContent = "Could not copy automatically. The summary is selected: press Ctrl+C (or Cmd+C) to copy it.";
    }
    button.addEventListener("click", function () {
      var text = target.textContent;
      status.textContent = "";
      if (!navigator.clipboard || !window.isSecureContext) {
        fallback();
        return;
      }
      navigator.clipboard.writeText(text).then(function () {
        status.textContent = "Summary copied. Paste it into the ticket.";
      }, fallback);
    });
    button.hidden = false;
  }

  document.querySelectorAll("button[data-copy-target]").forEach(wire);
})();
