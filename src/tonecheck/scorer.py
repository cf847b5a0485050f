"""The linear scorer: weights → probabilities of the four labels, the in-scope probability, and
how much each word pushed toward the label.

A model is a multinomial logistic regression over the :class:`~tonecheck.space.FeatureSpace`
columns plus a binary one (the scope detector, trained on the ``none`` posts). Only linear models
are shipped: their scores are exact sums over a post's entries, so a post's answer is the same
alone or in any batch and its evidence is exact (each word's share of the score). Other
classifiers can be compared during training (:mod:`tonecheck.training`) but not saved.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from tonecheck.labels import LABELS
from tonecheck.results import DEFAULT_MARGIN
from tonecheck.space import Features

__all__ = ["LinearScorer", "softmax", "sigmoid", "centred"]


def softmax(z: np.ndarray) -> np.ndarray:
    """Row-wise softmax of logits (posts × labels), stable for large values."""
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    proba: np.ndarray = e / e.sum(axis=1, keepdims=True)
    return proba


def sigmoid(z: np.ndarray) -> np.ndarray:
    out: np.ndarray = 1.0 / (1.0 + np.exp(-z))
    return out


def centred(coef: np.ndarray) -> np.ndarray:
    """Per-label weights centred on their mean over labels: how much a feature favours one
    label over the others (what evidence reports)."""
    out: np.ndarray = coef - coef.mean(axis=0, keepdims=True)
    return out


@dataclass(frozen=True, eq=False)
class LinearScorer:
    """``coef`` (4 labels × features, :data:`~tonecheck.labels.LABELS` order) and ``intercept``
    make the softmax; ``scope_coef``/``scope_intercept`` the scope detector's sigmoid (none: every
    post in scope). ``review_threshold``: below this top probability a post needs review;
    ``scope_threshold``: below this in-scope probability it looks out of scope;
    ``review_margin``: a gap between the two most probable labels below it is a close call. These
    fields are what a model file stores (:mod:`tonecheck.engine_file`)."""

    coef: np.ndarray
    intercept: np.ndarray
    scope_coef: np.ndarray | None = None
    scope_intercept: float = 0.0
    review_threshold: float = 0.5
    scope_threshold: float = 0.5
    review_margin: float = DEFAULT_MARGIN
    weights: np.ndarray = field(init=False, repr=False)
    _rows: np.ndarray = field(init=False, repr=False)
    _evidence_rows: np.ndarray = field(init=False, repr=False)

    def __post_init__(self) -> None:
        coef = np.asarray(self.coef, dtype=np.float64)
        intercept = np.asarray(self.intercept, dtype=np.float64)
        if coef.ndim != 2 or coef.shape[0] != len(LABELS) or intercept.shape != (len(LABELS),):
            raise ValueError(f"coef must be {len(LABELS)} × features and intercept {len(LABELS)} values, "
                             f"not {coef.shape} and {intercept.shape}")
        scope = None if self.scope_coef is None else np.asarray(self.scope_coef, dtype=np.float64).ravel()
        if scope is not None and scope.shape != (coef.shape[1],):
            raise ValueError(f"scope_coef has {scope.size} weights for {coef.shape[1]} features")
        weights = centred(coef)
        # What the classifier reads of a column, one row per column (C-contiguous): the 4 label
        # weights and the scope weight. A batch gathers the rows of its columns once (np.take:
        # on a batch's ~140,000 entries, a third faster than fancy indexing); evidence gathers
        # one weight per entry, its post's label's, from the evidence weights laid out the same way.
        rows = np.vstack([coef, scope[None, :] if scope is not None else np.zeros((1, coef.shape[1]))])
        for name, value in {"coef": coef, "intercept": intercept, "scope_coef": scope,
                            "scope_intercept": float(self.scope_intercept),
                            "review_threshold": float(self.review_threshold),
                            "scope_threshold": float(self.scope_threshold),
                            "review_margin": float(self.review_margin),
                            "weights": weights, "_rows": np.ascontiguousarray(rows.T),
                            "_evidence_rows": np.ascontiguousarray(weights.T).ravel()}.items():
            object.__setattr__(self, name, value)

    @property
    def n_features(self) -> int:
        return int(self.coef.shape[1])

    def score(self, f: Features) -> tuple[np.ndarray, np.ndarray]:
        """(probabilities: posts × 4, in-scope probability: posts)."""
        n = f.n
        rows = np.take(self._rows, f.col, axis=0)
        linear = rows * f.value[:, None]  # entries × (4 labels + scope)
        # Entries are sorted by post: each post's score is the sum of its own run of rows, added
        # in the same order whether the post comes alone or in a batch (same answer).
        if not f.col.size:
            z = np.zeros((n, 5))
        elif f.doc is None:  # one post
            z = np.add.reduceat(linear, [0], axis=0)
        else:
            # Sum the runs of the posts that have entries only, each exactly its own run (numpy
            # sums a run pairwise, so its length must not change with the batch); clamping the
            # start of a trailing post with no entries onto the last entry once cut the run
            # before it short (its answer changed with its neighbour).
            starts = np.searchsorted(f.doc, np.arange(n))
            filled = np.append(starts[1:], f.doc.size) > starts
            z = np.zeros((n, 5))
            z[filled] = np.add.reduceat(linear, starts[filled], axis=0)
        proba = softmax(z[:, :4] + self.intercept)
        in_scope = sigmoid(z[:, 4] + self.scope_intercept) if self.scope_coef is not None else np.ones(n)
        return proba, in_scope

    def token_weights(self, f: Features, best: np.ndarray) -> list[np.ndarray]:
        """How much each word token pushed toward its post's label ``best``.

        Each entry's contribution (value × weight) is shared equally among its occurrences, and
        each occurrence's share among its tokens: a word n-gram's words, the word tokens of the
        white-space word a character n-gram comes from, the words a cue matched.
        """
        total = int(f.n_tokens.sum())
        if not f.occ_entry.size:
            out = np.zeros(total)
        else:
            label: Any = best[f.doc] if f.doc is not None else best[0]
            contribution = f.value * np.take(self._evidence_rows, f.col * len(LABELS) + label)
            span = f.occ_span  # an occurrence of no token (span 0) is repeated 0 times: dropped
            share = (contribution / f.counts)[f.occ_entry] / np.maximum(span, 1)
            # Occurrences over the same tokens (the character n-grams of one white-space word
            # come one after another) are summed first, so each token is credited once per run,
            # not once per n-gram: a 50,000-character word of 500 tokens has 150,000 n-grams,
            # and crediting each to its 500 tokens took 75 million steps.
            runs = np.flatnonzero(f.occ_run)
            share, first, span = np.add.reduceat(share, runs), f.occ_first[runs], span[runs]
            offsets = np.arange(int(span.sum())) - np.repeat(np.cumsum(span) - span, span)
            out = np.bincount(np.repeat(first, span) + offsets, weights=np.repeat(share, span),  # type: ignore[assignment]
                              minlength=total)  # (float64 with weights)
        if f.n == 1:
            return [out]
        return np.split(out, np.cumsum(f.n_tokens)[:-1]) if f.n else []
