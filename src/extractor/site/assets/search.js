// Pagefind's UI on the search page; `?q=` runs a search on arrival (tag links point here).
(function () {
  "use strict";
  if (!window.PagefindUI) return;
  var base = new URL(".", window.location.href).pathname;
  var ui = new window.PagefindUI({ element: "#xs-search", baseUrl: base, bundlePath: base + "pagefind/",
    showSubResults: true, showImages: false, resetStyles: false });
  var q = new URLSearchParams(window.location.search).get("q");
  if (q) ui.triggerSearch(q);
})();
