"""Column names as people type them: the header's name that a wanted name means, and the
closest one for a "did you mean" hint."""

from __future__ import annotations

import difflib
import unicodedata
from collections.abc import Sequence

from tonecheck.tables import InputError

__all__ = ["match_column", "similar_column", "missing_column_message"]


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
