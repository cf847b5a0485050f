"""CSV records: the delimiter a header line uses, the header checked, each line a
:class:`~tonecheck.tables.Record`.

A line with the wrong number of fields, or text after a closing quote, is a record with an
``error`` and reading goes on; a quote left open refuses the file (no row boundary can be
trusted after it).
"""

from __future__ import annotations

import csv
import json
import os
from collections.abc import Callable, Iterator
from typing import IO, TextIO

from tonecheck.tables import InputError, Record, Table

__all__ = ["DELIMITERS", "FIELD_SIZE_LIMIT", "sniff_delimiter", "read_header", "open_csv"]

DELIMITERS = (",", ";", "\t")
#: Longest CSV field read, in characters. Far above the 50,000-character text limit, so a
#: longer text is a row error (too long) rather than a file the csv module refuses; beyond
#: this the file is most likely not CSV at all.
FIELD_SIZE_LIMIT = 10_000_000


def sniff_delimiter(head: str, src: str | os.PathLike[str]) -> str:
    """The delimiter the header line uses most (outside quotes): ``,`` ``;`` or tab.

    A header without any (one column) reads as ``,``, or tab for a ``.tsv`` file.
    """
    counts = dict.fromkeys(DELIMITERS, 0)
    quoted = False
    for ch in head.lstrip("\ufeff"):
        if ch == '"':
            quoted = not quoted
        elif not quoted:
            if ch in "\r\n":
                break
            if ch in counts:
                counts[ch] += 1
    best = max(DELIMITERS, key=lambda d: counts[d])  # ties: the first of , ; tab
    if counts[best] == 0:
        return "\t" if str(src).lower().endswith((".tsv", ".tab")) else ","
    return best


class _Lines:
    """Feeds a csv reader line by line, keeping what a parse error needs: the quote count
    of the current record (odd: a quote is still open) and its first line."""

    def __init__(self, f: IO[str]) -> None:
        self._f = f
        self.quotes = 0
        self.first = ""

    def start(self) -> None:
        self.quotes = 0
        self.first = ""

    def __iter__(self) -> _Lines:
        return self

    def __next__(self) -> str:
        line = next(self._f)
        if not self.first:
            self.first = line
        self.quotes += line.count('"')
        return line


def open_csv(f: TextIO, name: str, delimiter: str) -> Table:
    if csv.field_size_limit() < FIELD_SIZE_LIMIT:
        csv.field_size_limit(FIELD_SIZE_LIMIT)
    lines = _Lines(f)
    reader = csv.reader(lines, delimiter=delimiter, strict=True)
    header = _checked_header(reader, f, name)

    def records() -> Iterator[Record]:
        while True:
            line = reader.line_num + 1
            lines.start()
            try:
                fields = next(reader)
            except StopIteration:
                return
            except UnicodeDecodeError as e:
                raise InputError(
                    f"{name} is not valid {f.encoding} text at line {reader.line_num + 1}: {e.reason}; pass --encoding"
                ) from e
            except csv.Error as e:
                yield _csv_error(e, line, reader.line_num, lines, name)
                continue
            if not fields:  # a blank line is no row
                continue
            values = dict(zip(header, fields, strict=False))
            if len(fields) == len(header):
                yield Record(line, values)
            else:
                error = f"malformed CSV: expected {len(header)} fields, got {len(fields)}"
                if len(fields) > len(header):
                    error += f" (extra fields: {json.dumps(fields[len(header):], ensure_ascii=False)})"
                yield Record(line, values, error)

    return Table(name, "csv", header, records(), delimiter=delimiter)


def read_header(
    reader: Iterator[list[str]], name: str, error: Callable[[str], Exception] = InputError, *, where: str = " (line 1)"
) -> list[str]:
    """The first record of ``reader``, a CSV's header. A file without one, or a header the csv
    module cannot parse, raises ``error`` with a message naming ``name`` (``where``: the
    header's place in that message); a decoding error is left to the caller."""
    try:
        return next(reader)
    except StopIteration:
        raise error(f"{name} is empty: no header row") from None
    except csv.Error as e:
        raise error(f"{name}: malformed CSV header{where}: {e}") from e


def _checked_header(reader: Iterator[list[str]], f: TextIO, name: str) -> list[str]:
    """The CSV's first record, checked to be a header: not empty, no column name twice."""
    try:
        header = read_header(reader, name)
    except UnicodeDecodeError as e:
        raise InputError(f"{name} is not valid {f.encoding} text in its header: {e.reason}; pass --encoding") from e
    if header:
        header[0] = header[0].lstrip("\ufeff")
    if not any(h.strip() for h in header):
        raise InputError(f"{name}: the first line is empty; it must be the header (the column names)")
    dupes = sorted({h for h in header if header.count(h) > 1})
    if dupes:
        raise InputError(f"{name}: duplicate column names in the header: {dupes}")
    return header


def _csv_error(e: csv.Error, line: int, last: int, lines: _Lines, name: str) -> Record:
    """A row error for a CSV record the csv module could not parse, when reading can go on
    safely from the next line; else :class:`InputError`."""
    message = str(e)
    if "end of data" in message:
        raise InputError(
            f"{name}: malformed CSV: the quoted field opened on line {line} is never closed; nothing was written"
        )
    if lines.quotes % 2:
        # A quote is left open: the lines after this one may belong to the broken field, so
        # no row boundary can be trusted any more.
        raise InputError(
            f"{name}: malformed CSV at line {last}: {message}, with a quote left open (the record starts on "
            f"line {line}: {lines.first[:80]!r}); fix the quoting, nothing was written"
        )
    preview = lines.first.rstrip("\r\n")
    preview = preview if len(preview) <= 200 else preview[:199] + "…"
    what = "a field is longer than the limit" if "field limit" in message else message
    return Record(line, {}, f"malformed CSV: {what}; the row could not be read: {preview!r}")
