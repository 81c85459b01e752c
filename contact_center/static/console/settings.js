/* Console settings pages: the Copy buttons of the embed snippets (templates/console/settings_inboxes.html). */
(function () {
  "use strict";
  document.querySelectorAll("button[data-copy]").forEach(function (button) {
    var code = document.getElementById(button.dataset.copy);
    var status = button.closest("section").querySelector(".copy-status");
    button.addEventListener("click", function () {
      // The clipboard API needs a secure context and the browser's consent; without them the snippet is
      // selected, so Ctrl+C (or the long-press menu) copies it.
      var copying = navigator.clipboard ? navigator.clipboard.writeText(code.value) : Promise.reject(new Error("no clipboard"));
      copying.then(function () {
        status.textContent = "Copied";
      }, function () {
        code.focus();
        code.select();
        status.textContent = "Selected: press Ctrl+C (⌘C on a Mac) to copy";
      });
    });
  });
})();
