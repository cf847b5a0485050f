/* tonecheck review report: filters, search, sort and pages over the embedded rows.
   A row is [index, label|null, scores|null (in meta.score_order), needs_review (0/1),
   reasons [], text, evidence [[start, end, weight]], error, [column values]]. */
"use strict";
(function () {
  var data = JSON.parse(document.getElementById("tc-data").textContent);
  var meta = data.meta, rows = data.rows, columns = meta.columns;
  var I = 0, LABEL = 1, SCORES = 2, REVIEW = 3, REASONS = 4, TEXT = 5, EVIDENCE = 6, ERROR = 7, COLS = 8;
  var tdIndex = meta.score_order.indexOf("tone-deaf");
  var $ = function (id) { return document.getElementById(id); };
  var state = { label: "", review: "", reason: "", query: "", sort: "risk", page: 0, size: 50 };
  var folded = null; // search keys, built on the first search

  function top(r) { return r[SCORES] ? Math.max.apply(null, r[SCORES]) : -1; }
  function td(r) { return r[SCORES] ? r[SCORES][tdIndex] : -1; }
  /* Risk first: tone-deaf to review, tone-deaf, to review, not assessed, the rest. */
  function risk(r) {
    if (r[LABEL] === "tone-deaf") return r[REVIEW] ? 0 : 1;
    if (r[LABEL] === null) return 3;
    return r[REVIEW] ? 2 : 4;
  }
  function fold(s) { return s.normalize("NFD").replace(/[\u0300-\u036f]/g, "").toLowerCase(); }

  var collator = new Intl.Collator("fr", { numeric: true, sensitivity: "base" });
  var sorters = {
    risk: function (a, b) { return risk(a) - risk(b) || td(b) - td(a) || a[I] - b[I]; },
    file: function (a, b) { return a[I] - b[I]; },
    td: function (a, b) { return td(b) - td(a) || a[I] - b[I]; },
    "conf-asc": function (a, b) { return (a[SCORES] ? 0 : 1) - (b[SCORES] ? 0 : 1) || top(a) - top(b) || a[I] - b[I]; },
    "conf-desc": function (a, b) { return top(b) - top(a) || a[I] - b[I]; }
  };
  function sorter(key) {
    if (sorters[key]) return sorters[key];
    var m = /^col:(\d+):(asc|desc)$/.exec(key);
    if (!m) return sorters.risk;
    var k = +m[1], sign = m[2] === "asc" ? 1 : -1;
    return function (a, b) {
      var x = a[COLS][k], y = b[COLS][k];
      if (x === "" && y !== "") return 1;
      if (y === "" && x !== "") return -1;
      return sign * collator.compare(x, y) || a[I] - b[I];
    };
  }

  function matches(r, terms) {
    if (state.label === "error" ? r[LABEL] !== null : state.label && r[LABEL] !== state.label) return false;
    if (state.review === "yes" && !r[REVIEW]) return false;
    if (state.review === "no" && r[REVIEW]) return false;
    if (state.reason && r[REASONS].indexOf(state.reason) < 0 && !(state.reason === "error" && r[LABEL] === null)) return false;
    if (terms.length) {
      var hay = folded[r[I]];
      for (var t = 0; t < terms.length; t++) if (hay.indexOf(terms[t]) < 0) return false;
    }
    return true;
  }

  var current = [];
  function apply() {
    var terms = fold(state.query).split(/\s+/).filter(Boolean);
    if (terms.length && !folded) {
      folded = new Array(rows.length);
      rows.forEach(function (r) { folded[r[I]] = fold(r[TEXT] + "\n" + r[COLS].join("\n")); });
    }
    current = rows.filter(function (r) { return matches(r, terms); }).sort(sorter(state.sort));
    var pages = Math.max(1, Math.ceil(current.length / state.size));
    if (state.page >= pages) state.page = pages - 1;
    render();
  }

  function card(r, rank) {
    var c = TC.el("article", "card");
    c.dataset.label = r[LABEL] || "error";
    c.dataset.review = r[REVIEW] ? "1" : "0";
    c.dataset.index = String(r[I]);
    var head = TC.el("div", "head");
    head.appendChild(TC.el("span", "rank", "#" + TC.nf0.format(rank)));
    head.appendChild(TC.badge(r[LABEL]));
    if (r[REVIEW]) head.appendChild(TC.el("span", "badge badge-review", "à revoir"));
    var line = TC.el("span", "muted", "n° " + TC.nf0.format(r[I] + 1) + " du fichier");
    head.appendChild(line);
    c.appendChild(head);

    var left = TC.el("div", "body");
    var text = TC.el("p", "post-text");
    if (r[LABEL]) TC.highlight(text, r[TEXT], r[EVIDENCE], r[LABEL]); else text.textContent = r[TEXT];
    left.appendChild(text);
    if (r[ERROR]) left.appendChild(TC.el("p", "err", "Erreur : " + r[ERROR]));
    var codes = r[REASONS].slice();
    if (r[LABEL] === null && codes.indexOf("error") < 0) codes.push("error");
    if (r[REVIEW] && codes.length) left.appendChild(TC.reasons(codes));
    c.appendChild(left);

    var right = TC.el("div", "side");
    if (r[SCORES]) {
      var scores = {};
      meta.score_order.forEach(function (lab, k) { scores[lab] = r[SCORES][k]; });
      right.appendChild(TC.bars(scores, r[LABEL]));
    }
    c.appendChild(right);

    if (columns.length) {
      var dl = TC.el("dl", "cols");
      columns.forEach(function (name, k) {
        var v = r[COLS][k];
        if (v === "") return;
        var d = TC.el("div");
        d.appendChild(TC.el("dt", null, name));
        d.appendChild(TC.el("dd", null, v.length > 300 ? v.slice(0, 299) + "…" : v));
        dl.appendChild(d);
      });
      c.appendChild(dl);
    }
    return c;
  }

  function pager(box) {
    box.textContent = "";
    var pages = Math.max(1, Math.ceil(current.length / state.size));
    var count = TC.el("span", "count");
    count.dataset.role = "count";
    count.textContent = TC.nf0.format(current.length) + (current.length > 1 ? " brouillons" : " brouillon") +
      (current.length === rows.length ? "" : " sur " + TC.nf0.format(rows.length));
    box.appendChild(count);
    function button(label, page, name) {
      var b = TC.el("button", null, label);
      b.type = "button";
      b.dataset.page = name;
      b.disabled = page < 0 || page >= pages || page === state.page;
      b.addEventListener("click", function () { state.page = page; render(); $("drafts-title").scrollIntoView(); });
      box.appendChild(b);
    }
    button("« première", 0, "first");
    button("‹ précédente", state.page - 1, "prev");
    var where = TC.el("span", null, "page " + TC.nf0.format(state.page + 1) + " sur " + TC.nf0.format(pages));
    where.dataset.role = "page";
    box.appendChild(where);
    button("suivante ›", state.page + 1, "next");
    button("dernière »", pages - 1, "last");
    var size = TC.el("select");
    size.setAttribute("aria-label", "brouillons par page");
    [25, 50, 100, 200].forEach(function (n) {
      var o = TC.el("option", null, n + " par page");
      o.value = String(n);
      if (n === state.size) o.selected = true;
      size.appendChild(o);
    });
    size.addEventListener("change", function () { state.size = +size.value; state.page = 0; render(); });
    box.appendChild(size);
  }

  function render() {
    var box = $("cards");
    box.textContent = "";
    var start = state.page * state.size;
    var slice = current.slice(start, start + state.size);
    if (!slice.length) box.appendChild(TC.el("p", "empty", "Aucun brouillon ne correspond à ces filtres."));
    var frag = document.createDocumentFragment();
    slice.forEach(function (r, k) { frag.appendChild(card(r, start + k + 1)); });
    box.appendChild(frag);
    pager($("pager-top"));
    pager($("pager-bottom"));
  }

  function bind(id, key, event) {
    $(id).addEventListener(event || "change", function () { state[key] = $(id).value; state.page = 0; apply(); });
  }
  bind("f-label", "label");
  bind("f-review", "review");
  bind("f-reason", "reason");
  bind("f-sort", "sort");
  var timer = null;
  $("f-search").addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(function () { state.query = $("f-search").value; state.page = 0; apply(); }, 200);
  });
  $("filters").addEventListener("submit", function (e) { e.preventDefault(); });
  $("f-reset").addEventListener("click", function () {
    ["f-label", "f-review", "f-reason", "f-search"].forEach(function (id) { $(id).value = ""; });
    $("f-sort").value = "risk";
    state.label = state.review = state.reason = state.query = ""; state.sort = "risk"; state.page = 0;
    apply();
  });
  /* The summary's bars and reasons filter the list. */
  document.querySelectorAll("[data-filter-label], [data-filter-reason]").forEach(function (node) {
    function go() {
      if (node.dataset.filterLabel !== undefined) { state.label = node.dataset.filterLabel; $("f-label").value = state.label; }
      if (node.dataset.filterReason !== undefined) {
        state.reason = node.dataset.filterReason; $("f-reason").value = state.reason;
        state.review = "yes"; $("f-review").value = "yes";
      }
      state.page = 0; apply(); $("drafts-title").scrollIntoView();
    }
    node.addEventListener("click", go);
    node.addEventListener("keydown", function (e) { if (e.key === "Enter" || e.key === " ") { e.preventDefault(); go(); } });
  });
  TC.wireGuide();
  apply();
  window.tonecheckReady = performance.now();
  document.documentElement.dataset.ready = "1";
})();
