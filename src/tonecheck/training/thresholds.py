"""The review thresholds a model ships with, chosen on out-of-fold predictions: the in-scope
probability below which a post is flagged out of scope, and the top probability below which
a prediction is flagged unsure."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from tonecheck.labels import LABELS, OUT_OF_SCOPE

__all__ = ["IN_SCOPE_FLAG_BUDGET", "choose_thresholds"]

#: Largest share of in-scope posts the out-of-scope flag may catch (the product's target: at most
#: 15 % of in-scope posts flagged, as many `none` posts as possible).
IN_SCOPE_FLAG_BUDGET = 0.15


def choose_thresholds(
    y_true: Sequence[str] | np.ndarray, proba: np.ndarray, scope: np.ndarray, real: np.ndarray | None = None
) -> tuple[float, float]:
    """Review thresholds from out-of-fold predictions.

    ``scope_threshold``: the largest that flags at most :data:`IN_SCOPE_FLAG_BUDGET` (15 %) of
    in-scope posts, so as many
    ``none`` posts as possible are flagged. It is chosen on the real posts (``real`` mask)
    when there are at least 30 in-scope ones: authored posts are easier to tell apart from
    chatter than real ones, and a threshold chosen on them flags most real in-scope posts.
    ``review_threshold``: the top probability below which a prediction is right less than
    half the time.
    """
    y = np.asarray(y_true)
    in_scope = y != OUT_OF_SCOPE
    candidates = np.linspace(0.01, 0.95, 95)
    basis = np.ones(len(y), dtype=bool)
    if real is not None and (np.asarray(real) & in_scope).sum() >= 30:
        basis = np.asarray(real)
    scope_threshold = 0.5
    if (~in_scope).any():
        ok = [t for t in candidates if (scope[in_scope & basis] < t).mean() <= IN_SCOPE_FLAG_BUDGET]
        scope_threshold = float(max(ok)) if ok else 0.01
    conf = proba[in_scope].max(axis=1)
    correct = np.asarray(LABELS)[proba[in_scope].argmax(axis=1)] == y[in_scope]
    review_threshold = 0.4
    for t in candidates:
        band = (conf >= t - 0.05) & (conf < t + 0.05)
        if band.sum() >= 10 and correct[band].mean() >= 0.5:
            review_threshold = float(t)
            break
    return review_threshold, scope_threshold
