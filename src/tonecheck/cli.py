"""The ``tonecheck`` command: assess, score, train, evaluate.

Exit codes: 0 success (every row scored); 1 ``score`` finished but some rows are in error
(a summary is printed on standard error); 2 usage error or unreadable input.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence

__all__ = ["main"]

EXIT_OK = 0
EXIT_ROW_ERRORS = 1
EXIT_USAGE = 2

DEFAULT_AUTHORED = "data/authored.csv"
DEFAULT_REAL_LABELS = "data/real_labels.csv"
DEFAULT_REAL_TEXTS = "../shared/data/real/confinement_2020_fr.csv"


def _parser() -> argparse.ArgumentParser:
    from tonecheck import __version__

    parser = argparse.ArgumentParser(
        prog="tonecheck",
        description="Is a French crisis-time post supportive, promotional, tone-deaf or preventive?",
        epilog="Exit codes: 0 ok, 1 some rows of `score` in error, 2 usage or unreadable input.",
    )
    parser.add_argument("--version", action="version", version=f"tonecheck {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("assess", help="assess one post")
    p.add_argument("text", help="the post; '-' reads it from standard input")
    p.add_argument("--json", action="store_true", help="print the full result as JSON")
    p.add_argument("--model", help="a model saved by `tonecheck train` (default: the shipped one)")

    p = sub.add_parser("score", help="score a CSV or JSONL file of posts")
    p.add_argument("input", help="CSV (with a header) or JSONL file")
    p.add_argument("-o", "--output", help="output file, same format (default: standard output)")
    p.add_argument("--text-column", default="text", help="column holding the post (default: text)")
    p.add_argument("--format", choices=["csv", "jsonl"], help="input and output format (default: by extension)")
    p.add_argument("--batch-size", type=int, default=512, help="posts scored at a time (default: 512)")
    p.add_argument("--jobs", type=int, default=1, help="processes scoring batches side by side (default: 1)")
    p.add_argument("--table", action="store_true", help="print a readable table of the results")
    p.add_argument("--model", help="a model saved by `tonecheck train`")
    p.add_argument("--no-progress", action="store_true", help="never show a progress bar")
    from tonecheck.pages.commands import add_commands, add_score_options  # pages: report, serve, score --html

    add_score_options(p)

    p = sub.add_parser("train", help="train a model on labelled posts")
    p.add_argument("--data", action="append", help=f"CSV/JSONL with text,label[,split] (repeatable; default: {DEFAULT_AUTHORED})")
    p.add_argument("--real-labels", default=DEFAULT_REAL_LABELS, help="id,label[,split] file of real posts ('' to skip)")
    p.add_argument("--real-texts", default=DEFAULT_REAL_TEXTS, help="id,text file the real labels are joined with")
    p.add_argument("--output", default="tonecheck-model", help="folder to write the model into (tonecheck.skops, .npz and .json)")
    p.add_argument("--force", action="store_true", help="overwrite an existing model there")
    p.add_argument("--all-splits", action="store_true", help="train on train and test splits (default: train only)")
    p.add_argument("--folds", type=int, default=5, help="cross-validation folds for the report (0: skip)")

    p = sub.add_parser("evaluate", help="evaluate a model on labelled data, or write the full report")
    p.add_argument("data", nargs="?", help="CSV/JSONL with text,label columns; without it, the full report")
    p.add_argument("--model", help="a model saved by `tonecheck train`")
    p.add_argument("--text-column", default="text")
    p.add_argument("--label-column", default="label")
    p.add_argument("--report", default="reports", help="folder of the full report (default: reports)")
    p.add_argument("--real-texts", default=DEFAULT_REAL_TEXTS)
    p.add_argument("--quick", action="store_true", help="full report with fewer model candidates")
    add_commands(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    parser = _parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as e:  # argparse exits 2 on usage errors, 0 on --help/--version
        return int(e.code or 0)
    handler = getattr(args, "handler", None) or {"assess": _cmd_assess, "score": _cmd_score, "train": _cmd_train, "evaluate": _cmd_evaluate}[args.command]
    if args.command == "score" and getattr(args, "html", None):
        from functools import partial

        from tonecheck.pages.commands import score_with_html

        handler = partial(score_with_html, score=_cmd_score)
    from tonecheck.errors import ToneCheckError

    try:
        return handler(args)
    except ToneCheckError as e:
        print(f"tonecheck: error: {e}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("tonecheck: interrupted", file=sys.stderr)
        return 130


def _model(path: str | None):  # noqa: ANN202 - returns tonecheck.Model
    from tonecheck.assess import load_model

    return load_model(path) if path else None


def _cmd_assess(args: argparse.Namespace) -> int:
    from tonecheck.assess import assess

    text = sys.stdin.read() if args.text == "-" else args.text
    try:
        result = assess(text, model=_model(args.model))
    except (TypeError, ValueError) as e:
        print(f"tonecheck: error: {e}", file=sys.stderr)
        return EXIT_USAGE
    if args.json:
        print(json.dumps(result.to_dict(), ensure_ascii=False, indent=2))
        return EXIT_OK
    print(f"label: {result.label.value}")
    for label, score in sorted(result.scores.items(), key=lambda kv: -kv[1]):
        print(f"  {label.value:<12} {score:6.1%} {'█' * round(score * 30)}")
    if result.evidence:
        print("evidence: " + ", ".join(f"{e.text!r} ({e.weight:+.2f})" for e in result.evidence))
    if result.needs_review:
        print("needs review: " + ", ".join(result.review_reasons))
    return EXIT_OK


def _cmd_score(args: argparse.Namespace) -> int:
    from tonecheck.batch import InputError, score_file

    if args.batch_size < 1:
        print(f"tonecheck: error: --batch-size must be at least 1, not {args.batch_size}", file=sys.stderr)
        return EXIT_USAGE
    if args.jobs < 1:
        print(f"tonecheck: error: --jobs must be at least 1, not {args.jobs}", file=sys.stderr)
        return EXIT_USAGE
    bar = None
    if not args.no_progress and sys.stderr.isatty():
        from tqdm import tqdm

        bar = tqdm(unit=" posts", file=sys.stderr)
    table: list[tuple[str, str, str, str]] = []

    def keep(row: dict) -> None:
        result = row["result"]
        text = str(row["values"].get(args.text_column, ""))
        if result is None:
            table.append((text, "ERROR", "", row["error"] or ""))
        else:
            flag = "review: " + ",".join(result.review_reasons) if result.needs_review else ""
            table.append((text, result.label.value, f"{max(result.scores.values()):.0%}", flag))

    # With --table and no --output the table is the result; the scored rows are discarded.
    output = args.output if args.output or not args.table else os.devnull
    try:
        summary = score_file(
            args.input, output, text_column=args.text_column, fmt=args.format, model=_model(args.model),
            batch_size=args.batch_size, jobs=args.jobs, on_batch=bar.update if bar is not None else None, on_row=keep if args.table else None,
        )
    except InputError as e:
        print(f"tonecheck: error: {e}", file=sys.stderr)
        return EXIT_USAGE
    finally:
        if bar is not None:
            bar.close()
    if args.table:
        _print_table(table)
        print(f"\n{summary.rows} rows scored" + (f" into {output}" if args.output else ""))
    if summary.columns_renamed:
        print("tonecheck: the input already has result column names; added columns are prefixed 'tonecheck_'", file=sys.stderr)
    if summary.errors:
        print(f"tonecheck: {summary.errors} of {summary.rows} rows not scored:", file=sys.stderr)
        for line in summary.error_lines:
            print(f"  {line}", file=sys.stderr)
        return EXIT_ROW_ERRORS
    return EXIT_OK


def _print_table(rows: list[tuple[str, str, str, str]]) -> None:
    width = 70
    print(f"{'draft':<{width}}  {'label':<12} {'conf':>5}  note")
    print("-" * (width + 32))
    for text, label, conf, note in rows:
        flat = " ".join(text.split())
        short = flat if len(flat) <= width else flat[: width - 1] + "…"
        print(f"{short:<{width}}  {label:<12} {conf:>5}  {note}")


def _cmd_train(args: argparse.Namespace) -> int:
    from tonecheck.train import train_and_save

    train_and_save(
        data=args.data or [DEFAULT_AUTHORED],
        real_labels=args.real_labels or None,
        real_texts=args.real_texts,
        output=args.output,
        force=args.force,
        all_splits=args.all_splits,
        folds=args.folds,
    )
    return EXIT_OK


def _cmd_evaluate(args: argparse.Namespace) -> int:
    if args.data:
        from tonecheck.evaluation import evaluate_file

        return evaluate_file(args)
    from tonecheck.report import write_report

    return write_report(args)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
