"""``tonecheck evaluate DATA``: a model's per-label precision, recall, F1 and confusion matrix."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from typing import Any

import numpy as np

from tonecheck.labels import LABELS, OUT_OF_SCOPE

__all__ = ["predict_posts", "evaluate_file", "format_confusion", "text_key", "trained_on"]


def text_key(text: str) -> str:
    """A short hash of a text, white space and case folded: what model metadata keeps of
    each training text, so an evaluation can tell that it scores posts the model learned."""
    import hashlib

    return hashlib.sha256(" ".join(text.split()).casefold().encode("utf-8", "surrogatepass")).hexdigest()[:16]


def trained_on(metadata: dict[str, Any]) -> frozenset[str]:
    return frozenset(metadata.get("trained_on", {}).get("text_keys", []))


def predict_posts(texts: Sequence[str], model: Any = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(four-label probabilities, in-scope probability, needs_review) for each text."""
    from tonecheck.runtime import resolve_model, score_texts

    loaded = resolve_model(model)
    proba, scope, review = [], [], []
    for start in range(0, len(texts), 512):
        for r in score_texts(list(texts[start : start + 512]), loaded):
            proba.append([r.scores[lab] for lab in r.scores])
            scope.append(r.in_scope)
            review.append(r.needs_review)
    return np.array(proba).reshape(-1, len(LABELS)), np.array(scope), np.array(review, dtype=bool)


def format_confusion(confusion: Sequence[Sequence[int]]) -> str:
    short = [lab[:10] for lab in LABELS]
    lines = ["  true \\ predicted  " + " ".join(f"{s:>11}" for s in short)]
    for lab, row in zip(LABELS, confusion, strict=True):
        lines.append(f"  {lab:<17}" + " ".join(f"{v:>11}" for v in row))
    return "\n".join(lines)


def evaluate_file(args: argparse.Namespace) -> int:
    from tonecheck.assess import load_model
    from tonecheck.errors import TrainingDataError
    from tonecheck.training.corpus import read_table
    from tonecheck.training.metrics import classification_report, format_report

    rows = read_table(args.data, fmt=getattr(args, "format", None), encoding=getattr(args, "encoding", None),
                      delimiter=getattr(args, "delimiter", None), sheet=getattr(args, "sheet", None))
    if not rows or args.text_column not in rows[0] or args.label_column not in rows[0]:
        cols = sorted(rows[0]) if rows else []
        raise TrainingDataError(
            f"{args.data}: needs columns {args.text_column!r} and {args.label_column!r}; found {cols}"
        )
    bad = [i + 2 for i, r in enumerate(rows) if r[args.label_column] not in (*LABELS, OUT_OF_SCOPE)]
    if bad:
        allowed = ", ".join((*LABELS, OUT_OF_SCOPE))
        raise TrainingDataError(f"{args.data}: unknown labels on rows {bad[:20]} (allowed: {allowed})")
    rows = [r for r in rows if (r[args.text_column] or "").strip()]
    split = getattr(args, "split", "test")
    if split != "all" and "split" in rows[0]:
        total = len(rows)
        rows = [r for r in rows if (r.get("split") or "").strip() == split]
        print(f"evaluating the {len(rows)} of {total} rows whose split is {split!r} (--split all for every row)")
        if not rows:
            raise TrainingDataError(f"{args.data}: no row has split {split!r}")
    model = load_model(args.model) if args.model else load_model()
    seen = trained_on(model.metadata)
    overlap = sum(text_key(r[args.text_column]) in seen for r in rows)
    if overlap:
        print(f"warning: {overlap} of {len(rows)} evaluated texts were in the model's training data: "
              "these figures overstate how it does on new posts")
    y = np.array([r[args.label_column] for r in rows])
    proba, _, review = predict_posts([r[args.text_column] for r in rows], model)
    rep = classification_report(y, proba)
    print(format_report(f"{args.data}", rep))
    print("confusion matrix:")
    print(format_confusion(rep["confusion"]))
    none = y == OUT_OF_SCOPE
    if none.any():
        print(f"needs_review: {review[none].mean():.1%} of {int(none.sum())} 'none' posts, "
              f"{review[~none].mean():.1%} of {int((~none).sum())} in-scope posts")
    return 0
