"""Worst-case time of ``assess()`` on hostile posts, at 5,000 and 50,000 characters.

    python benchmarks/adversarial.py

Each family is a post built to make a regular expression or spaCy's tokenizer backtrack
(long runs with no white space, the same character repeated, digits that almost form a
price). The target: every post of 50,000 characters (the length limit) in at most 1 s, and
the time ratio 50k/5k at most 15 (linear time gives ~10). A plain French text of the same
lengths is the reference row.
"""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Callable

import tonecheck

LIMIT_SECONDS = 1.0
LIMIT_RATIO = 15.0


def _fill(unit: str, n: int, head: str = "", tail: str = "") -> str:
    body = (unit * (n // len(unit) + 1))[: n - len(head) - len(tail)]
    return head + body + tail


FAMILIES: dict[str, Callable[[int], str]] = {
    "plain French text (reference)": lambda n: _fill("Merci aux soignants, restez chez vous ! ", n),
    "spaces after 'code'": lambda n: _fill(" ", n, "code", "X"),
    "tabs and spaces after 'code promo :'": lambda n: _fill(" \t", n, "code promo :", "«"),
    "capitals after 'code' then a small letter": lambda n: _fill("A", n, "code ", "a"),
    "digits then 'a%'": lambda n: _fill("1", n, "", "a%"),
    "digits in .111 groups, no currency": lambda n: _fill(".111", n, "1", "x"),
    "digits and spaces, no currency": lambda n: _fill("1 ", n, "", "x"),
    "hashtag #aAaA…": lambda n: _fill("aA", n, "#"),
    "hashtag with ß İ ŉ": lambda n: _fill("ßİŉ", n, "#"),
    "'!?' with no space": lambda n: _fill("!?", n),
    "'(' with no space": lambda n: _fill("(", n),
    "'a-' with no space (domain-like)": lambda n: _fill("a-", n, "", ".fr"),
    "'@a' with no space": lambda n: _fill("@a", n),
    "emoji with no space": lambda n: _fill("🔥", n),
    "letter repeated": lambda n: _fill("a", n),
    "combining accents": lambda n: _fill("\u0301", n, "e"),
    "'www.' repeated": lambda n: _fill("www.", n),
    "zero-width and bidi marks": lambda n: _fill("a\u200b\u202e", n),
    "one 50k word of letters and digits": lambda n: _fill("ab1", n),
}


def worst_time(text: str, rounds: int = 3) -> float:
    """Median of ``rounds`` runs, each on a new variant (no cache helps)."""
    times = []
    for k in range(rounds):
        variant = f"{text[:-1]}{k}" if k else text
        start = time.perf_counter()
        tonecheck.assess(variant)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> int:
    tonecheck.assess("Un premier appel charge le modèle.")
    print(f"{'family':44} {'5k chars':>10} {'50k chars':>10} {'ratio':>7}   "
          f"limits: 50k ≤ {LIMIT_SECONDS} s, ratio ≤ {LIMIT_RATIO:g}")
    failed = 0
    worst = 0.0
    for name, make in FAMILIES.items():
        small, large = worst_time(make(5_000)), worst_time(make(50_000))
        ratio = large / small if small else float("inf")
        ok = large <= LIMIT_SECONDS and ratio <= LIMIT_RATIO
        failed += not ok
        worst = max(worst, large)
        print(f"{name:44} {small * 1000:8.1f}ms {large * 1000:8.1f}ms {ratio:7.1f}   {'ok' if ok else 'OVER'}")
    print(f"worst 50k post: {worst * 1000:.0f} ms; families over a limit: {failed} of {len(FAMILIES)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
