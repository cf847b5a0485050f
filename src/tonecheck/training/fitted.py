"""The fitted scikit-learn estimators of a model (:class:`FittedModel`), saved with skops.

Training fits a :class:`FittedModel`; :func:`save_model` writes it as a model folder (the skops
file of the estimators, the engine that predictions run, the metadata: see
:mod:`tonecheck.model_folder`); :func:`read_model` reads the estimators back, with skops and an
explicit list of trusted types, never pickle.
"""

from __future__ import annotations

import os
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from tonecheck.errors import ModelFileError, ModelVersionError
from tonecheck.labels import LABELS
from tonecheck.model_folder import (
    SCHEMA_VERSION,
    check_hash,
    library_versions,
    read_metadata,
    write_model_files,
)
from tonecheck.results import DEFAULT_MARGIN
from tonecheck.scorer import centred, sigmoid, softmax

__all__ = ["TRUSTED_TYPES", "FittedModel", "save_model", "read_model"]

# Every type a tonecheck model file may hold. Anything else in a file is refused by skops.
TRUSTED_TYPES = [
    "tonecheck.training.fitted.FittedModel",
    "tonecheck.training.featurizer.TextFeaturizer",
    "tonecheck.training.featurizer.given_terms",
    "sklearn.feature_extraction.text.TfidfVectorizer",
    "sklearn.feature_extraction.text.TfidfTransformer",
    "sklearn.linear_model._logistic.LogisticRegression",
    "sklearn.svm._classes.LinearSVC",
    "sklearn.linear_model._stochastic_gradient.SGDClassifier",
    "sklearn.calibration.CalibratedClassifierCV",
    "sklearn.calibration._CalibratedClassifier",
    "sklearn.calibration._SigmoidCalibration",
    "sklearn.isotonic.IsotonicRegression",
    "sklearn.frozen._frozen.FrozenEstimator",
    "sklearn.model_selection._split.StratifiedKFold",
    "builtins.slice",
    "numpy.float64",
    "numpy.int64",
    "numpy.dtype",
    "numpy.ndarray",
    "builtins.bytes",
    "scipy.sparse._csr.csr_matrix",
    "collections.OrderedDict",
    "collections.defaultdict",
]


