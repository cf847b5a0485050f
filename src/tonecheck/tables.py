"""Tables of posts as people have them, read and written the same way by every command.

Reading (:func:`open_table`): CSV with ``,`` ``;`` or tab (detected from the header line),
JSON Lines, or an Excel ``.xlsx`` workbook (first sheet, or the one named); a path or ``-``
for standard input. Text encodings: a byte-order mark says UTF-8, UTF-16 or UTF-32; without
one the file is UTF-8 if it all decodes as UTF-8, else cp1252 (said once through
``on_note``). A row that cannot be read (a CSV line with the wrong number of fields or text
after a closing quote, a JSON line that does not parse) is a :class:`Record` with an
``error``; only faults that leave nothing trustworthy to read refuse the whole file
(:class:`InputError`).

Writing (:func:`open_writer`): CSV, JSON Lines or ``.xlsx`` to a path or standard output.
A file is written to a temporary ``.NAME.*.partial`` beside it and renamed only by
:meth:`TableWriter.commit`, with the permissions the umask gives a new file (or those of the
file it replaces). Failures to write raise :class:`OutputError`.

Formulas: a spreadsheet runs a cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a
carriage return (OWASP, "CSV injection"). Written for Excel (``neutralise_formulas``, what
``--excel`` asks), a CSV cell that starts so gets a ``'`` in front (:func:`neutralise_formula`,
undone exactly by :func:`restore_formula`); an ``.xlsx`` cell is always a text cell, and one
that starts so is also marked "quote prefix", so that Excel keeps it text when it is edited.
The plain CSV and JSON Lines are written as they are: they are for programs.

Exceptions: ``ToneCheckError`` ← :class:`InputError` (also a ``ValueError``) and
:class:`OutputError` (also an ``OSError``); :class:`UnwritableRow` (a ``ValueError``) for one
row the writer cannot encode.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import datetime as dt
import decimal
import difflib
import io
import json
import math
import os
import re
import stat
import sys
import tempfile
import unicodedata
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, BinaryIO, Literal, TextIO, cast

from tonecheck.errors import ToneCheckError

__all__ = [
    "FORMATS",
    "Record",
    "Table",
    "TableWriter",
    "InputError",
    "OutputError",
    "UnwritableRow",
    "open_table",
    "open_writer",
    "match_column",
    "similar_column",
    "format_of_path",
    "FIELD_SIZE_LIMIT",
    "FORMULA_STARTS",
    "neutralise_formula",
    "restore_formula",
    "sniff_delimiter",
]

FORMATS = ("csv", "jsonl", "xlsx")
DELIMITERS = (",", ";", "\t")
#: Longest CSV field read, in characters. Far above the 50,000-character text limit, so a
#: longer text is a row error (too long) rather than a file the csv module refuses; beyond
#: this the file is most likely not CSV at all.
FIELD_SIZE_LIMIT = 10_000_000
#: Bytes looked at to choose the format and the delimiter.
SNIFF_BYTES = 1 << 16
#: Excel's limits: characters in a cell, rows in a sheet.
XLSX_MAX_CELL = 32_767
XLSX_MAX_ROWS = 1_048_576
#: How a cell that a spreadsheet would run as a formula starts (OWASP's list).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

_SUFFIXES = {
    ".csv": "csv", ".tsv": "csv", ".tab": "csv", ".txt": "csv",
    ".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "jsonl",
    ".xlsx": "xlsx", ".xlsm": "xlsx",
}
# BOMs, longest first: the UTF-32-LE mark starts with the UTF-16-LE one.
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_ZIP_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0"  # .xls, and encrypted .xlsx
_SURROGATES = re.compile("[\ud800-\udfff]")
_XLSX_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff]")


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
    _closers: list[Callable[[], None]] = field(default_factory=list, repr=False)

    def close(self) -> None:
        for close in reversed(self._closers):
            close()
        self._closers.clear()

    def __enter__(self) -> Table:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# ---------------------------------------------------------------------------------------
# column names


def _column_key(name: str) -> str:
    return unicodedata.normalize("NFC", name.replace("\ufeff", "").strip()).casefold()


def match_column(wanted: str, names: Sequence[str]) -> str | None:
    """The name in ``names`` that ``wanted`` means: the same, else the same after trimming
    white space and a byte-order mark, Unicode NFC and ignoring case; None if none.

    >>> match_column("text", ["id", "\\ufeffTexte", " TEXT "])
    ' TEXT '

    Raises :class:`InputError` when several names match equally.
    """
    if wanted in names:
        return wanted
    key = _column_key(wanted)
    hits = [n for n in names if _column_key(n) == key]
    if len(hits) > 1:
        raise InputError(f"column {wanted!r} is ambiguous: {hits} all match it; rename all but one")
    return hits[0] if hits else None


def similar_column(wanted: str, names: Sequence[str]) -> str | None:
    """The name in ``names`` closest to ``wanted`` (difflib), for a "did you mean" hint."""
    keys = {_column_key(n): n for n in names}
    close = difflib.get_close_matches(_column_key(wanted), list(keys), n=1, cutoff=0.6)
    return keys[close[0]] if close else None


def missing_column_message(wanted: str, names: Sequence[str], option: str = "--text-column") -> str:
    hint = similar_column(wanted, names)
    did_you_mean = f"did you mean {hint!r}? " if hint else ""
    return f"no column {wanted!r} in the input; {did_you_mean}columns are {list(names)} (use {option})"


# ---------------------------------------------------------------------------------------
# reading


def format_of_path(path: str | os.PathLike[str] | None) -> str | None:
    """The format a file name says (``.csv``/``.tsv``/``.txt``, ``.jsonl``/``.ndjson``/``.json``,
    ``.xlsx``), or None."""
    if path is None or str(path) == "-":
        return None
    suffix = Path(path).suffix.lower()
    if suffix == ".xls":
        raise InputError(f"{path}: old Excel .xls workbooks are not read; save it as .xlsx or CSV")
    return _SUFFIXES.get(suffix)


def open_table(
    src: str | os.PathLike[str],
    *,
    fmt: str | None = None,
    encoding: str | None = None,
    delimiter: str | None = None,
    sheet: str | None = None,
    on_note: Callable[[str], None] | None = None,
) -> Table:
    """Open ``src`` (a path, or ``-`` for standard input) for reading; see the module doc.

    ``fmt``, ``encoding`` and ``delimiter`` force what is otherwise detected; ``sheet``
    names the xlsx sheet (default: the first). Raises :class:`InputError`.
    """
    note = on_note or (lambda _msg: None)
    if fmt is not None and fmt not in FORMATS:
        raise InputError(f"format must be one of {', '.join(FORMATS)}, not {fmt!r}")
    if delimiter is not None:
        delimiter = {"\\t": "\t", "tab": "\t", "TAB": "\t"}.get(delimiter, delimiter)
        if len(delimiter) != 1 or delimiter in '"\r\n':
            raise InputError(f"the delimiter must be one character (',', ';', 'tab'…), not {delimiter!r}")
    if encoding is not None:
        try:
            encoding = codecs.lookup(encoding).name
        except LookupError:
            raise InputError(f"unknown encoding {encoding!r} (e.g. utf-8, cp1252, latin-1, utf-16)") from None
    stdin = str(src) == "-"
    name = "standard input" if stdin else str(src)
    binary, path = _open_binary(src, name)
    seekable = path is not None
    closers: list[Callable[[], None]] = [] if stdin else [binary.close]
    try:
        fmt = fmt or format_of_path(src)
        if seekable:
            prefix = binary.read(SNIFF_BYTES)
            binary.seek(0)
        else:  # standard input, a pipe, a device: read once, so the bytes sniffed are kept
            prefix = _read_prefix(binary)
            binary = io.BufferedReader(_Prefixed(prefix, binary, close=not stdin))
        if fmt is None:
            fmt = _sniff_format(prefix)
        if fmt == "xlsx":
            if prefix.startswith(_OLE_MAGIC):
                raise InputError(f"{name} is an old Excel .xls or an encrypted workbook; save it as .xlsx or CSV")
            table = _open_xlsx(binary if seekable else io.BytesIO(binary.read()), name, sheet)
        else:
            if sheet is not None:
                raise InputError(f"--sheet is for .xlsx workbooks; {name} is read as {fmt}")
            text, encoding = _open_text(binary, prefix, name, encoding, seekable=seekable, note=note)
            if fmt == "csv":
                delimiter = delimiter or _sniff_delimiter(_decode_prefix(prefix, encoding), src)
                table = _open_csv(text, name, delimiter)
            else:
                table = _open_jsonl(text, name, note)
            table.encoding = encoding
        table.path = path
        table._closers[:0] = closers
        return table
    except BaseException:
        for close in closers:
            close()
        raise


def _open_binary(src: str | os.PathLike[str], name: str) -> tuple[BinaryIO, Path | None]:
    """The input's bytes, and its path when it is a regular file (which can be read twice)."""
    if str(src) == "-":
        return cast(BinaryIO, getattr(sys.stdin, "buffer", sys.stdin)), None
    p = Path(src)
    if p.is_dir():
        raise InputError(f"{name} is a folder, not a file")
    try:
        f = open(p, "rb")  # noqa: SIM115 - returned to the caller, who closes it
    except OSError as e:
        raise InputError(f"cannot read {name}: {e.strerror or e}") from e
    regular = stat.S_ISREG(os.fstat(f.fileno()).st_mode)
    return f, p if regular else None


