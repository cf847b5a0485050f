"""Metrics of four-label predictions: macro-F1, per-label precision/recall/F1, the confusion
matrix and the expected calibration error, and their text for a training log."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any

import numpy as np

from tonecheck.labels import LABELS, OUT_OF_SCOPE

__all__ = ["classification_report", "expected_calibration_error", "format_report"]


def classification_report(y_true: Sequence[str] | np.ndarray, proba: np.ndarray) -> dict[str, Any]:
    """Macro-F1, per-label precision/recall/F1/support and the confusion matrix (four labels)."""
    from sklearn.metrics import (
        confusion_matrix,
        f1_score,
        precision_recall_fscore_support,
    )

    y_true = np.asarray(y_true)
    keep = y_true != OUT_OF_SCOPE
    y = y_true[keep]
    pred = np.asarray(LABELS)[proba[keep].argmax(axis=1)]
    p, r, f, s = precision_recall_fscore_support(y, pred, labels=list(LABELS), zero_division=0)
    present = [lab for lab in LABELS if (y == lab).any()]
    return {
        "n": int(keep.sum()),
        "macro_f1": float(f1_score(y, pred, labels=present, average="macro", zero_division=0)),
        "accuracy": float((y == pred).mean()) if len(y) else 0.0,
        "per_label": {
            lab: {"precision": float(p[k]), "recall": float(r[k]), "f1": float(f[k]), "support": int(s[k])}
            for k, lab in enumerate(LABELS)
        },
        "confusion": confusion_matrix(y, pred, labels=list(LABELS)).tolist(),
        "ece": expected_calibration_error(y, proba[keep]),
    }


def expected_calibration_error(y: Sequence[str] | np.ndarray, proba: np.ndarray, bins: int = 10) -> float:
    """ECE of the top-label confidence over ``bins`` equal-width bins."""
    y = np.asarray(y)
    if len(y) == 0:
        return 0.0
    conf = proba.max(axis=1)
    correct = np.asarray(LABELS)[proba.argmax(axis=1)] == y
    edges = np.linspace(0, 1, bins + 1)
    ece = 0.0
    for lo, hi in itertools.pairwise(edges):
        m = (conf > lo) & (conf <= hi)
        if m.any():
            ece += m.mean() * abs(correct[m].mean() - conf[m].mean())
    return float(ece)


def format_report(name: str, report: dict[str, Any]) -> str:
    lines = [f"{name}: macro-F1 {report['macro_f1']:.3f}, accuracy {report['accuracy']:.3f}, "
             f"ECE {report['ece']:.3f} (n={report['n']})"]
    lines.append(f"  {'label':<12} {'precision':>9} {'recall':>7} {'F1':>6} {'support':>8}")
    for lab, m in report["per_label"].items():
        lines.append(f"  {lab:<12} {m['precision']:>9.3f} {m['recall']:>7.3f} {m['f1']:>6.3f} {m['support']:>8}")
    return "\n".join(lines)
