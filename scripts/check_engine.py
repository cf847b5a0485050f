"""The fast path equals its slow reference, on every corpus and real text.

    python scripts/check_engine.py            # equality check + compare with the stored fingerprint
    python scripts/check_engine.py --save     # ... and (re)write benchmarks/engine-fingerprint.json

For the shipped model, on every text of data/authored.csv and of the real pools
(``../shared/data/real/*.csv``, when present; their texts are never written anywhere):

1. **Equality.** ``engine.run(texts)`` (what ``assess`` runs: the Reader's chunk caches, the
   FeatureSpace, the LinearScorer) against scikit-learn itself: the model's fitted
   ``TfidfVectorizer``s' ``transform`` (word n-grams of the lemma terms, char_wb n-grams of
   the normalised text), the cue columns, then ``LogisticRegression.predict_proba`` of the
   classifier and the scope detector. The reference reads each text with the model's compact
   spaCy tokenizer called on the whole normalised text (no chunk cache, no windows). The
   probabilities and in-scope probabilities must agree to 1e-12 (max abs difference) and the
   labels (scikit-learn's ``predict``) must be identical.
2. **Fingerprint.** A SHA-256 of what ``assess_many`` returns on the same texts: labels,
   probabilities and in-scope probability rounded to 12 decimals, review flags and reasons,
   evidence spans and weights. Speed work must leave it unchanged ("identical before and
   after"). It is tied to the model: after retraining, regenerate it with ``--save`` (the
   check says so when the model's hash differs from the one stored).

Exit 0 when both hold, 1 otherwise.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import hashlib
import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "data" / "authored.csv"
REAL_DIR = ROOT.parent / "shared" / "data" / "real"
FINGERPRINT = ROOT / "benchmarks" / "engine-fingerprint.json"
TOLERANCE = 1e-12


def read_texts(*, real: bool = True) -> tuple[list[str], dict[str, int]]:
    """Every assessable text of the corpus and (with ``real``) the real pools, in file order,
    and how many came from each file."""
    from tonecheck.runtime import check_text

    files = [CORPUS] + (sorted(REAL_DIR.glob("*.csv")) if real and REAL_DIR.is_dir() else [])
    texts: list[str] = []
    counts: dict[str, int] = {}
    for path in files:
        with open(path, encoding="utf-8", newline="") as f:
            rows = [r["text"] for r in csv.DictReader(f)]
        kept = []
        for t in rows:
            with contextlib.suppress(TypeError, ValueError):  # not assessable: skipped
                kept.append(check_text(t))
        counts[path.name] = len(kept)
        texts += kept
    return texts, counts


def load() -> tuple[Any, Any]:
    """The shipped model and its fitted scikit-learn estimators."""
    import tonecheck
    from tonecheck.training.fitted import read_model

    model = tonecheck.load_model()
    return model, read_model(model.path)[0]


def reference(fitted: Any, reading: Any, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """scikit-learn's probabilities, in-scope probabilities and labels, computed the slow way."""
    from scipy import sparse

    from tonecheck.cues import CUE_NAMES, conjunction_matches, shouting
    from tonecheck.labels import LABELS
    from tonecheck.reading import _tokenize_with
    from tonecheck.spacy_tokenizer import CompactTokenizer

    f = fitted.featurizer
    tokenizer = CompactTokenizer(reading.tokenizer_rules, reading.special_cases).tokenizer
    analyses = [_tokenize_with(tokenizer, t, reading.text_rules, reading.word_runs) for t in texts]
    terms = [f.terms(a) for a in analyses]
    blocks = [f.word_vectorizer_.transform([f._ngrams(t) for t in terms])]
    if f.char_vectorizer_ is not None:
        blocks.append(f.char_vectorizer_.transform([a.normalised for a in analyses]))
    if f.cues:
        cues = np.zeros((len(texts), len(CUE_NAMES)))
        for i, (a, t) in enumerate(zip(analyses, terms, strict=True)):
            cues[i, : len(CUE_NAMES) - 1] = [bool(w) for w in conjunction_matches(t)]
            cues[i, -1] = shouting(a)
        blocks.append(sparse.csr_matrix(cues * f.cue_weight))
    X = sparse.hstack(blocks, format="csr")
    clf = fitted.classifier
    order = [list(clf.classes_).index(lab) for lab in LABELS]
    proba = clf.predict_proba(X)[:, order]
    in_scope = fitted.scope.predict_proba(X)[:, 1] if fitted.scope is not None else np.ones(len(texts))
    return proba, in_scope, [str(c) for c in clf.predict(X)]


def fast(model: Any, texts: Sequence[str], batch_size: int = 512) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """The engine's probabilities, in-scope probabilities and labels, in assess_many's batches."""
    from tonecheck.labels import LABELS

    probas, scopes = [], []
    for i in range(0, len(texts), batch_size):
        batch = model.engine.run(list(texts[i : i + batch_size]))
        probas.append(batch.proba)
        scopes.append(batch.in_scope)
    proba, in_scope = np.concatenate(probas), np.concatenate(scopes)
    return proba, in_scope, [LABELS[k] for k in proba.argmax(axis=1)]