def _read_prefix(stream: BinaryIO) -> bytes:
    """The first bytes of a stream that cannot seek: up to the first line end, at most
    SNIFF_BYTES, without waiting for more than the first line."""
    chunks: list[bytes] = []
    size = 0
    read = getattr(stream, "read1", stream.read)
    while size < SNIFF_BYTES:
        chunk = read(SNIFF_BYTES - size)
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
        if b"\n" in chunk:
            break
    return b"".join(chunks)


class _Prefixed(io.RawIOBase):
    """A stream that has already been read from: serves the bytes read first, then the rest."""

    def __init__(self, prefix: bytes, rest: BinaryIO, *, close: bool) -> None:
        self._prefix = memoryview(prefix)
        self._rest = rest
        self._close_rest = close
        self._read = getattr(rest, "read1", rest.read)

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if self._prefix:
            n = min(len(buffer), len(self._prefix))
            buffer[:n] = self._prefix[:n]
            self._prefix = self._prefix[n:]
            return n
        data = self._read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def close(self) -> None:
        if self._close_rest:
            self._rest.close()
        super().close()


def _sniff_format(prefix: bytes) -> str:
    if prefix.startswith(_ZIP_MAGIC) or prefix.startswith(_OLE_MAGIC):
        return "xlsx"
    for bom, enc in _BOMS:
        if prefix.startswith(bom):
            head = prefix.decode(enc, errors="ignore")
            break
    else:
        head = prefix.decode("utf-8", errors="ignore")
    return "jsonl" if head.lstrip("\ufeff \t\r\n").startswith("{") else "csv"


