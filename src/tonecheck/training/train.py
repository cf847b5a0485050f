"""Retraining, what ``tonecheck train`` does (:func:`train_and_save`): the posts loaded and checked,
cross-validated, the review thresholds chosen, the model fitted and saved atomically.

The steps live beside it: :mod:`~tonecheck.training.config` (what to fit),
:mod:`~tonecheck.training.fitting` (fitting, cross-validation), :mod:`~tonecheck.training.metrics`
and :mod:`~tonecheck.training.thresholds`. Never imported by :mod:`tonecheck.assess`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence
from typing import Any, cast

import numpy as np

from tonecheck.labels import LABELS, OUT_OF_SCOPE
from tonecheck.results import DEFAULT_MARGIN
from tonecheck.training.config import TrainConfig
from tonecheck.training.corpus import Post, validate_posts
from tonecheck.training.fitted import FittedModel
from tonecheck.training.fitting import Prepared, cross_val_predictions, fit_model, prepare
from tonecheck.training.metrics import classification_report, format_report
from tonecheck.training.thresholds import Thresholds, choose_thresholds, flagged

__all__ = ["load_training_posts", "train_and_save"]

log = logging.getLogger(__name__)


def _thresholds_on_unseen_sources(posts: Sequence[Post], config: TrainConfig, ready: Prepared, say: Any,
                                  metrics: dict[str, Any]) -> Thresholds | None:
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
    chosen = Thresholds(**summary["thresholds"])
    say(f"unseen real sources (pooled): macro-F1 {pooled['macro_f1']:.3f}; review flag (unsure below "
        f"{chosen.review:.2f}, close call below {chosen.margin:.2f}, out of scope below {chosen.scope:.2f}): "
        f"{pooled['none_flagged']:.1%} of 'none' posts, {pooled['in_scope_flagged']:.1%} of in-scope posts")
    return chosen


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
    thresholds = Thresholds(0.5, 0.5, DEFAULT_MARGIN)
    if folds and folds > 1:
        say(f"{folds}-fold cross-validation (contrast pairs kept together)…")
        proba, scope, _ = cross_val_predictions(posts, config, folds=folds, analyses=analyses, lemma_table=lemma_table,
                                                special_cases=special_cases)
        y = np.array([p.label for p in posts])
        real = np.array([p.is_real for p in posts])
        thresholds = choose_thresholds(y, proba, scope, real)
        for name, mask in (("all", np.ones(len(posts), bool)), ("authored", ~real), ("real", real)):
            if (mask & (y != OUT_OF_SCOPE)).sum():
                rep = classification_report(y[mask], proba[mask])
                metrics[f"cv_{name}"] = {k: rep[k] for k in ("n", "macro_f1", "accuracy", "ece", "per_label")}
                say(format_report(f"cross-validated, {name} posts", rep))
        none = y == OUT_OF_SCOPE
        metrics["cv_scope"] = {"scope_threshold": thresholds.scope, "review_threshold": thresholds.review,
                               "review_margin": thresholds.margin}
        flags = flagged(proba, scope, thresholds)
        for name, mask in (("all", np.ones(len(posts), bool)), ("real", real)):
            if (none & mask).any() and (~none & mask).any():
                flagged_none, flagged_in = float(flags[none & mask].mean()), float(flags[~none & mask].mean())
                metrics["cv_scope"][name] = {"none_flagged": flagged_none, "in_scope_flagged": flagged_in}
                say(f"review flag in cross-validation ({name} posts): flags "
                    f"{flagged_none:.1%} of 'none' posts, {flagged_in:.1%} of in-scope posts")
    chosen = _thresholds_on_unseen_sources(posts, config, ready, say, metrics)
    if chosen is not None:
        thresholds = chosen
    n_real = sum(p.is_real for p in posts)
    model = fit_model(posts, config, analyses=analyses, lemma_table=lemma_table, special_cases=special_cases)
    model.review_threshold, model.scope_threshold, model.review_margin = thresholds
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
