// Small conveniences of the verifier's pages; each page also works without them.
(function () {
  "use strict";

  // A permalink to the verdict of a pasted token carries it after "#credential=": browsers never send the
  // fragment, so the token reaches the verifier only in the body of this form, and no address or log holds it.
  function submitFromFragment() {
    var fragment = new URLSearchParams(window.location.hash.slice(1));
    var value = fragment.get("credential");
    var form = document.querySelector("form[data-verify-form]");
    if (!value || !form) return;
    form.querySelector("textarea[name=credential]").value = value;
    history.replaceState(null, "", window.location.pathname + window.location.search);
    form.submit();
  }

  // Printing the receipt shows every check, folded or not.
  function printing() {
    var button = document.querySelector("[data-print]");
    if (button) {
      button.hidden = false;
      button.addEventListener("click", function () { window.print(); });
    }
    window.addEventListener("beforeprint", function () {
      document.querySelectorAll("details[data-open-on-print]").forEach(function (details) { details.open = true; });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    submitFromFragment();
    printing();
  });
})();