def _open_text(
    binary: BinaryIO, prefix: bytes, name: str, encoding: str | None, *, seekable: bool, note: Callable[[str], None]
) -> tuple[TextIO, str]:
    """A text stream over ``binary`` and the encoding chosen (see the module doc)."""
    if encoding is None:
        encoding = next((enc for bom, enc in _BOMS if prefix.startswith(bom)), None)
    if encoding is None:
        if b"\x00" in prefix:
            raise InputError(
                f"{name} holds NUL bytes: UTF-16 without a byte-order mark, or not a text file "
                "(pass --encoding utf-16-le if it is UTF-16)"
            )
        if seekable:
            bad = _first_undecodable(binary, "utf-8")
        else:
            try:
                codecs.getincrementaldecoder("utf-8")().decode(prefix, final=False)
                bad = None
            except UnicodeDecodeError as e:
                bad = e.start
        if bad is None:
            encoding = "utf-8"
        else:
            where = f"line {_line_at(binary, prefix, bad, seekable)}"
            if seekable:
                worse = _first_undecodable(binary, "cp1252")
                if worse is not None:
                    raise InputError(
                        f"{name} is neither UTF-8 ({where}) nor cp1252 (line {_line_at(binary, prefix, worse, True)}); "
                        "pass --encoding (e.g. latin-1, utf-16)"
                    )
            encoding = "cp1252"
            note(f"{name} is not UTF-8 ({where}); read as cp1252 (Windows Western European). "
                 "Pass --encoding to choose another.")
    return io.TextIOWrapper(binary, encoding=encoding, newline=""), encoding


