"""Reading a file written by ``tonecheck score`` (CSV or JSON Lines) back into rows.

The reader is lenient about what the batch writer may vary (``tonecheck_``-prefixed result
columns, evidence as ``[text, start, end, weight]`` lists or as objects, reasons as a
``;``-joined string or a list) and strict about what a report needs: the result columns
must be there, and evidence must point at its words in the text.

A CSV is read with the delimiter its header line uses (``,``, ``;`` or tab, as ``score``
writes the input's); one that starts with a UTF-8 byte-order mark was written for Excel
(``score --excel``, the only CSV ``score`` writes with one), so each cell it wrote behind a
``'`` to keep Excel from running it is read back as it was scored
(:func:`tonecheck.table_formulas.restore_formula`): the evidence offsets hold again.
"""

from __future__ import annotations

import codecs
import csv
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from tonecheck.labels import LABELS

__all__ = ["ScoredRow", "ScoredFileError", "read_scored", "RESULT_COLUMNS", "scored_format"]

RESULT_COLUMNS = (
    "label",
    *(f"score_{lab.replace('-', '_')}" for lab in LABELS),
    "needs_review",
    "review_reasons",
    "evidence",
    "error",
)
_PREFIX = "tonecheck_"
# A post is at most tonecheck.MAX_TEXT_LENGTH (50,000) characters; csv's default field limit
# (131,072) would still refuse an input column longer than that, which a report should show.
_FIELD_LIMIT = 16 * 1024 * 1024


class ScoredFileError(ValueError):
    """The file cannot be read as the output of ``tonecheck score``."""


@dataclass
class ScoredRow:
    """One scored row: its result, its text and its own input columns (in file order)."""

    line: int
    text: str
    label: str | None
    scores: tuple[float, ...] | None  # in tonecheck.labels.LABELS order
    needs_review: bool
    review_reasons: tuple[str, ...]
    evidence: tuple[tuple[str, int, int, float], ...]
    error: str
    columns: dict[str, str] = field(default_factory=dict)


def scored_format(path: str | os.PathLike[str], explicit: str | None = None) -> str:
    """``"jsonl"`` or ``"csv"``: ``explicit`` if given, else by the file's extension."""
    if explicit:
        if explicit not in ("csv", "jsonl"):
            raise ScoredFileError(f"format must be csv or jsonl, not {explicit!r}")
        return explicit
    return "jsonl" if Path(path).suffix.lower() in (".jsonl", ".ndjson", ".json") else "csv"


def read_scored(
    path: str | os.PathLike[str], *, text_column: str = "text", fmt: str | None = None
) -> tuple[list[str], list[ScoredRow]]:
    """The input column names (text and result columns left out) and the rows of ``path``.

    Raises :class:`ScoredFileError` naming the problem when the file is missing, not UTF-8,
    malformed, or not written by ``tonecheck score`` (no result columns, no text column).
    """
    fmt = scored_format(path, fmt)
    try:
        f = open(path, encoding="utf-8-sig", newline="")  # noqa: SIM115 - `with f` below; open errors apart
    except OSError as e:
        raise ScoredFileError(f"cannot read {path}: {e.strerror or e}") from e
    try:
        with f:
            if fmt == "csv":
                return _read_csv(f, text_column, str(path))
            return _read_jsonl(f, text_column, str(path))
    except UnicodeDecodeError as e:
        raise ScoredFileError(f"{path} is not UTF-8 text: {e}") from e


def _result_names(names: list[str], path: str) -> dict[str, str]:
    """Result column -> its name in the file (prefixed when the input had clashing names)."""
    for prefix in (_PREFIX, ""):
        if all(prefix + c in names for c in RESULT_COLUMNS):
            return {c: prefix + c for c in RESULT_COLUMNS}
    missing = [c for c in RESULT_COLUMNS if c not in names and _PREFIX + c not in names]
    raise ScoredFileError(
        f"{path} is not a file written by `tonecheck score`: it has no {', '.join(missing)} column(s); "
        f"its columns are {names}. Score it first: tonecheck score {path} --html REPORT.html"
    )


