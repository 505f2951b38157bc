/* Refreshes the dashboard numbers and bars every 5 seconds from the JSON endpoint.
   Only text and SVG attributes are written (textContent / setAttribute): no HTML. */
(function () {
  "use strict";
  function pick(data, path) {
    return path.split(".").reduce(function (o, k) { return o == null ? o : o[k]; }, data);
  }
  function update(root, data) {
    var cells = {};  // "cell.<id>.x": a quota cell by its id
    (data.districts || []).forEach(function (d) {
      (d.cells || []).forEach(function (c) { cells[c.id] = c; });
    });
    root.querySelectorAll("[data-bind]").forEach(function (el) {
      var path = el.getAttribute("data-bind");
      var v = /^cell\./.test(path)
        ? pick({ cell: cells }, path)
        : pick(data, path.replace(/^district\./, "districts.").replace(/^channel\./, "channels."));
      if (v !== undefined && v !== null) el.textContent = String(v);
    });
    var totals = data.totals || {};
    var bars = { "totals": totals.share };
    (data.districts || []).forEach(function (d, i) {
      bars["district." + i] = d.share;
      (d.cells || []).forEach(function (c) { bars["cell." + c.id] = c.share; });
    });
    root.querySelectorAll("[data-bar]").forEach(function (el) {
      var share = bars[el.getAttribute("data-bar")];
      if (typeof share !== "number") return;
      el.setAttribute("width", String(Math.min(100, share * 100)));
      el.setAttribute("class", share >= 0.9 ? "bar-good" : share >= 0.5 ? "bar-mid" : "bar-low");
    });
  }
  document.addEventListener("DOMContentLoaded", function () {
    var root = document.getElementById("dashboard");
    if (!root || !window.fetch) return;
    var url = root.getAttribute("data-url");
    function tick() {
      fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (data) { if (data) update(root, data); })
        .catch(function () { /* offline for a moment: try again next tick */ });
    }
    setInterval(tick, 5000);
  });
})();
