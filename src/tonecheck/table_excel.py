"""Excel ``.xlsx`` records: the sheet asked for (or the first), its first row the header,
each cell as the text a CSV export of it would hold (openpyxl, imported on call)."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from typing import Any

from tonecheck.table_columns import match_column, similar_column
from tonecheck.tables import InputError, Record, Table

__all__ = ["open_xlsx"]


def open_xlsx(source: Any, name: str, sheet: str | None) -> Table:
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

    return Table(name, "xlsx", header, records(), sheet=chosen, unit="row", closers=[book.close])


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
