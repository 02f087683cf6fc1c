// The e-card page: fetch a fresh signed token (GET /api/v1/card/me) before the shown one runs
// out, so a screenshot of the QR goes stale within minutes.
(function () {
  "use strict";
  var box = document.querySelector("[data-ecard]");
  if (!box) return;
  var img = box.querySelector("[data-ecard-qr]");
  var left = box.querySelector("[data-ecard-left]");
  var period = Math.max(30, parseInt(box.getAttribute("data-seconds"), 10) - 60);
  var remaining = period;

  function refresh() {
    fetch(box.getAttribute("data-api"), { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { return r.ok ? r.json() : Promise.reject(r.status); })
      .then(function (data) {
        img.src = data.qr;
        img.setAttribute("data-token", data.token);
        remaining = period;
      })
      .catch(function () { window.location.reload(); });
  }

  window.setInterval(function () {
    remaining -= 1;
    if (left) left.textContent = String(Math.max(0, remaining));
    if (remaining <= 0) refresh();
  }, 1000);
})();
