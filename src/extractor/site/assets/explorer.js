// The signals explorer: filter and sort every weak-signal row, rendered with textContent (never innerHTML)
// so that model text stays text.
(function () {
  "use strict";
  var data = window.XS_SIGNALS || { scans: [], rows: [] };
  var form = document.getElementById("xs-filters");
  var body = document.querySelector("#xs-signals tbody");
  var count = document.getElementById("xs-count");
  var more = document.getElementById("xs-more");
  if (!form || !body) return;
  var PAGE = 200, shown = PAGE, sortKey = 3, sortDir = -1, filtered = [];
  // One flat record per row: [name, category, relevancy, date, status, scan title, scan id, origin].
  var rows = data.rows.map(function (r) {
    var s = data.scans[r[1]];
    return [r[0], s[4], r[2], s[3], r[3], s[1], s[0], s[2]];
  });
  function value(name) { return form.elements[name].value; }
  function apply() {
    var q = value("q").toLowerCase(), cat = value("category"), rel = value("relevancy");
    var from = value("from"), to = value("to"), st = value("status");
    filtered = rows.filter(function (r) {
      if (cat && r[1] !== cat) return false;
      if (rel !== "" && !(r[2] !== null && r[2] >= Number(rel))) return false;
      if (from && (!r[3] || r[3].slice(0, 7) < from)) return false;
      if (to && (!r[3] || r[3].slice(0, 7) > to)) return false;
      if (st && r[4] !== st) return false;
      if (q && r[0].toLowerCase().indexOf(q) < 0 && r[5].toLowerCase().indexOf(q) < 0) return false;
      return true;
    });
    var k = sortKey === 5 ? 5 : sortKey;
    filtered.sort(function (a, b) {
      var x = a[k], y = b[k];
      if (x === y) return 0;
      if (x === null || x === "") return 1;
      if (y === null || y === "") return -1;
      return (x < y ? -1 : 1) * sortDir;
    });
    shown = PAGE;
    draw();
  }
  function cell(tr, text) { var td = document.createElement("td"); td.textContent = text; tr.appendChild(td); return td; }
  function draw() {
    var frag = document.createDocumentFragment();
    filtered.slice(0, shown).forEach(function (r) {
      var tr = document.createElement("tr");
      cell(tr, r[0]); cell(tr, r[1]); cell(tr, r[2] === null ? "" : String(r[2])); cell(tr, r[3]); cell(tr, r[4]);
      var td = cell(tr, ""), a = document.createElement("a");
      a.href = "scans/" + r[6] + ".html"; a.textContent = r[5] || "(untitled)"; td.appendChild(a);
      frag.appendChild(tr);
    });
    body.replaceChildren(frag);
    count.textContent = "Showing " + Math.min(shown, filtered.length) + " of " + filtered.length +
      " matching signals (" + rows.length + " in all).";
    more.hidden = shown >= filtered.length;
  }
  form.addEventListener("input", apply);
  more.addEventListener("click", function () { shown += PAGE; draw(); });
  document.querySelectorAll("#xs-signals th[data-key]").forEach(function (th) {
    th.addEventListener("click", function () {
      var k = Number(th.getAttribute("data-key"));
      sortDir = k === sortKey ? -sortDir : 1;
      sortKey = k;
      document.querySelectorAll("#xs-signals th").forEach(function (o) { o.removeAttribute("aria-sort"); });
      th.setAttribute("aria-sort", sortDir > 0 ? "ascending" : "descending");
      apply();
    });
  });
  apply();
})();
