"""JSON Lines records: one object per line, each a :class:`~tonecheck.tables.Record`.

A line that does not parse, or holds something other than an object, is a record with an
``error`` and reading goes on; ``NaN`` and ``±Infinity`` are read as null (said once).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import TextIO

from tonecheck.tables import InputError, Record, Table

__all__ = ["open_jsonl"]


def open_jsonl(f: TextIO, name: str, note: Callable[[str], None]) -> Table:
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
