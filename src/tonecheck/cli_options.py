"""The options several ``tonecheck`` commands share, added to a parser and read back: how a
table is read (``score``, ``train``, ``evaluate``), when the review flag is raised and which
model to use (``assess``, ``score``)."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # annotations only: the command imports the library lazily
    from tonecheck.results import ReviewPolicy
    from tonecheck.runtime import Model

__all__ = ["add_input_options", "read_options", "add_review_options", "review_policy", "chosen_model"]


def add_input_options(p: argparse.ArgumentParser, what: str = "the input") -> None:
    """The options that force how a table is read; ``score``, ``train`` and ``evaluate`` share them."""
    p.add_argument("--format", choices=["csv", "jsonl", "xlsx"],
                   help=f"format of {what} (default: by extension, else detected)")
    p.add_argument("--encoding",
                   help=f"text encoding of {what} (default: detected: UTF-8/16 by BOM, UTF-8, else cp1252)")
    p.add_argument("--delimiter",
                   help=f"CSV delimiter of {what}: ',' ';' or 'tab' (default: detected from the header line)")
    p.add_argument("--sheet", help=f"the sheet of {what} to read, for .xlsx workbooks (default: the first)")


def read_options(args: argparse.Namespace) -> dict[str, str | None]:
    """Those options as the keyword arguments of :func:`tonecheck.table_input.open_table`."""
    return {"fmt": args.format, "encoding": args.encoding, "delimiter": args.delimiter, "sheet": args.sheet}


def add_review_options(p: argparse.ArgumentParser) -> None:
    """When ``needs_review`` is raised (a ReviewPolicy); the label and scores never change."""
    g = p.add_argument_group("review flag", "when a post is flagged for a person (the label and scores never change)")
    g.add_argument("--min-confidence", type=float, metavar="P",
                   help="flag 'unsure' below this top probability (default: the model's threshold)")
    g.add_argument("--min-margin", type=float, metavar="P",
                   help="flag 'close-call' when the two most probable labels are closer than this "
                        "(default: the model's margin)")
    g.add_argument("--min-in-scope", type=float, metavar="P",
                   help="flag 'out-of-scope' below this in-scope probability (default: the model's threshold)")
    g.add_argument("--label-threshold", action="append", default=[], metavar="LABEL=P",
                   help="a minimum top probability for one label, e.g. tone-deaf=0.9 (repeatable)")


def review_policy(args: argparse.Namespace) -> ReviewPolicy | None:
    """The ReviewPolicy of the review options, None when none is given; ValueError names the
    bad option."""
    from tonecheck.results import ReviewPolicy

    thresholds: dict[str, float] = {}
    for item in args.label_threshold:
        label, sep, value = item.partition("=")
        try:
            thresholds[label.strip()] = float(value)
        except ValueError:
            raise ValueError(f"--label-threshold takes LABEL=P, e.g. tone-deaf=0.9, not {item!r}") from None
        if not sep:  # pragma: no cover - float("") raised above
            raise ValueError(f"--label-threshold takes LABEL=P, not {item!r}")
    given = {"min_confidence": args.min_confidence, "min_in_scope": args.min_in_scope}
    if args.min_margin is None and not thresholds and all(v is None for v in given.values()):
        return None
    margin = {} if args.min_margin is None else {"min_margin": args.min_margin}
    return ReviewPolicy(**given, **margin, label_thresholds=thresholds)


def chosen_model(path: str | None) -> Model | None:
    """The model ``--model`` names, loaded; None (the default model) without one."""
    from tonecheck.assess import load_model

    return load_model(path) if path else None
