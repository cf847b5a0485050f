"""Opening an input table (:func:`open_table`): where its bytes come from, its format, its
text encoding.

CSV with ``,`` ``;`` or tab (detected from the header line), JSON Lines, or an Excel ``.xlsx``
workbook (first sheet, or the one named); a path or ``-`` for standard input. Text encodings:
a byte-order mark says UTF-8, UTF-16 or UTF-32; without one the file is UTF-8 if it all
decodes as UTF-8, else cp1252 (said once through ``on_note``). The records are then read by
:mod:`tonecheck.table_csv`, :mod:`tonecheck.table_jsonl` or :mod:`tonecheck.table_excel`.
"""

from __future__ import annotations

import codecs
import io
import os
import stat
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, BinaryIO, TextIO, cast

from tonecheck.table_csv import open_csv, sniff_delimiter
from tonecheck.table_excel import open_xlsx
from tonecheck.table_jsonl import open_jsonl
from tonecheck.tables import FORMATS, InputError, Table, format_of_path

__all__ = ["open_table", "SNIFF_BYTES"]

#: Bytes looked at to choose the format and the delimiter.
SNIFF_BYTES = 1 << 16
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
            table = open_xlsx(binary if seekable else io.BytesIO(binary.read()), name, sheet)
        else:
            if sheet is not None:
                raise InputError(f"--sheet is for .xlsx workbooks; {name} is read as {fmt}")
            text, encoding = _open_text(binary, prefix, name, encoding, seekable=seekable, note=note)
            if fmt == "csv":
                delimiter = delimiter or sniff_delimiter(_decode_prefix(prefix, encoding), src)
                table = open_csv(text, name, delimiter)
            else:
                table = open_jsonl(text, name, note)
            table.encoding = encoding
        table.path = path
        table.closers[:0] = closers
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
