"""Scoring files of drafts: CSV or JSON Lines in, the same rows out with the assessment added.

Streams: rows are read, scored ``batch_size`` at a time and written, so memory does not grow
with the file. A row whose text is missing, empty or invalid gets an ``error`` value and no
label; every other row is scored; the output has exactly one row per input row, in order,
with every input column. Output goes to a temporary file renamed only when complete.
"""

from __future__ import annotations

import csv
import json
import os
import sys
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from tonecheck.assess import Assessment, Model, _assess_checked, _assessment, _resolve, _work, _worker_pool, check_text
from tonecheck.labels import LABELS

__all__ = ["ScoreSummary", "InputError", "score_file", "OUTPUT_COLUMNS", "file_format"]

OUTPUT_COLUMNS = (
    "label",
    *(f"score_{lab.replace('-', '_')}" for lab in LABELS),
    "needs_review",
    "review_reasons",
    "evidence",
    "error",
)
PREFIX = "tonecheck_"


class InputError(Exception):
    """The input file cannot be read at all (exit code 2)."""


@dataclass
class ScoreSummary:
    rows: int = 0
    errors: int = 0
    error_lines: list[str] = field(default_factory=list)
    columns_renamed: bool = False


@dataclass
class _Row:
    line: int
    values: dict[str, Any]
    text: str | None = None
    error: str | None = None


def file_format(path: str | os.PathLike[str], explicit: str | None = None) -> str:
    if explicit:
        return explicit
    return "jsonl" if Path(path).suffix.lower() in (".jsonl", ".ndjson", ".json") else "csv"


def _read_csv(f: IO[str], text_column: str) -> tuple[list[str], Iterator[_Row]]:
    reader = csv.reader(f, strict=True)
    try:
        header = next(reader)
    except StopIteration:
        raise InputError("the input is empty: no header row") from None
    except csv.Error as e:
        raise InputError(f"malformed CSV header (line 1): {e}") from e
    if text_column not in header:
        raise InputError(f"no column {text_column!r} in the input; columns are {header} (use --text-column)")
    if len(set(header)) != len(header):
        raise InputError(f"duplicate column names in the header: {header}")
    index = header.index(text_column)

    def rows() -> Iterator[_Row]:
        while True:
            line = reader.line_num + 1
            try:
                fields = next(reader)
            except StopIteration:
                return
            except csv.Error as e:
                raise InputError(f"malformed CSV at line {reader.line_num}: {e}; nothing was written") from e
            if not fields:  # a blank line is no row
                continue
            values = dict(zip(header, fields))
            row = _Row(line, values)
            if len(fields) != len(header):
                row.error = f"malformed CSV line {line}: expected {len(header)} fields, got {len(fields)}"
                if len(fields) > len(header):
                    values["_extra_fields"] = json.dumps(fields[len(header):], ensure_ascii=False)
            elif index < len(fields):
                row.text = fields[index]
            yield row

    return header, rows()


def _read_jsonl(f: IO[str], text_column: str) -> tuple[list[str], Iterator[_Row]]:
    def rows() -> Iterator[_Row]:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as e:
                yield _Row(n, {}, error=f"invalid JSON on line {n}: {e.msg}")
                continue
            if not isinstance(obj, dict):
                yield _Row(n, {"value": obj}, error=f"line {n} is a JSON {type(obj).__name__}, not an object")
                continue
            text = obj.get(text_column)
            row = _Row(n, obj)
            if text is None:
                row.error = f"line {n} has no {text_column!r} field"
            elif not isinstance(text, str):
                row.error = f"line {n}: {text_column!r} is a {type(text).__name__}, not a string"
            else:
                row.text = text
            yield row

    return [], rows()


def _to_score(rows: list[_Row]) -> list[_Row]:
    """The rows whose text can be assessed; each of the others gets its error."""
    todo = []
    for row in rows:
        if row.error is None:
            try:
                check_text(row.text, name=f"line {row.line}")
                todo.append(row)
            except (TypeError, ValueError) as e:
                row.error = str(e)
    return todo


def _scored(batches: Iterator[list[_Row]], model: Model, jobs: int) -> Iterator[list[_Row]]:
    """The batches, in order, each row holding its assessment (``__result``) or its error.

    With ``jobs > 1`` batches are scored in that many processes, at most two each in flight
    (memory stays flat); rows are still written in input order.
    """
    if jobs == 1:
        for batch in batches:
            todo = _to_score(batch)
            if todo:
                for row, result in zip(todo, _assess_checked([r.text for r in todo], model)):
                    row.values["__result"] = result
            yield batch
        return
    from collections import deque

    with _worker_pool(model, jobs) as pool:
        pending: deque = deque()

        def done() -> list[_Row]:
            batch, todo, future = pending.popleft()
            if future is not None:
                for row, result in zip(todo, future.result()):
                    row.values["__result"] = _assessment(result)
            return batch

        for batch in batches:
            todo = _to_score(batch)
            pending.append((batch, todo, pool.submit(_work, [r.text for r in todo]) if todo else None))
            if len(pending) >= 2 * jobs:
                yield done()
        while pending:
            yield done()


