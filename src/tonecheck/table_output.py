"""Writing a table (:func:`open_writer`): CSV, JSON Lines or ``.xlsx`` to a path or standard
output.

A file is written to a temporary ``.NAME.*.partial`` beside it and renamed only by
:meth:`TableWriter.commit`, with the permissions the umask gives a new file (or those of the
file it replaces). Failures to write raise :class:`~tonecheck.tables.OutputError`; a row the
format cannot encode, :class:`~tonecheck.tables.UnwritableRow`. Cells a spreadsheet would run
are kept text as :mod:`tonecheck.table_formulas` says.
"""

from __future__ import annotations

import contextlib
import csv
import decimal
import io
import json
import math
import os
import re
import stat
import sys
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, BinaryIO, Literal, TextIO, cast

from tonecheck.table_formulas import FORMULA_STARTS, neutralise_formula
from tonecheck.tables import FORMATS, OutputError, UnwritableRow

__all__ = ["TableWriter", "open_writer", "XLSX_MAX_CELL", "XLSX_MAX_ROWS"]

#: Excel's limits: characters in a cell, rows in a sheet.
XLSX_MAX_CELL = 32_767
XLSX_MAX_ROWS = 1_048_576
_SURROGATES = re.compile("[\ud800-\udfff]")
_XLSX_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff]")


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
