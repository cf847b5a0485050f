"""Text printed on a terminal: made safe (control and bidirectional characters shown as
escapes) and fitted to a number of columns (wide characters and graphemes counted as the
terminal shows them, with wcwidth)."""

from __future__ import annotations

__all__ = ["printable", "fit"]

# Bidirectional controls reorder what follows them on a terminal; shown as escapes.
_BIDI = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def printable(text: str) -> str:
    """``text`` safe to print on a terminal: white space runs made one space, control
    characters (ANSI escapes start with one), bidi controls and lone surrogates shown as
    ``\\x1b``-style escapes.

    >>> printable("a\\x1b[31mb\\n c\\u202e")
    'a\\\\x1b[31mb c\\\\u202e'
    """
    import unicodedata

    flat = " ".join(text.split())
    if flat.isprintable():
        return flat
    out = []
    for ch in flat:
        if ch.isprintable() or ch == " " or (unicodedata.category(ch) in ("Cf", "Mn", "Me") and ch not in _BIDI):
            out.append(ch)
        else:
            out.append(ch.encode("unicode_escape", errors="backslashreplace").decode("ascii")
                       if ord(ch) < 0x10000 else f"\\U{ord(ch):08x}")
    return "".join(out)


def _width(text: str) -> int:
    from wcwidth import wcswidth

    w = wcswidth(text)
    return w if w >= 0 else len(text)


def fit(text: str, width: int) -> str:
    """``text`` cut to ``width`` terminal columns (with "…"), then padded to them."""
    from wcwidth import iter_graphemes, wcswidth

    if _width(text) > width:
        cut, used = [], 0
        for g in iter_graphemes(text):
            w = max(wcswidth(g), 0)
            if used + w > width - 1:
                break
            cut.append(g)
            used += w
        text = "".join(cut) + "…"
    return text + " " * max(width - _width(text), 0)
