"""What a training run fits (:class:`TrainConfig`): the reading settings, the features and the
classifier, with the shipped model's values as defaults."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["TrainConfig"]


@dataclass(frozen=True)
class TrainConfig:
    """What to fit. The defaults are the shipped model's, the configuration the real-only
    yardstick picks (reports/real_yardstick.md): text as written (text rules ``plain``: the
    social-media rules cost 0.033 macro-F1 on unseen real sources, paired interval
    [-0.064, -0.005]), word n-grams without lemmas of spaCy tokens cut into runs of word
    characters (``word_runs``: +0.034 [+0.013, +0.057] against whole spaCy tokens on the same
    data), character 3-5-grams, cues."""

    lemmas: bool = False
    char_ngrams: tuple[int, int] | None = (3, 5)
    cues: bool = True
    cue_weight: float = 1.0
    classifier: str = "logreg"  # logreg | svm | sgd
    C: float = 30.0
    tone_deaf_weight: float = 1.0
    real_weight: float = 1.0
    calibration: str = "none"  # none | sigmoid | isotonic (CalibratedClassifierCV)
    calibration_folds: int = 3
    min_df: int = 2
    tokenizer: str = "spacy"
    text_rules: str | tuple[str, ...] = "plain"  # a set of tonecheck.normalise.RULE_SETS, or rule names
    word_runs: bool = True  # word tokens: spaCy tokens cut into runs of 2+ word characters (False: whole)
    scope_C: float | None = None  # the scope detector's C (None: the classifier's)
    seed: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {k: (list(v) if isinstance(v, tuple) else v) for k, v in self.__dict__.items()}
