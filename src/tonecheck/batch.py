"""Scoring tables of drafts: the rows of a CSV, JSON Lines or xlsx file out, each with its
assessment added.

Streams: rows are read (:mod:`tonecheck.table_input`), scored ``batch_size`` at a time and
written, so memory does not grow with the file. A row whose text is missing, empty, too
long or unreadable gets an ``error`` value and no label; every other row is scored; the
output has exactly one row per input row, in order, with every input column. A file is
written to a temporary file renamed only when complete.
"""

from __future__ import annotations

import contextlib
import os
import signal
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass, field
from typing import Any

from tonecheck.labels import LABELS
from tonecheck.results import DEFAULT_POLICY, Assessment, ReviewPolicy
from tonecheck.runtime import Model, assessment_of, check_text, in_order, resolve_model, score_texts
from tonecheck.table_columns import match_column, missing_column_message
from tonecheck.table_input import open_table
from tonecheck.table_output import open_writer
from tonecheck.tables import InputError, OutputError, Record, Table, UnwritableRow, format_of_path

__all__ = [
    "OUTPUT_COLUMNS",
    "PREFIX",
    "ScoreSummary",
    "ScoredRow",
    "InputError",
    "OutputError",
    "WorkerError",
    "score_file",
    "output_format",
]

#: The columns ``score`` adds, in order: the keys of :meth:`Assessment.to_record`.
OUTPUT_COLUMNS = (
    "label",
    *(f"score_{lab.replace('-', '_')}" for lab in LABELS),
    "needs_review",
    "review_reasons",
    "evidence",
    "error",
)
#: Put before the added columns' names when the input already has one of them.
PREFIX = "tonecheck_"


class WorkerError(RuntimeError):
    """A worker process stopped without returning its batch (killed, out of memory)."""


@dataclass
class ScoreSummary:
    """What a run read, wrote and could not score."""

    rows: int = 0
    errors: int = 0
    #: The first ``max_error_lines`` row errors, each naming its line.
    error_lines: list[str] = field(default_factory=list)
    columns_renamed: bool = False
    input_format: str = ""
    output_format: str = ""
    encoding: str | None = None
    delimiter: str | None = None
    sheet: str | None = None
    #: The input column the texts were read from (as spelled in the input).
    text_column: str = ""


@dataclass
class ScoredRow:
    """One row as ``on_row`` sees it: where it was, its text, its result or error."""

    line: int
    text: Any
    result: Assessment | None
    error: str | None


@dataclass
class _Row:
    record: Record
    unit: str = "line"
    text: str | None = None
    error: str | None = None
    result: Assessment | None = None


def output_format(dst: str | os.PathLike[str] | None, explicit: str | None, input_format: str) -> str:
    """The output format: ``explicit``, else what ``dst``'s extension says, else the
    input's (CSV for a workbook written to standard output)."""
    if explicit:
        return explicit
    by_name = None
    if dst is not None and str(dst) not in ("-", os.devnull):
        with contextlib.suppress(InputError):  # an .xls name is refused below, when it is written
            by_name = format_of_path(dst)
    if by_name:
        return by_name
    if input_format == "xlsx" and (dst is None or str(dst) == "-"):
        return "csv"
    return input_format


