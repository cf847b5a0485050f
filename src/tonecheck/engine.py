"""The prediction engine: a reader, a feature space and a linear scorer, run on a batch.

:class:`Engine` turns a batch of posts into probabilities, in-scope probabilities and per-word
evidence with a fixed number of numpy calls per batch, whatever its size: for one post as for a
thousand, the Python work is one pass over each post's tokens. Its three parts each do one job:
the reader (:mod:`tonecheck.reading`: normalisation, tokens, caches), the feature space
(:mod:`tonecheck.space`) and the scorer (:mod:`tonecheck.scorer`). It is saved as an ``.npz`` of
plain arrays (:mod:`tonecheck.engine_file`), so that starting tonecheck imports neither
scikit-learn, scipy nor skops; training builds one from scikit-learn estimators
(:mod:`tonecheck.training.export`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import cast

import numpy as np

from tonecheck.reading import Analysis, ReaderSettings, Token
from tonecheck.scorer import LinearScorer
from tonecheck.space import FeatureSpace

__all__ = ["Engine", "Batch"]


@dataclass(frozen=True)
class Batch:
    """What the engine says of a batch of posts.

    ``proba`` (posts × 4, :data:`~tonecheck.labels.LABELS` order) and ``in_scope`` (posts);
    ``words[i]`` are post ``i``'s word tokens and ``token_weights[i]`` how much each pushed
    toward the post's most probable label (one float per word token).
    """

    analyses: list[Analysis]
    proba: np.ndarray
    in_scope: np.ndarray
    words: list[list[Token]]
    token_weights: list[np.ndarray]


class Engine:
    """A model's reader, feature space and scorer (see the module docstring)."""

    def __init__(self, space: FeatureSpace, scorer: LinearScorer, reading: ReaderSettings,
                 *, read: Callable[[str], Analysis] | None = None) -> None:
        if scorer.n_features != space.n_features:
            raise ValueError(f"the scorer has weights for {scorer.n_features} features, "
                             f"the feature space {space.n_features}")
        self.space = space
        self.scorer = scorer
        self.reading = reading
        self.read: Callable[[str], Analysis] = read if read is not None else reading.reader()

    @property
    def review_threshold(self) -> float:
        return self.scorer.review_threshold

    @property
    def scope_threshold(self) -> float:
        return self.scorer.scope_threshold

    @property
    def review_margin(self) -> float:
        return self.scorer.review_margin

    def analyse(self, texts: Sequence[str | Analysis]) -> list[Analysis]:
        read = self.read
        many = getattr(read, "many", None)  # a Reader reads a batch at once
        if many is not None and len(texts) > 1 and not any(isinstance(t, Analysis) for t in texts):
            return cast("list[Analysis]", many(texts))
        return [t if isinstance(t, Analysis) else read(t) for t in texts]

    def run(self, texts: Sequence[str | Analysis]) -> Batch:
        """Probabilities, scope and word evidence for a batch of posts."""
        analyses = self.analyse(texts)
        f = self.space.features(analyses)
        proba, in_scope = self.scorer.score(f)
        best = proba.argmax(axis=1)
        return Batch(analyses, proba, in_scope, f.words, self.scorer.token_weights(f, best))