def compare(model: Any, fitted: Any, texts: Sequence[str]) -> dict[str, Any]:
    """The largest differences and the label disagreements between the two paths."""
    p_fast, s_fast, l_fast = fast(model, texts)
    p_ref, s_ref, l_ref = reference(fitted, model.engine.reading, texts)
    differ = [i for i, (a, b) in enumerate(zip(l_fast, l_ref, strict=True)) if a != b]
    return {"texts": len(texts), "proba_max_abs": float(np.abs(p_fast - p_ref).max(initial=0.0)),
            "in_scope_max_abs": float(np.abs(s_fast - s_ref).max(initial=0.0)),
            "label_mismatches": len(differ), "first_mismatches": differ[:5]}


def fingerprint(model: Any, texts: Sequence[str]) -> dict[str, str]:
    """SHA-256 digests of assess_many's answers (each part, and all together)."""
    import tonecheck

    parts = {k: hashlib.sha256() for k in ("labels", "proba", "review", "evidence")}
    for r in tonecheck.assess_many(texts, model=model):
        parts["labels"].update(f"{r.label.value}\n".encode())
        scores = ",".join(f"{v:.12f}" for v in r.scores.values())
        parts["proba"].update(f"{scores};{r.in_scope:.12f}\n".encode())
        parts["review"].update(f"{r.needs_review}:{','.join(r.review_reasons)}\n".encode())
        ev = ";".join(f"{e.start}-{e.end}:{e.weight:.12f}" for e in r.evidence)
        parts["evidence"].update(f"{ev}\n".encode())
    out = {k: h.hexdigest() for k, h in parts.items()}
    out["all"] = hashlib.sha256("".join(out[k] for k in sorted(out)).encode()).hexdigest()
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--save", action="store_true", help=f"write the fingerprint to {FINGERPRINT.relative_to(ROOT)}")
    parser.add_argument("--no-real", action="store_true", help="the corpus only (no real pools)")
    args = parser.parse_args()

    import tonecheck

    print(f"tonecheck from {Path(tonecheck.__file__).parent}")
    t0 = time.perf_counter()
    texts, counts = read_texts(real=not args.no_real)
    model, fitted = load()
    print(f"{len(texts):,} texts: " + ", ".join(f"{k} {v:,}" for k, v in counts.items()))
    ok = True

    result = compare(model, fitted, texts)
    equal = (result["proba_max_abs"] <= TOLERANCE and result["in_scope_max_abs"] <= TOLERANCE
             and result["label_mismatches"] == 0)
    ok &= equal
    print(f"equality, engine.run vs scikit-learn (TfidfVectorizer.transform + LogisticRegression.predict_proba): "
          f"max |Δ proba| {result['proba_max_abs']:.1e}, max |Δ in-scope| {result['in_scope_max_abs']:.1e} "
          f"(tolerance {TOLERANCE:.0e}), label mismatches {result['label_mismatches']} "
          f"{result['first_mismatches'] if result['label_mismatches'] else ''}-> {'OK' if equal else 'FAILED'}")

    digest = fingerprint(model, texts)
    record = {"note": "scripts/check_engine.py --save; regenerate whenever the model is retrained",
              "model_json": model.path.name if model.path else None,
              "engine_sha256": model.metadata.get("engine_sha256"),
              "texts": len(texts), "files": counts, "digests": digest}
    if args.save:
        FINGERPRINT.write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
        print(f"fingerprint {digest['all'][:16]}… written to {FINGERPRINT.relative_to(ROOT)}")
    elif not FINGERPRINT.is_file():
        print(f"no stored fingerprint ({FINGERPRINT.relative_to(ROOT)}): run with --save")
        ok = False
    else:
        stored = json.loads(FINGERPRINT.read_text(encoding="utf-8"))
        if stored.get("engine_sha256") != record["engine_sha256"] or stored.get("files") != counts:
            print("fingerprint: STALE — the model or the texts changed since it was saved "
                  f"(engine {str(stored.get('engine_sha256'))[:12]} → {str(record['engine_sha256'])[:12]}, "
                  f"files {stored.get('files')} → {counts}); regenerate it with --save")
            ok = False
        else:
            same = {k: stored["digests"].get(k) == v for k, v in digest.items()}
            print(f"fingerprint: {'IDENTICAL' if all(same.values()) else 'CHANGED'} "
                  f"({', '.join(f'{k} {chr(10003) if s else chr(10007)}' for k, s in same.items())})")
            ok &= all(same.values())
    print(f"{'OK' if ok else 'FAILED'} in {time.perf_counter() - t0:.0f} s")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
