/* tonecheck live page: assesses the draft ~300 ms after the last keystroke. Only the answer
   to the latest text is shown; an older answer arriving late is dropped. */
"use strict";
(function () {
  var $ = function (id) { return document.getElementById(id); };
  var draft = $("draft"), result = $("result");
  var MAX = TC.texts.max_text_length, DEBOUNCE_MS = 300;
  var timer = null, seq = 0, controller = null;

  function setState(state) { result.dataset.state = state; }
  function status(text) { $("status").textContent = text; }

  function showEmpty() {
    setState("empty");
    delete result.dataset.label;
    $("verdict").hidden = true; $("error").hidden = true; $("empty-note").hidden = false;
    status("");
  }

  function showError(message) {
    setState("error");
    $("error").textContent = message;
    $("error").hidden = false; $("verdict").hidden = true; $("empty-note").hidden = true;
    status("");
  }

  function show(text, r) {
    setState("done");
    result.dataset.label = r.label;
    result.dataset.text = text;
    var label = $("label");
    label.textContent = r.label;
    label.className = "badge big badge-" + r.label;
    $("label-desc").textContent = TC.texts.short[r.label] || "";
    $("review-flag").hidden = !r.needs_review;
    var reasons = $("reasons");
    reasons.textContent = "";
    if (r.needs_review) {
      r.review_reasons.forEach(function (code) {
        var li = TC.el("li", null, TC.reasonText(code));
        li.dataset.reason = code;
        reasons.appendChild(li);
      });
    }
    var spans = r.evidence.map(function (e) { return [e.start, e.end, e.weight]; });
    TC.highlight($("evidence-text"), text, spans, r.label);
    var probs = $("probs");
    probs.textContent = "";
    probs.appendChild(TC.bars(r.scores, r.label));
    $("verdict").hidden = false; $("error").hidden = true; $("empty-note").hidden = true;
    status("");
  }

  function run() {
    var text = draft.value;
    if (controller) controller.abort();
    if (!text.trim()) { seq++; showEmpty(); return; }
    if (text.length > MAX) {
      seq++;
      showError("Le texte fait " + TC.nf0.format(text.length) + " caractères ; le maximum est " + TC.nf0.format(MAX) + ".");
      return;
    }
    var mine = ++seq;
    controller = new AbortController();
    setState("loading");
    status("Analyse…");
    fetch("/v1/assess", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ text: text }),
      signal: controller.signal
    }).then(function (resp) {
      return resp.json().then(function (body) { return { ok: resp.ok, body: body }; });
    }).then(function (x) {
      if (mine !== seq) return;
      if (x.ok) show(text, x.body);
      else showError("Requête refusée : " + (x.body && x.body.detail ? x.body.detail : "erreur inconnue"));
    }).catch(function (err) {
      if (err.name === "AbortError" || mine !== seq) return;
      showError("Le serveur tonecheck ne répond pas (" + err.message + "). Est-il toujours lancé ?");
    });
  }

  function schedule() {
    $("count").textContent = TC.nf0.format(draft.value.length) + " / " + TC.nf0.format(MAX) + " caractères";
    clearTimeout(timer);
    timer = setTimeout(run, DEBOUNCE_MS);
  }

  draft.addEventListener("input", schedule);
  document.querySelectorAll("button.example").forEach(function (b) {
    b.addEventListener("click", function () { draft.value = b.dataset.example; schedule(); clearTimeout(timer); run(); draft.focus(); });
  });
  TC.wireGuide();
  if (draft.value) schedule();
})();
