"""Fitting: a :class:`~tonecheck.training.fitted.FittedModel` on labelled posts (the featurizer
on every post, the classifier on the in-scope ones, the scope detector on all), and its
out-of-fold predictions in cross-validation."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from tonecheck.labels import LABELS, OUT_OF_SCOPE
from tonecheck.reading import Analysis
from tonecheck.spacy_tokenizer import used_special_cases
from tonecheck.training.config import TrainConfig
from tonecheck.training.corpus import Post, validate_posts
from tonecheck.training.featurizer import TextFeaturizer, build_lemma_table
from tonecheck.training.fitted import FittedModel

__all__ = ["Prepared", "prepare", "fit_model", "cross_val_predictions"]


def _base_classifier(config: TrainConfig) -> Any:
    from sklearn.linear_model import LogisticRegression, SGDClassifier
    from sklearn.svm import LinearSVC

    weights = {lab: 1.0 for lab in LABELS}
    weights["tone-deaf"] = config.tone_deaf_weight
    if config.classifier == "logreg":
        return LogisticRegression(C=config.C, max_iter=3000, class_weight=weights)
    if config.classifier == "svm":
        return LinearSVC(C=config.C / 10, class_weight=weights)
    if config.classifier == "sgd":
        return SGDClassifier(
            loss="modified_huber", alpha=1e-5, class_weight=weights, random_state=config.seed, max_iter=50
        )
    raise ValueError(f"classifier must be 'logreg', 'svm' or 'sgd', not {config.classifier!r}")


def _calibrated(config: TrainConfig) -> Any:
    from sklearn.calibration import CalibratedClassifierCV

    if config.calibration == "none":
        return _base_classifier(config)
    return CalibratedClassifierCV(_base_classifier(config), method=config.calibration, cv=config.calibration_folds)


def _weights(posts: Sequence[Post], config: TrainConfig) -> np.ndarray:
    return np.array([config.real_weight if p.is_real else 1.0 for p in posts])


@dataclass(frozen=True)
class Prepared:
    """What every fit on the same texts shares: their analyses (normalised and tokenized), the
    spaCy lemma table and the tokenizer exceptions they use."""

    analyses: list[Analysis]
    lemma_table: dict[str, str] | None
    special_cases: Any


def prepare(texts: Sequence[str], config: TrainConfig = TrainConfig()) -> Prepared:
    """Read ``texts`` once for every model fitted on them with ``config``'s reading settings."""
    featurizer = TextFeaturizer(tokenizer=config.tokenizer, text_rules=config.text_rules, word_runs=config.word_runs)
    lemma_table = build_lemma_table(texts, text_rules=featurizer.text_rules_tuple()) if config.lemmas else None
    special_cases = used_special_cases(texts) if config.tokenizer == "spacy" else None
    return Prepared(featurizer.analyse(texts), lemma_table, special_cases)


def fit_model(
    posts: Sequence[Post],
    config: TrainConfig = TrainConfig(),
    *,
    analyses: Sequence[Analysis] | None = None,
    lemma_table: dict[str, str] | None = None,
    with_scope: bool = True,
    special_cases: Any = None,
) -> FittedModel:
    """Fit the featurizer on every post, the classifier on the in-scope ones, the scope detector on all."""
    from sklearn.linear_model import LogisticRegression

    validate_posts(posts)
    featurizer = TextFeaturizer(
        lemmas=config.lemmas, char_ngrams=config.char_ngrams, cues=config.cues,
        cue_weight=config.cue_weight, min_df=config.min_df, lemma_table=lemma_table,
        tokenizer=config.tokenizer, special_cases=special_cases, text_rules=config.text_rules,
        word_runs=config.word_runs,
    )
    X = featurizer.fit_transform(list(analyses) if analyses is not None else [p.text for p in posts])
    y = np.array([p.label for p in posts])
    w = _weights(posts, config)
    in_scope = y != OUT_OF_SCOPE
    classifier = _calibrated(config)
    classifier.fit(X[in_scope], y[in_scope], sample_weight=w[in_scope])
    model = FittedModel(featurizer=featurizer, classifier=classifier, scope=None)
    if with_scope and (~in_scope).sum() >= 10:
        scope = LogisticRegression(C=config.scope_C or config.C, max_iter=3000, class_weight="balanced")
        scope.fit(X, in_scope.astype(int), sample_weight=w)
        model.scope = scope
    return model


def cross_val_predictions(
    posts: Sequence[Post],
    config: TrainConfig = TrainConfig(),
    *,
    folds: int = 5,
    analyses: Sequence[Analysis] | None = None,
    lemma_table: dict[str, str] | None = None,
    with_scope: bool = True,
    special_cases: Any = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Out-of-fold (four-label probabilities, in-scope probability, fit seconds per fold).

    Folds are stratified by label and keep contrast pairs (``Post.group``) together.
    """
    from sklearn.model_selection import StratifiedGroupKFold

    needs_lemmas = lemma_table is None and config.lemmas
    needs_cases = special_cases is None and config.tokenizer == "spacy"
    if analyses is None or needs_lemmas or needs_cases:
        ready = prepare([p.text for p in posts], config)
        analyses = ready.analyses if analyses is None else analyses
        lemma_table = ready.lemma_table if lemma_table is None else lemma_table
        special_cases = ready.special_cases if special_cases is None else special_cases
    y = np.array([p.label for p in posts])
    groups = np.array([p.group or f"row{i}" for i, p in enumerate(posts)])
    proba = np.zeros((len(posts), len(LABELS)))
    scope = np.ones(len(posts))
    seconds = []
    splitter = StratifiedGroupKFold(n_splits=folds, shuffle=True, random_state=config.seed)
    for train_idx, test_idx in splitter.split(np.zeros(len(y)), y, groups):
        t0 = time.perf_counter()
        model = fit_model([posts[i] for i in train_idx], config, analyses=[analyses[i] for i in train_idx],
                          lemma_table=lemma_table, with_scope=with_scope, special_cases=special_cases)
        seconds.append(time.perf_counter() - t0)
        X = model.featurizer.transform_analyses([analyses[i] for i in test_idx])
        proba[test_idx] = model.predict_proba(X)
        scope[test_idx] = model.scope_proba(X)
    return proba, scope, np.array(seconds)
