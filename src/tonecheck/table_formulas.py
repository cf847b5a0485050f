"""Cells a spreadsheet would run as formulas, and the ``'`` that keeps them text.

A spreadsheet runs a cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage
return (OWASP, "CSV injection"). Written for Excel (``open_writer(neutralise_formulas=True)``,
what ``--excel`` asks), a CSV cell that starts so gets a ``'`` in front
(:func:`neutralise_formula`, undone exactly by :func:`restore_formula`); an ``.xlsx`` cell is
always a text cell, and one that starts so is also marked "quote prefix", so that Excel keeps
it text when it is edited. The plain CSV and JSON Lines are written as they are: they are for
programs.
"""

from __future__ import annotations

__all__ = ["FORMULA_STARTS", "neutralise_formula", "restore_formula"]

#: How a cell that a spreadsheet would run as a formula starts (OWASP's list).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


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
