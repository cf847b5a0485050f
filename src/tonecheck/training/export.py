"""From scikit-learn estimators to the prediction engine (the training side of
:mod:`tonecheck.engine`): the feature space and reader settings of a fitted featurizer, the
linear scorer of a fitted logistic regression."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from tonecheck.engine import Engine
from tonecheck.reading import ReaderSettings
from tonecheck.results import DEFAULT_MARGIN
from tonecheck.scorer import LinearScorer
from tonecheck.space import FeatureSpace

if TYPE_CHECKING:
    from tonecheck.training.featurizer import TextFeaturizer
    from tonecheck.training.fitted import FittedModel

__all__ = ["feature_space", "reader_settings", "engine_of", "engine_from"]


def feature_space(featurizer: TextFeaturizer) -> FeatureSpace:
    """The :class:`~tonecheck.space.FeatureSpace` of a fitted featurizer."""
    char = featurizer.char_vectorizer_
    return FeatureSpace(
        word_vocab=featurizer.word_vectorizer_.vocabulary_,
        word_idf=np.asarray(featurizer.word_vectorizer_.idf_, dtype=np.float64),
        char_vocab=char.vocabulary_ if char is not None else None,
        char_idf=np.asarray(char.idf_, dtype=np.float64) if char is not None else None,
        char_range=tuple(char.ngram_range) if char is not None else None,
        word_ngrams=featurizer.word_ngrams,
        lemma_table=featurizer.lemma_table_,
        cues=featurizer.cues,
        cue_weight=float(featurizer.cue_weight),
    )


def reader_settings(featurizer: TextFeaturizer) -> ReaderSettings:
    return ReaderSettings(featurizer.tokenizer, getattr(featurizer, "tokenizer_rules_", None),
                          getattr(featurizer, "special_cases_", None), featurizer.text_rules_tuple(),
                          bool(getattr(featurizer, "word_runs", False)))


def engine_of(model: FittedModel) -> Engine:
    """The engine of a fitted model; refuses a classifier that is not a multinomial logistic
    regression (a calibrated SVM or SGD model can be compared in training, not shipped: its
    probabilities are not one linear function of the features)."""
    from sklearn.linear_model import LogisticRegression

    clf, scope = model.classifier, model.scope
    if type(clf) is not LogisticRegression or len(clf.classes_) <= 2:
        raise ValueError(f"only a logistic-regression model can be saved, not {type(clf).__name__}; "
                         "train it with the 'logreg' classifier")
    if scope is not None and (type(scope) is not LogisticRegression or len(scope.classes_) != 2):
        raise ValueError(f"the scope detector must be a binary logistic regression, not {type(scope).__name__}")
    order = model._order()
    scorer = LinearScorer(
        coef=np.asarray(clf.coef_, dtype=np.float64)[order],
        intercept=np.asarray(clf.intercept_, dtype=np.float64)[order],
        scope_coef=None if scope is None else np.asarray(scope.coef_, dtype=np.float64).ravel(),
        scope_intercept=0.0 if scope is None else float(scope.intercept_[0]),
        review_threshold=model.review_threshold,
        scope_threshold=model.scope_threshold,
        review_margin=getattr(model, "review_margin", DEFAULT_MARGIN),  # (estimators saved before it)
    )
    return engine_from(model.featurizer, scorer)


def engine_from(featurizer: TextFeaturizer, scorer: LinearScorer) -> Engine:
    """An engine of a fitted featurizer's space and reader (shared: same caches) and ``scorer``."""
    return Engine(featurizer.space(), scorer, reader_settings(featurizer), read=featurizer.reader())
