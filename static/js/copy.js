// The member page's buttons: "Copy summary", "Copy link" and "Print". Served from /static
// (the CSP allows no inline script). Without this script the buttons stay hidden: the
// summary can be selected by hand, the address bar copied, and the browser's Print used.
(function () {
  "use strict";

  function selectText(element) {
    var range = document.createRange();
    range.selectNodeContents(element);
    var selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
  }

  function copy(text, status, done, fallback) {
    status.textContent = "";
    if (!navigator.clipboard || !window.isSecureContext) {
      fallback();
      return;
    }
    navigator.clipboard.writeText(text).then(function () {
      status.textContent = done;
    }, fallback);
  }

  function wireSummary(button) {
    var target = document.getElementById(button.getAttribute("data-copy-target"));
    var status = document.getElementById(button.getAttribute("data-copy-status"));
    if (!target || !status) {
      return;
    }
    button.addEventListener("click", function () {
      copy(target.textContent, status, "Summary copied. Paste it into the ticket.", function () {
        selectText(target);
        status.textContent = "Could not copy automatically. The summary is selected: press Ctrl+C (or Cmd+C) to copy it.";
      });
    });
    button.hidden = false;
  }

  function wireLink(button) {
    var status = document.getElementById(button.getAttribute("data-copy-status"));
    if (!status) {
      return;
    }
    button.addEventListener("click", function () {
      var link = window.location.href;
      copy(link, status, "Link copied. It names the member id only; colleagues must sign in to open it.", function () {
        status.textContent = "Could not copy automatically: copy the address from the address bar.";
      });
    });
    button.hidden = false;
  }

  function wirePrint(button) {
    button.addEventListener("click", function () {
      window.print();
    });
    button.hidden = false;
  }

  // A one-time link in a read-only box (the staff pages): copy its value.
  function wireInput(button) {
    var input = document.getElementById(button.getAttribute("data-copy-input"));
    var status = document.getElementById(button.getAttribute("data-copy-status"));
    if (!input || !status) {
      return;
    }
    button.addEventListener("click", function () {
      copy(input.value, status, "Link copied. Hand it over by your usual secure channel.", function () {
        input.select();
        status.textContent = "Could not copy automatically. The link is selected: press Ctrl+C (or Cmd+C) to copy it.";
      });
    });
    button.hidden = false;
  }

  document.querySelectorAll("button[data-copy-input]").forEach(wireInput);
  document.querySelectorAll("button[data-copy-target]").forEach(wireSummary);
  document.querySelectorAll("button[data-copy-link]").forEach(wireLink);
  document.querySelectorAll("button[data-print]").forEach(wirePrint);
})();