def score_file(
    src: str | os.PathLike[str],
    dst: str | os.PathLike[str] | None,
    *,
    text_column: str = "text",
    fmt: str | None = None,
    out_format: str | None = None,
    encoding: str | None = None,
    delimiter: str | None = None,
    sheet: str | None = None,
    excel: bool = False,
    model: Model | None = None,
    review: ReviewPolicy | None = None,
    batch_size: int = 512,
    jobs: int = 1,
    max_error_lines: int = 20,
    on_batch: Callable[[int], None] | None = None,
    on_row: Callable[[ScoredRow], None] | None = None,
    on_note: Callable[[str], None] | None = None,
) -> ScoreSummary:
    """Score ``src`` (a path or ``-``) into ``dst`` (a path; None or ``-``: standard output).

    ``fmt``, ``encoding``, ``delimiter`` and ``sheet`` force how the input is read (see
    :func:`tonecheck.table_input.open_table`); ``out_format`` the output format (default: see
    :func:`output_format`); ``excel`` writes CSV with ``;`` and a UTF-8 byte-order mark, each
cell that starts like a formula behind a ``'`` (:func:`tonecheck.table_formulas.neutralise_formula`).
    ``jobs`` processes score batches side by side (1: in this process); ``review`` sets when
    ``needs_review`` is raised (:class:`~tonecheck.results.ReviewPolicy`; default: the model's).

    Raises :class:`InputError` (the input cannot be read), :class:`OutputError` (the output
    cannot be written; checked before anything is scored where it can be) and
    :class:`WorkerError`.
    """
    if jobs < 1:
        raise ValueError(f"jobs must be at least 1, not {jobs}")
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, not {batch_size}")
    summary = ScoreSummary()
    with open_table(src, fmt=fmt, encoding=encoding, delimiter=delimiter, sheet=sheet, on_note=on_note) as table:
        summary.input_format, summary.encoding, summary.delimiter, summary.sheet = (
            table.format, table.encoding, table.delimiter, table.sheet)
        out_fmt = output_format(dst, out_format or ("csv" if excel else None), table.format)
        if excel and out_fmt != "csv":
            raise ValueError(f"excel=True writes CSV, not {out_fmt}")
        summary.output_format = out_fmt
        column = _text_column(table, text_column)
        batches = _batches(_rows(table, column, text_column), batch_size)
        first = next(batches, [])
        if table.format == "jsonl":
            column = _check_jsonl_column(first, text_column, table.name)
        summary.text_column = column
        header = table.header or _jsonl_keys(first)
        clash = bool(set(header) & set(OUTPUT_COLUMNS)) or (table.format == "jsonl" and _mentions_outputs(table))
        names = [PREFIX + c if clash else c for c in OUTPUT_COLUMNS]
        summary.columns_renamed = clash
        both = [n for n in names if n in header] if clash else []
        if both:
            raise InputError(f"{table.name}: the input has both {both[0].removeprefix(PREFIX)!r} and {both[0]!r} "
                             "columns, the names tonecheck adds; rename one of them")
        tab_separated = str(dst).lower().endswith((".tsv", ".tab"))
        out_delimiter = ";" if excel else "\t" if tab_separated else table.delimiter or ","
        with open_writer(dst, out_fmt, [*header, *names], delimiter=out_delimiter, bom=excel,
                         neutralise_formulas=excel) as writer:
            loaded = resolve_model(model)  # after the output is known to be writable: loading takes a second
            state = _Writing(writer, header, names, table, summary, max_error_lines, on_row, on_note)
            scored = _scored(_chain(first, batches), loaded, jobs, review or DEFAULT_POLICY)
            with contextlib.closing(scored):
                for batch in scored:
                    state.write(batch)
                    writer.flush()
                    if on_batch is not None:
                        on_batch(len(batch))
            writer.commit()
    return summary


def _text_column(table: Table, wanted: str) -> str:
    if not table.header:  # JSON Lines: each row's own keys, checked on the first batch
        return wanted
    found = match_column(wanted, table.header)
    if found is None:
        raise InputError(f"{table.name}: " + missing_column_message(wanted, table.header))
    return found


def _rows(table: Table, column: str, wanted: str) -> Iterator[_Row]:
    """The table's rows, each with its text or its error (the text is not yet checked)."""
    unit = table.unit
    jsonl = table.format == "jsonl"
    for record in table.records:
        row = _Row(record, unit)
        if record.error is not None:
            row.error = f"{unit} {record.line}: {record.error}"
        elif not jsonl:
            row.text = record.values.get(column)
        else:
            values = record.values
            key = column if column in values else match_column(wanted, list(values))
            n = record.line
            if key is None:
                row.error = f"{unit} {n} has no {wanted!r} field"
            elif values[key] is None:
                row.error = f"{unit} {n}: {key!r} is null"
            elif not isinstance(values[key], str):
                row.error = f"{unit} {n}: {key!r} is a {type(values[key]).__name__}, not a string"
            else:
                row.text = values[key]
        yield row


def _check_jsonl_column(first: list[_Row], wanted: str, name: str) -> str:
    """The text field of a JSON Lines input: refused if no object of the first batch has it."""
    objects = [r.record.values for r in first if r.record.error is None]
    for values in objects:
        key = wanted if wanted in values else match_column(wanted, list(values))
        if key is not None:
            return key
    if objects:
        raise InputError(f"{name}: " + missing_column_message(wanted, _jsonl_keys(first)).replace("column", "field", 1))
    return wanted


def _jsonl_keys(rows: list[_Row]) -> list[str]:
    """The keys of JSON objects in first-seen order (the columns of a CSV or xlsx output)."""
    keys: dict[str, None] = {}
    for r in rows:
        keys.update(dict.fromkeys(r.record.values))
    return list(keys)


def _mentions_outputs(table: Table) -> bool:
    """Whether a JSON Lines file has an output column's name as a key anywhere in it.

    Read as bytes (fast, before scoring), so the added names are the same on every row; a
    match inside a text only costs the ``tonecheck_`` prefix. Standard input cannot be read
    twice: there the first batch decides, and a later row with such a key is an error.
    """
    if table.path is None or (table.encoding or "").replace("_", "-") not in ("utf-8", "utf-8-sig", "cp1252"):
        return False
    import re

    pattern = re.compile(rb'"(?:' + b"|".join(c.encode() for c in OUTPUT_COLUMNS) + rb')"\s*:')
    tail = b""
    with open(table.path, "rb") as f:
        while chunk := f.read(1 << 20):
            if pattern.search(tail + chunk):
                return True
            tail = chunk[-64:]
    return False


def _batches(rows: Iterator[_Row], size: int) -> Iterator[list[_Row]]:
    batch: list[_Row] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def _chain(first: list[_Row], rest: Iterator[list[_Row]]) -> Iterator[list[_Row]]:
    if first:
        yield first
    yield from rest


