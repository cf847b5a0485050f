"""Tables of posts as people have them: the types every reader and writer of a table shares.

Every command reads and writes tables the same way:

- :mod:`tonecheck.table_input` opens an input (a path or standard input): its format, its
  text encoding, then the records of :mod:`tonecheck.table_csv`, :mod:`tonecheck.table_jsonl`
  or :mod:`tonecheck.table_excel`;
- :mod:`tonecheck.table_columns` matches the column names people type to the header's;
- :mod:`tonecheck.table_output` writes CSV, JSON Lines or ``.xlsx`` atomically, through
  :mod:`tonecheck.table_formulas` when the CSV is for a spreadsheet.

A row that cannot be read is a :class:`Record` with an ``error``; only faults that leave
nothing trustworthy to read refuse the whole file (:class:`InputError`).

Exceptions: ``ToneCheckError`` ← :class:`InputError` (also a ``ValueError``) and
:class:`OutputError` (also an ``OSError``); :class:`UnwritableRow` (a ``ValueError``) for one
row the writer cannot encode.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tonecheck.errors import ToneCheckError

__all__ = [
    "FORMATS",
    "Record",
    "Table",
    "InputError",
    "OutputError",
    "UnwritableRow",
    "format_of_path",
]

FORMATS = ("csv", "jsonl", "xlsx")

_SUFFIXES = {
    ".csv": "csv", ".tsv": "csv", ".tab": "csv", ".txt": "csv",
    ".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "jsonl",
    ".xlsx": "xlsx", ".xlsm": "xlsx",
}


class InputError(ToneCheckError, ValueError):
    """The input cannot be read at all (exit code 2); the message names the file and line."""


class OutputError(ToneCheckError, OSError):
    """The output cannot be written: a folder, no space, no permission (exit code 3)."""


class UnwritableRow(ValueError):
    """One row cannot be encoded in the output format (nested too deeply for JSON)."""


@dataclass
class Record:
    """One row as read: ``values`` by column (strings for CSV and xlsx, JSON values for JSON
    Lines); ``line`` is where it starts (file line, or sheet row for xlsx); ``error`` says why
    it could not be read whole (without its position: whoever reports it adds that)."""

    line: int
    values: dict[str, Any]
    error: str | None = None


@dataclass
class Table:
    """An open input. ``header`` is empty for JSON Lines (each row has its own keys)."""

    name: str
    format: str
    header: list[str]
    records: Iterator[Record]
    encoding: str | None = None
    delimiter: str | None = None
    sheet: str | None = None
    #: How positions are named in messages: "line" (CSV, JSON Lines) or "row" (xlsx).
    unit: str = "line"
    #: The input is a regular file (not standard input, a pipe or a device).
    path: Path | None = None
    #: What :meth:`close` calls, last first (the file, the workbook).
    closers: list[Callable[[], None]] = field(default_factory=list, repr=False)

    def close(self) -> None:
        for close in reversed(self.closers):
            close()
        self.closers.clear()

    def __enter__(self) -> Table:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def format_of_path(path: str | os.PathLike[str] | None) -> str | None:
    """The format a file name says (``.csv``/``.tsv``/``.txt``, ``.jsonl``/``.ndjson``/``.json``,
    ``.xlsx``), or None."""
    if path is None or str(path) == "-":
        return None
    suffix = Path(path).suffix.lower()
    if suffix == ".xls":
        raise InputError(f"{path}: old Excel .xls workbooks are not read; save it as .xlsx or CSV")
    return _SUFFIXES.get(suffix)

