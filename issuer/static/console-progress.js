// A cohort's progress page: asks for the numbers every second and shows them; reloads the page once the job
// has finished, so the result links and the rows that failed appear. Without JavaScript the page refreshes itself.
(function () {
  "use strict";
  var box = document.getElementById("progress");
  if (!box || !box.dataset.url || !box.dataset.running) return;
  var bar = document.getElementById("bar");
  function show(numbers) {
    Object.keys(numbers).forEach(function (name) {
      var cell = box.querySelector('[data-count="' + name + '"]');
      if (cell) cell.textContent = String(numbers[name]);
    });
    if (bar) { bar.max = numbers.total || 1; bar.value = numbers.done; bar.textContent = numbers.done + " / " + numbers.total; }
  }
  function poll() {
    fetch(box.dataset.url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (numbers) {
        if (!numbers) { window.setTimeout(poll, 3000); return; }
        show(numbers);
        if (numbers.finished || numbers.state === "done") { window.location.reload(); return; }
        window.setTimeout(poll, 1000);
      })
      .catch(function () { window.setTimeout(poll, 3000); });
  }
  window.setTimeout(poll, 1000);
})();