def _to_score(rows: list[_Row]) -> list[_Row]:
    """The rows whose text can be assessed; each of the others gets its error."""
    todo = []
    for row in rows:
        if row.error is None:
            try:
                check_text(row.text, name=f"{row.unit} {row.record.line}")
                todo.append(row)
            except (TypeError, ValueError) as e:
                row.error = str(e)
    return todo


def _scored(batches: Iterator[list[_Row]], model: Model, jobs: int,
            policy: ReviewPolicy = DEFAULT_POLICY) -> Generator[list[_Row], None, None]:
    """The batches, in order, each row holding its assessment or its error.

    With ``jobs > 1`` batches are scored in that many processes, at most two each in flight
    (memory stays flat); rows are still written in input order. The workers are forked with
    SIGINT, SIGTERM and SIGHUP blocked, so that none reaches them before they set their own
    handling (:func:`tonecheck.runtime._worker_signals`): this process handles them and stops
    the workers.
    """
    if jobs == 1:
        for batch in batches:
            todo = _to_score(batch)
            if todo:
                for row, result in zip(todo, score_texts([r.text for r in todo], model, policy), strict=True):  # type: ignore[misc]
                    row.result = result
            yield batch
        return
    from concurrent.futures.process import BrokenProcessPool

    def finish(item: tuple[list[_Row], list[_Row]], results: list[Any]) -> list[_Row]:
        batch, todo = item
        for row, result in zip(todo, results, strict=True):
            row.result = assessment_of(result)
        return batch

    try:
        yield from in_order(((b, _to_score(b)) for b in batches), lambda item: [r.text for r in item[1]],  # type: ignore[misc]
                            finish, model, jobs, policy, first_submit=lambda: _signals_blocked(True))
    except BrokenProcessPool as e:  # from submit() or result(): the pool is unusable either way
        raise WorkerError(
            "a worker process stopped without finishing its batch (killed, or out of memory?)"
        ) from e


@contextlib.contextmanager
def _signals_blocked(block: bool) -> Iterator[None]:
    signals = {signal.SIGINT, signal.SIGTERM, *([signal.SIGHUP] if hasattr(signal, "SIGHUP") else [])}
    if not block or not hasattr(signal, "pthread_sigmask"):
        yield
        return
    old = signal.pthread_sigmask(signal.SIG_BLOCK, signals)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)


def _fields(row: _Row) -> dict[str, Any]:
    """The added fields of a row, by output column: its result's :meth:`Assessment.to_record`
    (a row in error is an assessment with an error and no label)."""
    result = row.result
    if result is None:
        result = Assessment(label=None, scores={}, needs_review=True, error=row.error or "not scored")
    return result.to_record()


class _Writing:
    """Writes scored batches: the row's own values, then the added fields."""

    def __init__(self, writer: Any, header: list[str], names: list[str], table: Table, summary: ScoreSummary,
                 max_error_lines: int, on_row: Callable[[ScoredRow], None] | None,
                 on_note: Callable[[str], None] | None) -> None:
        self.writer, self.header, self.names, self.summary = writer, header, names, summary
        self.jsonl_in = table.format == "jsonl"
        self.unit = table.unit
        self.columns = set(header)
        self.max_error_lines = max_error_lines
        self.on_row, self.on_note = on_row, on_note
        self.said_new_keys = False

    def write(self, batch: list[_Row]) -> None:
        for row in batch:
            values = row.record.values
            if self.jsonl_in:
                clashing = [n for n in self.names if n in values]
                if clashing:
                    row.result = None
                    row.error = (f"{self.unit} {row.record.line} has the field(s) {clashing}, which the first rows did "
                                 f"not have and tonecheck adds: the row is kept as it is")
                if self.writer.format != "jsonl" and not self.said_new_keys and not values.keys() <= self.columns:
                    self.said_new_keys = True
                    if self.on_note is not None:
                        extra = [k for k in values if k not in self.columns]
                        self.on_note(f"{self.unit} {row.record.line} has fields the first rows do not have ({extra}); "
                                     f"they are left out of the {self.writer.format} output")
            fields = _fields(row)
            out = dict(values)
            for name, value in zip(self.names, fields.values(), strict=False):
                out.setdefault(name, value)
            try:
                self.writer.write(out)
            except UnwritableRow as e:
                row.result = None
                row.error = f"{self.unit} {row.record.line}: {e}; only tonecheck's fields are written"
                self.writer.write(dict(zip(self.names, _fields(row).values(), strict=False)))
            self._count(row)

    def _count(self, row: _Row) -> None:
        summary = self.summary
        summary.rows += 1
        if row.error:
            summary.errors += 1
            if len(summary.error_lines) < self.max_error_lines:
                summary.error_lines.append(row.error)
        if self.on_row is not None:
            text = row.text if row.text is not None else row.record.values.get(summary.text_column)
            self.on_row(ScoredRow(row.record.line, text, row.result, row.error))