@dataclass
class FittedModel:
    """A fitted tone model: a featurizer, a four-label classifier and a scope detector.

    ``classifier`` predicts the four labels (its ``classes_`` are :data:`LABELS` in order);
    ``scope`` predicts whether a post fits any label at all (class 1 = in scope), trained on
    the posts labelled ``none``. ``review_threshold``: below this top probability a post needs
    review; ``scope_threshold``: below this in-scope probability it looks out of scope;
    ``review_margin``: a gap between the two most probable labels below it is a close call.
    """

    featurizer: Any
    classifier: Any
    scope: Any = None
    review_threshold: float = 0.5
    scope_threshold: float = 0.5
    review_margin: float = DEFAULT_MARGIN
    labels: list[str] = field(default_factory=lambda: list(LABELS))

    def _order(self) -> list[int]:
        # scikit-learn sorts classes alphabetically; tonecheck reports them in LABELS order.
        order = self.__dict__.get("_order_cache")
        if order is None:
            classes = [str(c) for c in self.classifier.classes_]
            order = self.__dict__["_order_cache"] = [classes.index(lab) for lab in self.labels]
        return order

    def predict_proba(self, X: Any) -> np.ndarray:
        """Probabilities of the four labels, columns in :data:`LABELS` order, rows summing to 1."""
        clf = self.classifier
        if _is_plain_logistic(clf) and len(clf.classes_) > 2:
            # what LogisticRegression.predict_proba computes (softmax of the decision
            # function), without its per-call input validation (test_model checks equality)
            proba = softmax(np.asarray(X @ self._transposed("_coef_t", clf)) + clf.intercept_)
        else:
            proba = np.asarray(clf.predict_proba(X), dtype=np.float64)
        proba = proba[:, self._order()]
        normalised: np.ndarray = proba / proba.sum(axis=1, keepdims=True)
        return normalised

    def scope_proba(self, X: Any) -> np.ndarray:
        """Probability that each post fits one of the four labels at all."""
        if self.scope is None:
            return np.ones(X.shape[0])
        if _is_plain_logistic(self.scope) and len(self.scope.classes_) == 2:
            z = np.asarray(X @ self._transposed("_scope_t", self.scope)).ravel() + self.scope.intercept_[0]
            return sigmoid(z)
        return np.asarray(self.scope.predict_proba(X), dtype=np.float64)[:, 1]

    def _transposed(self, key: str, estimator: Any) -> np.ndarray:
        # a C-contiguous copy, made once: scipy copies a transposed view at every product
        cached = self.__dict__.get(key)
        if cached is None:
            cached = self.__dict__[key] = np.ascontiguousarray(estimator.coef_.T)
        return cached

    def linear_weights(self) -> np.ndarray:
        """Per-label linear weights over the feature columns, for evidence.

        For a calibrated ensemble, the mean of its members' weights; each row is centred on
        the mean of all rows, so a weight says how much a feature favours one label over
        the others.
        """
        cached: np.ndarray | None = self.__dict__.get("_weights")
        if cached is not None:
            return cached
        clf = self.classifier
        members = [c.estimator for c in getattr(clf, "calibrated_classifiers_", [])] or [clf]
        coefs = []
        for m in members:
            m = getattr(m, "estimator", m)  # FrozenEstimator
            coef = np.asarray(m.coef_, dtype=np.float64)
            if coef.shape[0] == 1:  # binary models are never used here, but stay safe
                coef = np.vstack([-coef, coef])
            coefs.append(coef)
        w = centred(np.mean(coefs, axis=0)[self._order()])
        self.__dict__["_weights"] = w
        return w

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state.pop("_weights", None)
        for key in ("_order_cache", "_coef_t", "_scope_t"):
            state.pop(key, None)
        return state


def _is_plain_logistic(estimator: Any) -> bool:
    from sklearn.linear_model import LogisticRegression

    return type(estimator) is LogisticRegression


def save_model(model: FittedModel, path: str | os.PathLike[str], *, metadata: dict[str, Any] | None = None) -> Path:
    """Write ``model`` as a model folder (see :mod:`tonecheck.model_folder`): ``path`` is the
    folder or ``FOLDER/NAME.json``. Only a logistic-regression model can be saved (its engine
    is exact); returns the JSON path."""
    import skops.io as sio

    from tonecheck.engine_file import engine_to_bytes
    from tonecheck.training.export import engine_of

    engine = engine_to_bytes(engine_of(model))
    estimators = sio.dumps(model, compression=zipfile.ZIP_DEFLATED, compresslevel=6)
    meta = {
        "schema_version": SCHEMA_VERSION,
        "versions": library_versions(),
        "labels": list(model.labels),
        "review_threshold": model.review_threshold,
        "scope_threshold": model.scope_threshold,
        "review_margin": model.review_margin,
        **(metadata or {}),
    }
    return write_model_files(path, engine=engine, estimators=estimators, metadata=meta)


def read_model(path: str | os.PathLike[str]) -> tuple[FittedModel, dict[str, Any]]:
    """Load a model's estimators and its metadata, checking hash, versions and labels first."""
    import skops.io as sio

    files = read_metadata(path)
    check_hash(files.estimators_path, files.metadata.get("estimators_sha256"), files.json_path)
    try:
        model = sio.load(files.estimators_path, trusted=TRUSTED_TYPES)
    except Exception as e:  # skops raises UntrustedTypesFoundException, zip errors, …
        raise ModelFileError(f"cannot load {files.estimators_path}: {e}") from e
    if not isinstance(model, FittedModel):
        raise ModelFileError(f"{files.estimators_path} holds a {type(model).__name__}, not a tonecheck model")
    if list(model.labels) != list(LABELS):
        raise ModelVersionError(f"{files.estimators_path} predicts labels {model.labels}; "
                                "retrain it with `tonecheck train`")
    return model, files.metadata