def _first_undecodable(f: BinaryIO, encoding: str) -> int | None:
    """Offset of the first byte that does not decode (the whole file is read), or None."""
    decoder = codecs.getincrementaldecoder(encoding)()
    offset = 0
    try:
        while chunk := f.read(1 << 20):
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError as e:
                return offset + e.start
            offset += len(chunk)
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return offset
        return None
    finally:
        f.seek(0)


def _line_at(f: BinaryIO, prefix: bytes, offset: int, seekable: bool) -> int:
    if not seekable or offset <= len(prefix):
        return prefix[:offset].count(b"\n") + 1
    lines, left = 1, offset
    try:
        while left > 0 and (chunk := f.read(min(left, 1 << 20))):
            lines += chunk.count(b"\n")
            left -= len(chunk)
    finally:
        f.seek(0)
    return lines


def _decode_prefix(prefix: bytes, encoding: str) -> str:
    return codecs.getincrementaldecoder(encoding)(errors="ignore").decode(prefix, final=False)


def _sniff_delimiter(head: str, src: str | os.PathLike[str]) -> str:
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


sniff_delimiter = _sniff_delimiter


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


def _open_csv(f: TextIO, name: str, delimiter: str) -> Table:
    if csv.field_size_limit() < FIELD_SIZE_LIMIT:
        csv.field_size_limit(FIELD_SIZE_LIMIT)
    lines = _Lines(f)
    reader = csv.reader(lines, delimiter=delimiter, strict=True)
    header = _csv_header(reader, f, name)

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


def _csv_header(reader: Iterator[list[str]], f: TextIO, name: str) -> list[str]:
    """The CSV's first record, checked to be a header: not empty, no column name twice."""
    try:
        header = next(reader)
    except StopIteration:
        raise InputError(f"{name} is empty: no header row") from None
    except csv.Error as e:
        raise InputError(f"{name}: malformed CSV header (line 1): {e}") from e
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


def _open_jsonl(f: TextIO, name: str, note: Callable[[str], None]) -> Table:
    said_nan = False

    def records() -> Iterator[Record]:
        nonlocal said_nan
        n = 0
        lines = iter(f)
        while True:
            try:
                line = next(lines)
            except StopIteration:
                return
            except UnicodeDecodeError as e:
                raise InputError(
                    f"{name} is not valid {f.encoding} text at line {n + 1}: {e.reason}; pass --encoding"
                ) from e
            n += 1
            if n == 1:
                line = line.lstrip("\ufeff")
                if line.lstrip().startswith("["):
                    raise InputError(f"{name} holds a JSON array, not JSON Lines (one object per line); "
                                     "convert it first, e.g. jq -c '.[]'")
            if not line.strip():
                continue
            constants: list[str] = []
            try:
                obj = json.loads(line, parse_constant=constants.append)  # NaN, ±Infinity: null (noted once)
            except json.JSONDecodeError as e:
                yield Record(n, {}, f"not valid JSON ({e.msg}, column {e.colno})")
                continue
            except RecursionError:
                yield Record(n, {}, "not valid JSON here: nested too deeply to read")
                continue
            except ValueError as e:  # e.g. an integer of more than 4,300 digits (int_max_str_digits)
                reason = "an integer has too many digits" if "digits" in str(e) else str(e)
                yield Record(n, {}, f"not valid JSON here: {reason}")
                continue
            if constants and not said_nan:
                said_nan = True
                note(f"{name}: {constants[0]} on line {n} is not JSON; such values are read as null")
            if not isinstance(obj, dict):
                yield Record(n, {"value": obj}, f"a JSON {type(obj).__name__}, not an object")
                continue
            yield Record(n, obj)

    return Table(name, "jsonl", [], records())


