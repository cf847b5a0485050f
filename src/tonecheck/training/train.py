"""Retraining: fit a :class:`~tonecheck.training.fitted.FittedModel` on labelled posts, cross-validate it.

Never imported by :mod:`tonecheck.assess`.
"""

from __future__ import annotations

import itertools
import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, cast

import numpy as np

from tonecheck.labels import LABELS, OUT_OF_SCOPE
from tonecheck.reading import Analysis
from tonecheck.spacy_tokenizer import used_special_cases
from tonecheck.training.corpus import Post, validate_posts
from tonecheck.training.featurizer import TextFeaturizer, build_lemma_table
from tonecheck.training.fitted import FittedModel

__all__ = ["TrainConfig", "fit_model", "cross_val_predictions", "classification_report", "choose_thresholds"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TrainConfig:
    """What to fit. The defaults are the shipped model's, the configuration the real-only
    yardstick picks (reports/real_yardstick.md): text as written (text rules ``plain``: the
    social-media rules cost 0.033 macro-F1 on unseen real sources, paired interval
    [-0.064, -0.005]), word n-grams of spaCy tokens without lemmas, character 3-5-grams, cues."""

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
    scope_C: float | None = None  # the scope detector's C (None: the classifier's)
    seed: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {k: (list(v) if isinstance(v, tuple) else v) for k, v in self.__dict__.items()}


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
    featurizer = TextFeaturizer(tokenizer=config.tokenizer, text_rules=config.text_rules)
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


def _thresholds_on_unseen_sources(posts: Sequence[Post], config: TrainConfig, ready: Prepared, say: Any,
                                  metrics: dict[str, Any]) -> tuple[float, float] | None:
    """The review thresholds chosen on the real-only yardstick (each real source predicted by a
    model trained without it), when there are two real sources or more: a post a user checks
    comes from a feed the model has not seen, and thresholds chosen in cross-validation, where
    every source is in training, flag too few out-of-scope posts there. Records the yardstick's
    figures in ``metrics["loso"]``."""
    from tonecheck.training.yardstick import leave_one_source_out, real_source, summarise

    if len({real_source(p) for p in posts if p.is_real}) < 2:
        return None
    say("leave-one-source-out on the real posts (the review thresholds are chosen there)…")
    results = leave_one_source_out(posts, config, analyses=ready.analyses, lemma_table=ready.lemma_table,
                                   special_cases=ready.special_cases, say=say)
    summary = summarise(results, rounds=200)
    summary.pop("predictions")
    metrics["loso"] = summary
    pooled = summary["pooled"]
    review, scope = summary["thresholds"]["review"], summary["thresholds"]["scope"]
    say(f"unseen real sources (pooled): macro-F1 {pooled['macro_f1']:.3f}; out-of-scope flag at {scope:.2f}: "
        f"{pooled['none_flagged']:.1%} of 'none' posts, {pooled['in_scope_flagged']:.1%} of in-scope posts")
    return review, scope


def load_training_posts(
    data: Sequence[str], real_labels: str | None, real_texts: str | None, *, all_splits: bool = False,
    say: Any = print, read_options: Mapping[str, str | None] | None = None, bundled: Sequence[str] = (),
) -> list[Post]:
    """The posts ``tonecheck train`` learns from: data files, plus real posts when their texts exist.

    ``read_options`` (``fmt``, ``encoding``, ``delimiter``, ``sheet``: ``tonecheck train``'s
    ``--format``, ``--encoding``, ``--delimiter`` and ``--sheet``) apply to the ``data`` files,
    not to the ``bundled`` files (the corpus shipped with tonecheck, read first) nor to the real
    posts' files, which are the project's own.
    """
    from pathlib import Path

    from tonecheck.training.corpus import read_posts, read_real_posts

    posts: list[Post] = []
    for path in bundled:
        posts.extend(read_posts(path))
    for path in data:
        posts.extend(read_posts(path, **(read_options or {})))
    if real_labels:
        missing = [str(p) for p in (real_labels, real_texts) if not p or not Path(p).exists()]
        if missing:
            say(f"warning: real posts skipped: {' and '.join(missing)} not found (the real posts' texts live in "
                "../shared/data/real beside the project; pass --real-texts FOLDER)")
        else:
            posts.extend(read_real_posts(real_labels, cast(str, real_texts)))  # not None: checked above
    if not all_splits:
        posts = [p for p in posts if p.split != "test"]
    return posts


def _refuse_less_data(posts: Sequence[Post], shipped: Any) -> None:
    """Replacing the shipped model with one trained on fewer posts (typically: a clone without
    ../shared, so without the real posts) is refused unless asked for."""
    import json

    from tonecheck.errors import TrainingDataError

    try:
        before = json.loads(shipped.with_suffix(".json").read_text(encoding="utf-8"))["trained_on"]["posts"]
    except (OSError, ValueError, KeyError, TypeError):
        return
    if len(posts) < before:
        raise TrainingDataError(
            f"the shipped model was trained on {before:,} posts, this run has {len(posts):,} "
            f"({sum(p.is_real for p in posts):,} real): are the real posts' texts missing? "
            "Pass --allow-less-data to replace it all the same"
        )


def _check_writable(folder: Any) -> None:
    """Fail before hours of training, not after: the model folder must be writable."""
    import tempfile
    from pathlib import Path

    from tonecheck.errors import ModelFileError

    folder = Path(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as e:
        raise ModelFileError(f"cannot write the model to {folder}: {e.strerror or e}") from e


def format_report(name: str, report: dict[str, Any]) -> str:
    lines = [f"{name}: macro-F1 {report['macro_f1']:.3f}, accuracy {report['accuracy']:.3f}, "
             f"ECE {report['ece']:.3f} (n={report['n']})"]
    lines.append(f"  {'label':<12} {'precision':>9} {'recall':>7} {'F1':>6} {'support':>8}")
    for lab, m in report["per_label"].items():
        lines.append(f"  {lab:<12} {m['precision']:>9.3f} {m['recall']:>7.3f} {m['f1']:>6.3f} {m['support']:>8}")
    return "\n".join(lines)


def train_and_save(
    *,
    data: Sequence[str],
    real_labels: str | None,
    real_texts: str | None,
    output: str,
    force: bool = False,
    all_splits: bool = False,
    folds: int = 5,
    config: TrainConfig = TrainConfig(),
    say: Any = print,
    allow_less_data: bool = False,
    read_options: Mapping[str, str | None] | None = None,
    bundled: Sequence[str] = (),
) -> FittedModel:
    """What ``tonecheck train`` does: load, validate, cross-validate, fit, save atomically.

    ``bundled`` files (the shipped corpus) are read before ``data``, without ``read_options``.
    """
    from pathlib import Path

    from tonecheck.errors import ModelFileError
    from tonecheck.model_folder import default_model_path, metadata_path
    from tonecheck.training.corpus import data_hash, without_duplicates
    from tonecheck.training.evaluation import text_key
    from tonecheck.training.fitted import save_model

    json_path = metadata_path(output if str(output).endswith(".json") else Path(output) / "tonecheck.json")
    shipped = default_model_path().resolve()
    if json_path.exists() and not force:
        raise ModelFileError(f"{json_path} exists; pass --force to overwrite it")

    _check_writable(json_path.parent)
    posts = load_training_posts(data, real_labels, real_texts, all_splits=all_splits, say=say,
                                read_options=read_options, bundled=bundled)
    validate_posts(posts)
    posts, dropped = without_duplicates(posts)
    if dropped:
        say(f"warning: {dropped} duplicate post(s) (same text and label) dropped before cross-validation")
    if json_path.resolve() == shipped and not allow_less_data:
        _refuse_less_data(posts, shipped)
    counts = {lab: sum(p.label == lab for p in posts) for lab in (*LABELS, OUT_OF_SCOPE)}
    say(f"training on {len(posts)} posts: " + ", ".join(f"{k} {v}" for k, v in counts.items()))
    t0 = time.perf_counter()
    ready = prepare([p.text for p in posts], config)
    analyses, lemma_table, special_cases = ready.analyses, ready.lemma_table, ready.special_cases
    say(f"spaCy lemma table: {len(lemma_table or {})} words ({time.perf_counter() - t0:.0f}s)")
    metrics: dict[str, Any] = {}
    review_threshold, scope_threshold = 0.5, 0.5
    if folds and folds > 1:
        say(f"{folds}-fold cross-validation (contrast pairs kept together)…")
        proba, scope, _ = cross_val_predictions(posts, config, folds=folds, analyses=analyses, lemma_table=lemma_table,
                                                special_cases=special_cases)
        y = np.array([p.label for p in posts])
        real = np.array([p.is_real for p in posts])
        review_threshold, scope_threshold = choose_thresholds(y, proba, scope, real)
        for name, mask in (("all", np.ones(len(posts), bool)), ("authored", ~real), ("real", real)):
            if (mask & (y != OUT_OF_SCOPE)).sum():
                rep = classification_report(y[mask], proba[mask])
                metrics[f"cv_{name}"] = {k: rep[k] for k in ("n", "macro_f1", "accuracy", "ece", "per_label")}
                say(format_report(f"cross-validated, {name} posts", rep))
        none = y == OUT_OF_SCOPE
        metrics["cv_scope"] = {"scope_threshold": scope_threshold, "review_threshold": review_threshold}
        for name, mask in (("all", np.ones(len(posts), bool)), ("real", real)):
            if (none & mask).any() and (~none & mask).any():
                flagged_none = float((scope[none & mask] < scope_threshold).mean())
                flagged_in = float((scope[~none & mask] < scope_threshold).mean())
                metrics["cv_scope"][name] = {"none_flagged": flagged_none, "in_scope_flagged": flagged_in}
                say(f"out-of-scope check ({name} posts, threshold {scope_threshold:.2f}): flags "
                    f"{flagged_none:.1%} of 'none' posts, {flagged_in:.1%} of in-scope posts")
    chosen = _thresholds_on_unseen_sources(posts, config, ready, say, metrics)
    if chosen is not None:
        review_threshold, scope_threshold = chosen
    n_real = sum(p.is_real for p in posts)
    model = fit_model(posts, config, analyses=analyses, lemma_table=lemma_table, special_cases=special_cases)
    model.review_threshold, model.scope_threshold = review_threshold, scope_threshold
    path = save_model(model, json_path, metadata={
        "trained_on": {"posts": len(posts), "labels": counts, "data_sha256": data_hash(posts),
                       "files": [*bundled, *data, *([real_labels] if n_real else [])], "all_splits": all_splits,
                       "real_posts": {s: sum(p.meta.get("real_source") == s for p in posts)
                                      for s in sorted({p.meta.get("real_source", "") for p in posts if p.is_real})},
                       "text_keys": sorted({text_key(p.text) for p in posts})},
        "config": config.as_dict(),
        "metrics": metrics,
    })
    from tonecheck.model_folder import read_metadata

    files = read_metadata(path)
    say(f"model written to {path} (with {files.engine_path.name} and {files.estimators_path.name}; "
        f"{time.perf_counter() - t0:.0f}s)")
    return model
