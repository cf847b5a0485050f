"""The review thresholds a model ships with, chosen together on out-of-source predictions: the
top probability below which a prediction is ``unsure``, the gap between the two top labels
below which it is a ``close-call``, and the in-scope probability below which a post is flagged
``out-of-scope``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np

from tonecheck.labels import LABELS, OUT_OF_SCOPE
from tonecheck.results import DEFAULT_MARGIN

__all__ = ["IN_SCOPE_FLAG_BUDGET", "Thresholds", "choose_thresholds", "flagged"]

#: Largest share of in-scope posts ``needs_review`` may flag, all reasons together (the product's
#: target: at most 15 % of in-scope posts flagged, as many ``none`` posts as possible).
IN_SCOPE_FLAG_BUDGET = 0.15

_MARGINS = (0.0, 0.05, 0.1, 0.15, 0.2)
_SCOPES = np.linspace(0.01, 0.95, 95)


class Thresholds(NamedTuple):
    review: float  # unsure below this top probability
    scope: float  # out of scope below this in-scope probability
    margin: float  # a close call below this gap between the two top labels


def flagged(proba: np.ndarray, scope: np.ndarray, t: Thresholds) -> np.ndarray:
    """Which posts ``needs_review`` flags for these probabilities (unsure, close call or out of
    scope; the no-words and not-French reasons are left out: they need the text)."""
    ranked = np.sort(proba, axis=1)
    out: np.ndarray = (ranked[:, -1] < t.review) | (ranked[:, -1] - ranked[:, -2] < t.margin) | (scope < t.scope)
    return out


def _right_less_than_half(y: np.ndarray, proba: np.ndarray) -> float:
    """The top probability below which a prediction is right less than half the time."""
    conf = proba.max(axis=1)
    correct = np.asarray(LABELS)[proba.argmax(axis=1)] == y
    for t in np.linspace(0.01, 0.95, 95):
        band = (conf >= t - 0.05) & (conf < t + 0.05)
        if band.sum() >= 10 and correct[band].mean() >= 0.5:
            return float(t)
    return 0.4


def choose_thresholds(
    y_true: Sequence[str] | np.ndarray, proba: np.ndarray, scope: np.ndarray, real: np.ndarray | None = None
) -> Thresholds:
    """The three review thresholds, from out-of-source (or out-of-fold) predictions.

    They are chosen together so that ``needs_review`` as a whole flags at most
    :data:`IN_SCOPE_FLAG_BUDGET` (15 %) of in-scope posts while flagging as many ``none`` posts
    as possible; among choices within half a point of the most, the one that flags the most
    wrong labels. The unsure threshold is never above the top probability below which a
    prediction is right less than half the time, the margin is one of 0-0.2. They are chosen
    on the real posts (``real`` mask) when there are at least 30 in-scope ones: authored posts
    are easier to tell apart from chatter than real ones, and thresholds chosen on them flag
    most real in-scope posts.
    """
    y = np.asarray(y_true)
    in_scope = y != OUT_OF_SCOPE
    basis = np.ones(len(y), dtype=bool)
    if real is not None and (np.asarray(real) & in_scope).sum() >= 30:
        basis = np.asarray(real)
    if not in_scope.any():
        return Thresholds(0.4, 0.5, 0.0)
    judged = in_scope & basis  # the in-scope posts the budget is measured on
    half = _right_less_than_half(y[judged], proba[judged])
    if in_scope.all():  # nothing to tell out-of-scope posts by: the margin a model had before
        return Thresholds(half, 0.5, DEFAULT_MARGIN)
    none = ~in_scope & basis if (~in_scope & basis).any() else ~in_scope
    wrong = judged & (np.asarray(LABELS)[proba.argmax(axis=1)] != y)
    reviews = sorted({0.0, *(float(t) for t in np.linspace(0.3, 0.95, 14) if t <= half + 1e-9), half})
    ranked = np.sort(proba, axis=1)
    top, gap = ranked[:, -1], ranked[:, -1] - ranked[:, -2]
    scored: list[tuple[float, float, Thresholds]] = []
    for margin in _MARGINS:
        for review in reviews:
            unsure_or_close = (top < review) | (gap < margin)
            for s in _SCOPES[::-1]:  # the largest scope threshold within the budget
                f = unsure_or_close | (scope < s)
                if f[judged].mean() <= IN_SCOPE_FLAG_BUDGET:
                    scored.append((float(f[none].mean()), float(f[wrong].mean()) if wrong.any() else 0.0,
                                   Thresholds(review, float(s), margin)))
                    break
    if not scored:
        return Thresholds(0.0, 0.01, 0.0)
    best_none = max(s[0] for s in scored)
    return max((s for s in scored if s[0] >= best_none - 0.005), key=lambda s: (s[1], s[0]))[2]
