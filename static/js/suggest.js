// Search suggestions for a text input: <input list="ID" data-suggest> and
// <datalist id="ID" data-source="URL">. The URL answers {"results": [{"name", "extra"}]}.
(function () {
  "use strict";
  function attach(input) {
    var list = document.getElementById(input.getAttribute("list"));
    if (!list || !list.dataset.source) return;
    var timer = null;
    var last = "";
    input.addEventListener("input", function () {
      var q = input.value.trim();
      if (timer) window.clearTimeout(timer);
      if (!q || q === last) return;
      timer = window.setTimeout(function () {
        last = q;
        var url = list.dataset.source + "?q=" + encodeURIComponent(q);
        fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
          .then(function (response) { return response.ok ? response.json() : { results: [] }; })
          .then(function (data) {
            list.replaceChildren();
            data.results.forEach(function (hit) {
              var option = document.createElement("option");
              option.value = hit.name;
              if (hit.extra) option.label = hit.extra;
              list.appendChild(option);
            });
          })
          .catch(function () { /* suggestions are a convenience; typing still works */ });
      }, 200);
    });
  }
  document.querySelectorAll("input[data-suggest][list]").forEach(attach);
})();
