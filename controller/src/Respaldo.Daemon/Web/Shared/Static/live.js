// Respaldo dashboard: optional live updates. Pages work without this script (the
// progress page refreshes itself with <noscript><meta refresh>); with it, elements
// marked data-live="path.to.value" are refreshed from the JSON status API every second.
(function () {
  "use strict";
  var root = document.querySelector("[data-live-source]");
  if (!root) { return; }
  var source = root.getAttribute("data-live-source");
  function pick(obj, path) {
    return path.split(".").reduce(function (o, k) { return o === null || o === undefined ? o : o[k]; }, obj);
  }
  function refresh() {
    fetch(source, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) {
        if (!data) { return; }
        document.querySelectorAll("[data-live]").forEach(function (el) {
          var v = pick(data, el.getAttribute("data-live"));
          var text = v === null || v === undefined ? "—" : String(v);
          if (el.textContent !== text) { el.textContent = text; }
        });
        document.querySelectorAll("[data-live-show]").forEach(function (el) {
          el.hidden = !pick(data, el.getAttribute("data-live-show"));
        });
        document.querySelectorAll("[data-live-hide]").forEach(function (el) {
          el.hidden = !!pick(data, el.getAttribute("data-live-hide"));
        });
      })
      .catch(function () { /* keep the last numbers; try again next second */ });
  }
  refresh();
  setInterval(refresh, 1000);
}());
