/* tonecheck pages: what the report and the live page share. Every piece of post text goes
   into the page through textContent or a text node, never as HTML: posts are hostile input. */
"use strict";
var TC = (function () {
  var texts = JSON.parse(document.getElementById("tc-texts").textContent);
  var nf1 = new Intl.NumberFormat("fr-FR", { maximumFractionDigits: 1, minimumFractionDigits: 1 });
  var nf2 = new Intl.NumberFormat("fr-FR", { maximumFractionDigits: 2, minimumFractionDigits: 2, signDisplay: "always" });
  var nf0 = new Intl.NumberFormat("fr-FR");

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }

  function rgba(hex, alpha) {
    var n = parseInt(hex.slice(1), 16);
    return "rgba(" + (n >> 16) + "," + ((n >> 8) & 255) + "," + (n & 255) + "," + alpha + ")";
  }

  /* Evidence offsets count code points (as Python does); JavaScript strings count UTF-16
     units. Returns the UTF-16 offset of each code-point index 0..n. */
  function utf16Offsets(text) {
    if (!/[\uD800-\uDFFF]/.test(text)) return null; // same offsets
    var out = [0], u = 0;
    for (var ch of text) { u += ch.length; out.push(u); }
    return out;
  }

  /* Fills `box` with `text`, the evidence spans ([start, end, weight], code points) in <mark>s
     coloured by `label`, the weight in each one's tooltip. Overlapping or out-of-range spans
     are skipped. */
  function highlight(box, text, evidence, label) {
    box.textContent = "";
    var colour = texts.colours[label] || "#616161";
    var spans = (evidence || []).slice().sort(function (a, b) { return a[0] - b[0]; });
    var maxW = 0;
    spans.forEach(function (s) { if (s[2] > maxW) maxW = s[2]; });
    var map = utf16Offsets(text);
    var pos = 0, cpPos = 0, count = 0;
    spans.forEach(function (s) {
      if (s[0] < cpPos || s[1] <= s[0]) return;
      var a = map ? map[s[0]] : s[0], b = map ? map[s[1]] : s[1];
      if (a === undefined || b === undefined || b > text.length) return;
      if (a > pos) box.appendChild(document.createTextNode(text.slice(pos, a)));
      var m = el("mark", "ev", text.slice(a, b));
      var share = maxW > 0 ? s[2] / maxW : 1;
      m.style.backgroundColor = rgba(colour, (0.18 + 0.5 * share).toFixed(2));
      m.style.borderBottomColor = colour;
      m.dataset.weight = String(s[2]);
      m.title = "poids " + nf2.format(s[2]) + " vers " + label;
      box.appendChild(m);
      pos = b; cpPos = s[1]; count++;
    });
    if (pos < text.length) box.appendChild(document.createTextNode(text.slice(pos)));
    return count;
  }

  /* The four probabilities as small bars, in the guide's order; `scores` maps label -> p. */
  function bars(scores, label) {
    var grid = el("div", "probs");
    grid.setAttribute("role", "list");
    texts.labels.forEach(function (lab) {
      var p = scores[lab] || 0;
      var name = el("span", "name" + (lab === label ? " top" : ""), lab);
      var track = el("span", "track");
      var fill = el("span", "fill");
      fill.style.display = "block";
      fill.style.width = (100 * p).toFixed(1) + "%";
      fill.style.backgroundColor = texts.colours[lab];
      track.appendChild(fill);
      var pct = el("span", "pct", nf1.format(100 * p) + " %");
      var row = [name, track, pct];
      row.forEach(function (x) { grid.appendChild(x); });
      track.setAttribute("role", "listitem");
      track.setAttribute("aria-label", lab + " " + nf1.format(100 * p) + " %");
      track.dataset.label = lab;
      track.dataset.p = String(p);
    });
    return grid;
  }

  function reasonText(code) { return texts.reasons[code] || code; }

  function reasons(codes) {
    var ul = el("ul", "reasons");
    codes.forEach(function (c) {
      var li = el("li", null, reasonText(c));
      li.dataset.reason = c;
      ul.appendChild(li);
    });
    return ul;
  }

  function badge(label) {
    var b = el("span", "badge badge-" + (label || "error"), label || "non évalué");
    b.dataset.role = "label";
    return b;
  }

  function wireGuide() {
    var dlg = document.getElementById("guide");
    document.querySelectorAll("[data-open-guide]").forEach(function (b) {
      b.addEventListener("click", function () { dlg.showModal(); });
    });
    dlg.querySelector("[data-close]").addEventListener("click", function () { dlg.close(); });
    dlg.addEventListener("click", function (e) { if (e.target === dlg) dlg.close(); });
  }

  return { texts: texts, el: el, highlight: highlight, bars: bars, reasons: reasons, reasonText: reasonText,
           badge: badge, wireGuide: wireGuide, nf0: nf0, nf1: nf1, nf2: nf2 };
})();
