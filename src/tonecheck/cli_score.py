"""``tonecheck score``: its options checked, the rows scored into a file (with a progress bar),
and what it prints: the ``--table`` of results, the ``--verbose`` summary, the rows in error."""

from __future__ import annotations

import argparse
import os
import sys
import time
from typing import TYPE_CHECKING, Any

from tonecheck.cli import EXIT_OK, EXIT_ROW_ERRORS, note, usage
from tonecheck.cli_options import chosen_model, review_policy
from tonecheck.terminal import fit, printable

if TYPE_CHECKING:  # annotations only: the command imports the library lazily
    from tonecheck.batch import ScoreSummary

__all__ = ["cmd_score", "TABLE_MAX_ROWS"]

#: Rows the table of ``score --table`` shows at most (the output file holds them all).
TABLE_MAX_ROWS = 10_000


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


def cmd_score(args: argparse.Namespace) -> int:
    from tonecheck.batch import ScoredRow, score_file

    problem = _score_options_problem(args)
    if problem is not None:
        return usage(problem)
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
        review = review_policy(args)
    except ValueError as e:
        return usage(str(e))
    model = chosen_model(args.model)
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
            on_note=note(args), review=review,
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
        print(f"  {printable(line)}", file=sys.stderr)
    if summary.errors > len(summary.error_lines):
        print(f"  … and {summary.errors - len(summary.error_lines):,} more (see the error column)", file=sys.stderr)


def _output_shown(requested: str | None, written: str | None) -> str:
    if requested != written:
        return "a temporary file for the --html report (-o FILE keeps the scored rows)"
    return "standard output" if requested in (None, "-") else requested


# --- the table --------------------------------------------------------------------------


def _draft_width() -> int:
    import shutil

    columns = shutil.get_terminal_size((110, 24)).columns
    return max(20, min(70, columns - 40))


def _table_line(text: str, label: str, conf: str, note: str, width: int) -> str:
    return f"{fit(printable(text), width)}  {label:<12} {conf:>5}  {printable(note)}"


def _print_table(lines: list[str], width: int, model: Any) -> None:
    threshold = _review_threshold(model)
    below = f"; below {threshold:.0%} the post is flagged unsure" if threshold is not None else ""
    print(f"conf: the model's probability for the label it gives (calibrated{below})")
    print(f"{fit('draft', width)}  {'label':<12} {'conf':>5}  note")
    print("-" * (width + 32))
    for line in lines:
        print(line)


def _review_threshold(model: Any) -> float | None:
    value = getattr(model, "metadata", {}).get("review_threshold")
    return float(value) if isinstance(value, (int, float)) else None
