// Page behaviour shared by every page. No inline scripts anywhere: the CSP forbids them.
(function () {
  "use strict";
  // Charts: any element with data-chart holds an ECharts option as JSON in a sibling <script type="application/json">.
  function drawCharts(root) {
    if (typeof window.echarts === "undefined") return;
    root.querySelectorAll("[data-chart]").forEach(function (el) {
      var source = document.getElementById(el.dataset.chart);
      if (!source) return;
      var chart = window.echarts.init(el);
      chart.setOption(JSON.parse(source.textContent));
      window.addEventListener("resize", function () { chart.resize(); });
    });
  }
  document.addEventListener("DOMContentLoaded", function () { drawCharts(document); });
  document.body.addEventListener("htmx:afterSwap", function (evt) { drawCharts(evt.target); });
  // Confirm dangerous actions: <button data-confirm="...">.
  document.addEventListener("click", function (evt) {
    var el = evt.target.closest("[data-confirm]");
    if (el && !window.confirm(el.dataset.confirm)) { evt.preventDefault(); }
  });
})();