def _open_xlsx(source: Any, name: str, sheet: str | None) -> Table:
    import openpyxl

    try:
        book = openpyxl.load_workbook(source, read_only=True, data_only=True)
    except Exception as e:  # zip, XML and openpyxl errors alike mean "not a workbook"
        raise InputError(f"cannot read {name} as an Excel workbook ({type(e).__name__}: {e})") from e
    try:
        chosen = _choose_sheet(book.sheetnames, sheet, name)
        ws = book[chosen]
        ws.reset_dimensions()  # trust the cells, not a dimension record that may be wrong
        rows = ws.iter_rows(values_only=True)
        try:
            first = next(rows, None)
        except Exception as e:
            raise InputError(f"cannot read sheet {chosen!r} of {name} ({type(e).__name__}: {e})") from e
    except BaseException:
        book.close()
        raise
    header = [_cell_text(v) for v in first or ()]
    while header and not header[-1].strip():
        header.pop()
    if not header:
        book.close()
        raise InputError(f"{name}: sheet {chosen!r} has no header row (its first row is empty)")
    dupes = sorted({h for h in header if header.count(h) > 1})
    if dupes:
        book.close()
        raise InputError(f"{name}: duplicate column names in the header of sheet {chosen!r}: {dupes}")

    def records() -> Iterator[Record]:
        n = 1
        while True:
            try:
                cells = next(rows)
            except StopIteration:
                return
            except Exception as e:
                raise InputError(
                    f"cannot read row {n + 1} of sheet {chosen!r} in {name} ({type(e).__name__}: {e})"
                ) from e
            n += 1
            fields = [_cell_text(v) for v in cells]
            while len(fields) > len(header) and not fields[-1]:
                fields.pop()
            if not any(fields):
                continue
            fields += [""] * (len(header) - len(fields))  # empty cells at a row's end are not stored
            values = dict(zip(header, fields, strict=False))
            if len(fields) > len(header):
                extra = json.dumps(fields[len(header):], ensure_ascii=False)
                yield Record(n, values, f"cells beyond the header's {len(header)} columns: {extra}")
            else:
                yield Record(n, values)

    return Table(name, "xlsx", header, records(), sheet=chosen, unit="row", _closers=[book.close])


def _choose_sheet(names: list[str], sheet: str | None, name: str) -> str:
    """The sheet to read: the one asked for (matched as a column name is), else the first."""
    if sheet is None:
        if not names:
            raise InputError(f"{name}: the workbook has no sheet")
        return names[0]
    chosen = sheet if sheet in names else match_column(sheet, names)
    if chosen is None:
        hint = similar_column(sheet, names)
        raise InputError(
            f"{name}: no sheet {sheet!r}; " + (f"did you mean {hint!r}? " if hint else "") + f"sheets are {names}"
        )
    return chosen


