/* Refreshes the dashboard numbers and bars every 5 seconds from the JSON endpoint.
   Only text and SVG attributes are written (textContent / setAttribute): no HTML. */
(function () {
  "use strict";
  function pick(data, path) {
    return path.split(".").reduce(function (o, k) { return o == null ? o : o[k]; }, data);
  }
  // What the page was drawn with: its quota plan (when it was made) and its
  // channels (one row each). Cells are bound by id, and a remade plan's cells
  // may take the old ids (SQLite) for other cells: compare the plan, not ids.
  function drawn(root) {
    var channels = {};
    root.querySelectorAll("[data-bind^='channel.']").forEach(function (el) {
      channels[el.getAttribute("data-bind").split(".")[1]] = true;
    });
    return { plan: root.getAttribute("data-plan"), channels: Object.keys(channels).length };
  }
  function update(root, data, page) {
    var cells = {};  // "cell.<id>.x": a quota cell by its id
    (data.districts || []).forEach(function (d) {
      (d.cells || []).forEach(function (c) { cells[c.id] = c; });
    });
    // A plan remade or a channel added since the page was drawn: the page has
    // no rows for the new ones; after a remake, its cell rows are no longer the
    // plan's, and are left as they were rather than given other cells' numbers.
    var planChanged = String((data.wave || {}).plan_version) !== page.plan;
    var stale = document.getElementById("dashboard-stale");
    if (stale && (planChanged || (data.channels || []).length !== page.channels)) {
      stale.hidden = false;
    }
    if (planChanged) return;
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
    var page = drawn(root);
    function tick() {
      fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (data) { if (data) update(root, data, page); })
        .catch(function () { /* offline for a moment: try again next tick */ });
    }
    setInterval(tick, 5000);
  });
})();