def _added(result: Assessment | None, error: str | None) -> list[Any]:
    if result is None:
        return ["", *([""] * len(LABELS)), "", "", "", error or ""]
    d = result.to_dict()
    return [
        d["label"],
        *(f"{d['scores'][lab]:.4f}" for lab in LABELS),
        "true" if result.needs_review else "false",
        ";".join(result.review_reasons),
        json.dumps([[e.text, e.start, e.end, round(e.weight, 3)] for e in result.evidence], ensure_ascii=False),
        "",
    ]


def score_file(
    src: str | os.PathLike[str],
    dst: str | os.PathLike[str] | None,
    *,
    text_column: str = "text",
    fmt: str | None = None,
    model: Model | None = None,
    batch_size: int = 512,
    jobs: int = 1,
    on_batch: Callable[[int], None] | None = None,
    on_row: Callable[[dict[str, Any]], None] | None = None,
) -> ScoreSummary:
    """Score ``src`` into ``dst`` (``None`` or ``-``: standard output). See the module doc.

    ``jobs`` processes score batches side by side (1: in this process).
    """
    if jobs < 1:
        raise ValueError(f"jobs must be at least 1, not {jobs}")
    fmt = file_format(src, fmt)
    if fmt not in ("csv", "jsonl"):
        raise InputError(f"format must be csv or jsonl, not {fmt!r}")
    try:
        source = open(src, encoding="utf-8", newline="")
    except OSError as e:
        raise InputError(f"cannot read {src}: {e.strerror or e}") from e
    loaded = _resolve(model)
    summary = ScoreSummary()
    to_stdout = dst is None or str(dst) == "-"
    discard = str(dst) == os.devnull
    tmp_path: str | None = None
    try:
        with source:
            try:
                header, rows = (_read_csv if fmt == "csv" else _read_jsonl)(source, text_column)
            except UnicodeDecodeError as e:
                raise InputError(f"{src} is not UTF-8 text: {e}") from e
            if to_stdout:
                out: IO[str] = sys.stdout
            elif discard:
                out = open(os.devnull, "w", encoding="utf-8")
            else:
                target = Path(dst)  # type: ignore[arg-type]
                target.parent.mkdir(parents=True, exist_ok=True)
                fd, tmp_path = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".partial")
                out = os.fdopen(fd, "w", encoding="utf-8", newline="")
            try:
                _write(out, fmt, header, rows, loaded, batch_size, jobs, summary, on_batch, on_row)
            except UnicodeDecodeError as e:
                raise InputError(f"{src} is not UTF-8 text: {e}") from e
            finally:
                if out is not sys.stdout:
                    out.close()
        if tmp_path is not None:
            os.replace(tmp_path, dst)  # type: ignore[arg-type]
            tmp_path = None
    finally:
        if tmp_path is not None:
            Path(tmp_path).unlink(missing_ok=True)
    return summary


def _write(
    out: IO[str],
    fmt: str,
    header: list[str],
    rows: Iterator[_Row],
    model: Model,
    batch_size: int,
    jobs: int,
    summary: ScoreSummary,
    on_batch: Callable[[int], None] | None,
    on_row: Callable[[dict[str, Any]], None] | None,
) -> None:
    clash = bool(set(header) & set(OUTPUT_COLUMNS))
    names = [PREFIX + c if clash else c for c in OUTPUT_COLUMNS]
    summary.columns_renamed = clash
    writer = None
    if fmt == "csv":
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow([*header, *names])

    def write(batch: list[_Row]) -> None:
        for row in batch:
            result = row.values.pop("__result", None)
            added = _added(result, row.error)
            summary.rows += 1
            if row.error:
                summary.errors += 1
                if len(summary.error_lines) < 20:
                    summary.error_lines.append(row.error)
            if writer is not None:
                base = [row.values.get(h, "") for h in header]
                if "_extra_fields" in row.values:
                    added[-1] = f"{added[-1]} (extra fields: {row.values['_extra_fields']})"
                writer.writerow([*base, *added])
            else:
                obj = dict(row.values)
                if clash:
                    for c in names:
                        obj.pop(c, None)
                for name, value in zip(names, _json_values(result, row.error)):
                    obj[name] = value
                out.write(json.dumps(obj, ensure_ascii=False) + "\n")
            if on_row is not None:
                on_row({"line": row.line, "values": row.values, "result": result, "error": row.error})
        if on_batch is not None:
            on_batch(len(batch))

    for batch in _scored(_batches(rows, batch_size), model, jobs):
        write(batch)


def _batches(rows: Iterator[_Row], size: int) -> Iterator[list[_Row]]:
    batch: list[_Row] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def _json_values(result: Assessment | None, error: str | None) -> list[Any]:
    if result is None:
        return [None, *([None] * len(LABELS)), None, None, None, error]
    d = result.to_dict()
    return [
        d["label"],
        *(d["scores"][lab] for lab in LABELS),
        result.needs_review,
        list(result.review_reasons),
        d["evidence"],
        None,
    ]
