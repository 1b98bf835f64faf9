// Pagefind's UI on the search page, over every shard (newest first; see extractor/site/_search.py);
// `?q=` runs a search on arrival (tag links point here).
(function () {
  "use strict";
  var el = document.getElementById("xs-search");
  if (!el || !window.PagefindUI) return;
  var base = new URL(".", window.location.href).pathname;
  var shards = el.getAttribute("data-shards").split(" ");
  var ui = new window.PagefindUI({
    element: "#xs-search", baseUrl: base, bundlePath: base + "pagefind/" + shards[0] + "/",
    mergeIndex: shards.slice(1).map(function (s) { return { bundlePath: base + "pagefind/" + s + "/" }; }),
    showSubResults: true, showImages: false, resetStyles: false
  });
  var q = new URLSearchParams(window.location.search).get("q");
  if (q) ui.triggerSearch(q);
})();