def _cell_text(value: Any) -> str:
    """A cell as the text a CSV export of it would hold."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (dt.datetime, dt.date, dt.time)):
        return value.isoformat()
    return str(value)


# ---------------------------------------------------------------------------------------
# writing


def neutralise_formula(text: str) -> str:
    """``text`` as a spreadsheet cell that is never run: a ``'`` before a text that starts
    like a formula (see :data:`FORMULA_STARTS`), and before one that starts with ``'``
    itself, so that :func:`restore_formula` gives the text back exactly.

    >>> [neutralise_formula(t) for t in ("=1+1", "-30 % ce soir", "@marque", "Merci", "'ok")]
    ["'=1+1", "'-30 % ce soir", "'@marque", 'Merci', "''ok"]
    """
    return "'" + text if text.startswith((*FORMULA_STARTS, "'")) else text


def restore_formula(text: str) -> str:
    """The text :func:`neutralise_formula` was given.

    >>> [restore_formula(neutralise_formula(t)) for t in ("=1+1", "'", "''=x", "Merci")]
    ['=1+1', "'", "''=x", 'Merci']
    """
    return text[1:] if text[:1] == "'" and text[1:2] in (*FORMULA_STARTS, "'") and len(text) > 1 else text


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _reason(e: OSError) -> str:
    return e.strerror or str(e)


class _Target:
    """Where the bytes go: standard output; a device or a pipe, written in place; or a
    temporary file beside the destination, renamed over it by :meth:`commit`.

    ``file`` is None when standard output takes text only (a notebook, a test's capture).
    """

    def __init__(self, dst: str | os.PathLike[str] | None, *, spool: bool = False) -> None:
        self.stdout = dst is None or str(dst) == "-"
        self.name = "standard output" if self.stdout else str(dst)
        self.dst: Path | None = None
        self.tmp: str | None = None
        self.mode = 0o644
        self.borrowed = False  # file is sys.stdout.buffer itself: detach, never close
        self.file: BinaryIO | None
        if self.stdout:
            if spool:  # a zip (xlsx) is built in a file first, then copied out
                fd, self.tmp = tempfile.mkstemp(prefix=".tonecheck.", suffix=".partial")
                self.file = os.fdopen(fd, "wb")
                return
            sys.stdout.flush()
            try:
                self.file = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
            except (AttributeError, OSError, ValueError):  # io.UnsupportedOperation is both
                self.file = getattr(sys.stdout, "buffer", None)
                self.borrowed = self.file is not None
            return
        p = Path(dst)  # type: ignore[arg-type]
        if p.is_dir():
            raise OutputError(f"{p} is a folder; give a file name for the output, e.g. {p / 'scored.csv'}")
        if p.exists() and not p.is_file():  # /dev/null, /dev/full, a named pipe: no rename over it
            try:
                self.file = open(p, "wb")  # noqa: SIM115 - kept open until commit() or abort()
            except OSError as e:
                raise OutputError(f"cannot write {p}: {_reason(e)}") from e
            return
        parent = p.parent
        try:
            parent.mkdir(parents=True, exist_ok=True)
        except (FileExistsError, NotADirectoryError):
            blocker = next((a for a in (parent, *parent.parents) if a.exists() and not a.is_dir()), parent)
            raise OutputError(f"cannot write {p}: {blocker} is a file, not a folder") from None
        except OSError as e:
            raise OutputError(f"cannot create the folder {parent}: {_reason(e)}") from e
        try:
            self.mode = stat.S_IMODE(p.stat().st_mode) if p.exists() else 0o666 & ~_umask()
            fd, self.tmp = tempfile.mkstemp(dir=parent, prefix=f".{p.name}.", suffix=".partial")
        except OSError as e:
            raise OutputError(f"cannot write {p}: {_reason(e)}") from e
        self.file = os.fdopen(fd, "wb")
        self.dst = p

    def release(self) -> None:
        """Flush and let go of the file (closing it unless it is standard output's own)."""
        if self.file is None:
            return
        file, self.file = self.file, None
        if self.borrowed:
            file.flush()
        else:
            file.close()

    def commit(self) -> None:
        """Release the file and put it in place (rename, or copy a spooled one out)."""
        try:
            self.release()
            if self.tmp is None:
                return
            if self.stdout:  # spooled
                out = getattr(sys.stdout, "buffer", None)
                if out is None:
                    raise OutputError(
                        "standard output takes text only here; write the workbook to a file (-o NAME.xlsx)"
                    )
                with open(self.tmp, "rb") as spool:
                    while chunk := spool.read(1 << 20):
                        out.write(chunk)
                out.flush()
                self.abort()
                return
            os.chmod(self.tmp, self.mode)
            os.replace(self.tmp, self.dst)  # type: ignore[arg-type]
            self.tmp = None
        except BrokenPipeError:
            raise
        except OSError as e:
            if isinstance(e, OutputError):
                raise
            raise OutputError(f"cannot write {self.name}: {_reason(e)}") from e

    def abort(self) -> None:
        """Let go of the file and remove the temporary one, if any."""
        with contextlib.suppress(OSError, ValueError):
            self.release()
        if self.tmp is not None:
            Path(self.tmp).unlink(missing_ok=True)
            self.tmp = None


class _OutputFailure:
    """``with _OutputFailure(name):`` turns an OSError while writing into :class:`OutputError`
    (a closed pipe stays a ``BrokenPipeError``: the reader has gone, which is no failure)."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: Any, e: Any, tb: Any) -> Literal[False]:
        if isinstance(e, OSError) and not isinstance(e, (BrokenPipeError, OutputError)):
            raise OutputError(f"cannot write {self.name}: {_reason(e)}") from e
        return False


class TableWriter:
    """Rows out, in one format: ``write`` takes a mapping by column name, ``commit``
    finishes (renames the file into place). Leaving the ``with`` block without ``commit``
    removes the temporary file."""

    format = ""

    def __init__(self, target: _Target) -> None:
        self.target = target
        self.name = target.name
        self.rows = 0
        self.done = False

    def write(self, row: Mapping[str, Any]) -> None:
        raise NotImplementedError

    def flush(self) -> None:
        """Push written rows out (to the next program in a pipe)."""

    def _finish(self) -> None:
        """Write what ends the file and release the text layer."""

    def commit(self) -> None:
        with _OutputFailure(self.name):
            self._finish()
            self.target.commit()
        self.done = True

    def abort(self) -> None:
        self.done = True
        with contextlib.suppress(Exception):  # the output is thrown away anyway
            self._finish()
        self.target.abort()

    def __enter__(self) -> TableWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        if not self.done:
            self.abort()


def _json(value: Any, ascii_only: bool = False) -> str:
    try:
        return json.dumps(value, ensure_ascii=ascii_only, allow_nan=False)
    except RecursionError:
        raise UnwritableRow("a value is nested too deeply to write as JSON") from None
    except ValueError as e:
        raise UnwritableRow(f"a value cannot be written as JSON: {e}") from None


def _cell(value: Any) -> str:
    """A value as CSV text: lists and objects as JSON, booleans as true/false, null empty."""
    if isinstance(value, str):
        return value
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and math.isfinite(value):
        text = repr(value)
        # 4.8e-05 reads as 0.000048 in a spreadsheet too; the same digits, never rounded
        return format(decimal.Decimal(text), "f") if "e" in text else text
    return _json(value)


class _TextWriter(TableWriter):
    def __init__(self, target: _Target, bom: bool) -> None:
        super().__init__(target)
        self.out: TextIO
        if target.file is None:
            self.out = sys.stdout
        else:
            self.out = io.TextIOWrapper(target.file, encoding="utf-8-sig" if bom else "utf-8", newline="")
            if bom:
                self.out.write("")  # the BOM goes out with the first write, even of no row

    def flush(self) -> None:
        with _OutputFailure(self.name):
            self.out.flush()

    def _finish(self) -> None:
        out, self.out = self.out, sys.stdout
        if out is sys.stdout:
            out.flush()
        elif self.target.borrowed:
            out.flush()
            cast(io.TextIOWrapper, out).detach()  # standard output stays open for what follows
            self.target.release()
        else:
            out.close()  # closes the target's file too
            self.target.file = None


class _CsvWriter(_TextWriter):
    format = "csv"

    def __init__(
        self, target: _Target, columns: Sequence[str], delimiter: str, bom: bool, neutralise: bool = False
    ) -> None:
        super().__init__(target, bom)
        self.columns = list(columns)
        self.neutralise = neutralise
        self.csv = csv.writer(self.out, delimiter=delimiter, lineterminator="\n")
        # The csv module quotes a field holding "\n" but not one holding only a bare "\r",
        # which every reader takes for a line end: such a row is written all quoted.
        self.csv_quoted = csv.writer(self.out, delimiter=delimiter, lineterminator="\n", quoting=csv.QUOTE_ALL)
        with _OutputFailure(self.name):
            self.csv.writerow([neutralise_formula(c) for c in self.columns] if neutralise else self.columns)
            self.out.flush()  # a full disk or a closed pipe shows now, before any scoring

    def write(self, row: Mapping[str, Any]) -> None:
        values = [row.get(c) for c in self.columns]
        cells = [_cell(v) for v in values]
        if self.neutralise:  # texts only: a number (a score, -0.5 from JSON Lines) stays a number
            cells = [neutralise_formula(c) if isinstance(v, str) else c for v, c in zip(values, cells, strict=True)]
        writer = self.csv_quoted if any("\r" in c for c in cells) else self.csv
        with _OutputFailure(self.name):
            try:
                writer.writerow(cells)
            except UnicodeEncodeError:  # lone surrogates (from JSON escapes) have no UTF-8 form
                writer.writerow([_SURROGATES.sub("\ufffd", c) for c in cells])
        self.rows += 1


class _JsonlWriter(_TextWriter):
    format = "jsonl"

    def write(self, row: Mapping[str, Any]) -> None:
        line = _json(row)
        with _OutputFailure(self.name):
            try:
                self.out.write(line + "\n")
            except UnicodeEncodeError:  # lone surrogates: written as \\u escapes, read back the same
                self.out.write(_json(row, ascii_only=True) + "\n")
        self.rows += 1


class _XlsxWriter(TableWriter):
    format = "xlsx"

    def __init__(self, target: _Target, columns: Sequence[str]) -> None:
        import openpyxl

        super().__init__(target)
        self.columns = list(columns)
        self.book: Any = openpyxl.Workbook(write_only=True)
        self.sheet = self.book.create_sheet("scored")
        self.sheet.append([self._value(c) for c in self.columns])

    def _value(self, value: Any) -> Any:
        from openpyxl.cell import WriteOnlyCell

        if value is None or isinstance(value, (bool, int, float)):
            return value
        text = value if isinstance(value, str) else _json(value)
        text = _XLSX_ILLEGAL.sub("\ufffd", text)  # control characters are not allowed in the XML
        if len(text) > XLSX_MAX_CELL:
            text = text[: XLSX_MAX_CELL - 1] + "…"
        cell = WriteOnlyCell(self.sheet, value=text)
        cell.data_type = "s"  # never a formula, whatever the post starts with
        if text.startswith(FORMULA_STARTS):
            cell.quotePrefix = True  # and Excel keeps it text when someone edits the cell
        return cell

    def write(self, row: Mapping[str, Any]) -> None:
        if self.rows + 2 > XLSX_MAX_ROWS:
            raise OutputError(
                f"{self.name}: more than {XLSX_MAX_ROWS - 1:,} rows do not fit in an Excel sheet; write CSV"
            )
        self.sheet.append([self._value(row.get(c)) for c in self.columns])
        self.rows += 1

    def _finish(self) -> None:
        book, self.book = self.book, None
        if book is not None and self.target.tmp is not None:
            self.target.release()
            book.save(self.target.tmp)

    def abort(self) -> None:
        self.book = None
        super().abort()


def open_writer(
    dst: str | os.PathLike[str] | None,
    fmt: str,
    columns: Sequence[str] = (),
    *,
    delimiter: str = ",",
    bom: bool = False,
    neutralise_formulas: bool = False,
) -> TableWriter:
    """A :class:`TableWriter` for ``dst`` (None or ``-``: standard output) in ``fmt``.

    ``columns`` fixes the CSV and xlsx columns (JSON Lines writes each row's keys).
    ``neutralise_formulas`` writes CSV cells through :func:`neutralise_formula` (CSV for a
    spreadsheet; xlsx cells are always text). The
    destination is checked first: a folder, a path under a file or a folder without write
    permission raise :class:`OutputError` before any row is written.
    """
    if fmt not in FORMATS:
        raise OutputError(f"output format must be one of {', '.join(FORMATS)}, not {fmt!r}")
    target = _Target(dst, spool=fmt == "xlsx")
    try:
        if fmt == "xlsx":
            if not target.stdout and target.tmp is None:
                raise OutputError(f"cannot write a workbook to {target.name}: give a file name ending in .xlsx")
            return _XlsxWriter(target, columns)
        if fmt == "csv":
            return _CsvWriter(target, columns, delimiter, bom, neutralise_formulas)
        return _JsonlWriter(target, bom)
    except BaseException:
        target.abort()
        raise
