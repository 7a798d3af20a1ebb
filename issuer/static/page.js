// The learner's page: a "copy link" button where the browser can copy (the link stays selectable without it).
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-copy]").forEach(function (button) {
      var field = document.querySelector(button.getAttribute("data-copy"));
      if (!field || !navigator.clipboard) return;
      var label = button.textContent;
      button.hidden = false;
      button.addEventListener("click", function () {
        navigator.clipboard.writeText(field.value).then(function () {
          button.textContent = button.getAttribute("data-copied");
          setTimeout(function () { button.textContent = label; }, 2000);
        });
      });
    });
  });
})();