def _read_csv(f: IO[str], text_column: str, path: str) -> tuple[list[str], list[ScoredRow]]:
    from tonecheck.table_csv import read_header, sniff_delimiter
    from tonecheck.table_formulas import restore_formula

    old_limit = csv.field_size_limit(_FIELD_LIMIT)
    try:
        with open(path, "rb") as raw:
            for_excel = raw.read(3) == codecs.BOM_UTF8
        head = f.readline()
        f.seek(0)
        reader = csv.reader(f, strict=True, delimiter=sniff_delimiter(head, path))
        if for_excel:
            reader = _Restored(reader, restore_formula)  # type: ignore[assignment]
        header = read_header(reader, path, ScoredFileError, where="")
        names = _result_names(header, path)
        if text_column not in header:
            raise ScoredFileError(f"{path} has no column {text_column!r}; its columns are {header} (use --text-column)")
        own = [h for h in header if h not in names.values() and h != text_column]
        rows = []
        while True:
            try:
                fields = next(reader)
            except StopIteration:
                break
            except csv.Error as e:
                raise ScoredFileError(f"{path}: malformed CSV at line {reader.line_num}: {e}") from e
            if not fields:
                continue
            values = dict(zip(header, fields, strict=False))
            rows.append(_row(reader.line_num, values, names, text_column, own))
        return own, rows
    finally:
        csv.field_size_limit(old_limit)


class _Restored:
    """A csv reader whose cells go through ``restore`` (``line_num`` kept for messages)."""

    def __init__(self, reader: Any, restore: Any) -> None:
        self.reader, self.restore = reader, restore

    @property
    def line_num(self) -> int:
        return int(self.reader.line_num)

    def __iter__(self) -> _Restored:
        return self

    def __next__(self) -> list[str]:
        return [self.restore(c) for c in next(self.reader)]


def _read_jsonl(f: IO[str], text_column: str, path: str) -> tuple[list[str], list[ScoredRow]]:
    rows = []
    own: dict[str, None] = {}  # column names in order of first appearance
    names: dict[str, str] | None = None
    for n, line in enumerate(f, 1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as e:
            raise ScoredFileError(f"{path}: line {n} is not JSON: {e.msg}") from e
        if not isinstance(obj, dict):
            raise ScoredFileError(f"{path}: line {n} is a JSON {type(obj).__name__}, not an object")
        if names is None:
            names = _result_names(list(obj), path)
        for key in obj:
            if key not in names.values() and key != text_column:
                own.setdefault(key, None)
        rows.append(_row(n, obj, names, text_column, None))
    if names is None:
        raise ScoredFileError(f"{path} is empty: no scored row")
    return list(own), rows


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    return json.dumps(value, ensure_ascii=False)


def _row(
    line: int, values: dict[str, Any], names: dict[str, str], text_column: str, own: list[str] | None
) -> ScoredRow:
    text = _cell(values.get(text_column))
    error = _cell(values.get(names["error"]))
    label = _cell(values.get(names["label"])) or None
    if label is not None and label not in LABELS:
        error = error or f"unknown label {label!r}"
        label = None
    scores: tuple[float, ...] | None = None
    if label is not None:
        try:
            scores = tuple(float(values[names[f"score_{lab.replace('-', '_')}"]]) for lab in LABELS)
        except (TypeError, ValueError):
            scores = None
    review = values.get(names["needs_review"])
    needs_review = review is True or (isinstance(review, str) and review.strip().lower() in ("true", "1", "yes"))
    reasons = values.get(names["review_reasons"])
    if isinstance(reasons, str) and reasons.strip().startswith("["):  # a JSON list, as score writes it
        try:
            parsed = json.loads(reasons)
        except ValueError:
            parsed = []
        reason_list = tuple(str(r) for r in parsed) if isinstance(parsed, list) else ()
    elif isinstance(reasons, str):
        reason_list = tuple(r for r in reasons.split(";") if r)
    elif isinstance(reasons, list):
        reason_list = tuple(str(r) for r in reasons)
    else:
        reason_list = ()
    keys = own if own is not None else [k for k in values if k not in names.values() and k != text_column]
    columns = {k: _cell(values.get(k)) for k in keys}
    return ScoredRow(
        line=line,
        text=text,
        label=label,
        scores=scores,
        needs_review=needs_review or label is None,
        review_reasons=reason_list,
        evidence=tuple(_evidence(values.get(names["evidence"]), text)),
        error=error,
        columns=columns,
    )


def _evidence(value: Any, text: str) -> Iterator[tuple[str, int, int, float]]:
    """The evidence items whose span holds their word in ``text``; others are dropped."""
    if isinstance(value, str):
        if not value.strip():
            return
        try:
            value = json.loads(value)
        except json.JSONDecodeError:
            return
    if not isinstance(value, list):
        return
    for item in value:
        if isinstance(item, dict):
            item = [item.get("text"), item.get("start"), item.get("end"), item.get("weight")]
        if not isinstance(item, list) or len(item) != 4:
            continue
        word, start, end, weight = item
        if not (isinstance(start, int) and isinstance(end, int) and isinstance(weight, (int, float))):
            continue
        if 0 <= start < end <= len(text) and text[start:end] == word:
            yield (word, start, end, float(weight))
