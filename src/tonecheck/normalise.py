"""Social-media French text rules, applied before spaCy sees the text.

Each rule is a pure ``str -> str`` function (``replace_urls``, ``split_hashtags``, …) and
``normalise`` applies them all in order. ``normalise_with_offsets`` applies the same rules
and also records, for every character it outputs, the span of the original text it came
from, so that evidence found in the normalised text can be pointed at in the original.

>>> normalise("Merciiii à tous !!! #MerciAuxSoignants ❤️ https://t.co/x")
'Merci à tous ! merci aux soignants ❤ xxurl'
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import cast

__all__ = [
    "RULE_NAMES",
    "RULE_SETS",
    "rule_set",
    "Normalised",
    "normalise",
    "normalise_with_offsets",
    "strip_invisible",
    "replace_urls",
    "replace_mentions",
    "split_hashtags",
    "replace_promo_codes",
    "replace_prices",
    "replace_percentages",
    "shorten_elongations",
    "space_emoji",
    "collapse_whitespace",
    "URL_TOKEN",
    "MENTION_TOKEN",
    "CODE_TOKEN",
    "PRICE_TOKEN",
    "PERCENT_TOKEN",
    "DISCOUNT_TOKEN",
]

URL_TOKEN = "xxurl"
MENTION_TOKEN = "xxmention"
CODE_TOKEN = "xxcode"
PRICE_TOKEN = "xxprix"
PERCENT_TOKEN = "xxpourcent"
DISCOUNT_TOKEN = "xxremise"

# A piece of output and the [start, end) range of the *current* text it stands for.
_Segment = tuple[str, int, int]

# Zero-width characters, bidi controls, variation selectors, skin-tone modifiers, BOM.
_INVISIBLE = re.compile(
    "[\u00ad\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufe00-\ufe0f\ufeff"
    "\U0001f3fb-\U0001f3ff\U000e0000-\U000e007f]+"
)
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]+")
# Every pattern below runs in linear time on any text: quantifiers that could give back
# characters to a later part are possessive (``*+``, ``++``), and a run is only entered at its
# first character (a look-behind), so a failed match is not retried from inside the run.
# benchmarks/adversarial.py measures it; test_normalise checks the matches are unchanged.
_URL = re.compile(
    r"(?:https?://|www\.)\S+|\b(?<![a-z0-9-])[a-z0-9][a-z0-9-]*+\.(?:fr|com|be|ch|ca|org|net|io)/\S*", re.I
)
_MENTION = re.compile(r"(?<![\w@])@\w{1,30}")
_HASHTAG = re.compile(r"(?<![\w#])#(\w+)")
_HASHTAG_PARTS = re.compile(
    r"[A-ZÀ-ÖØ-Þ]{2,}(?=[A-ZÀ-ÖØ-Þ][a-zß-öø-ÿ]|\d|_|$)|[A-ZÀ-ÖØ-Þ]?[a-zß-öø-ÿ]+|[A-ZÀ-ÖØ-Þ]+|\d+"
)
# "code" (any case), then the code: a run of capitals and digits, whole (see _promo_code).
_PROMO_CODE = re.compile(r"\b((?i:code)(?:\s++(?i:promo)\b)?+)\s*+:?\s*+[«\"']?\s*+([A-Z0-9]++)\b")
_PRICE = re.compile(
    r"(?:[€$£]\s?\d++(?:[.,]\d{1,2})?)"
    r"|(?:(?<!\d)\d++(?:[ .]\d{3}(?!\d))*+(?:[.,]\d{1,2}(?!\d))?\s?(?:€|euros?\b|eur\b|\$|chf\b|fcfa\b|cfa\b|£))",
    re.I,
)
_PERCENT = re.compile(r"(-\s?)?(?<!\d)\d++(?:[.,]\d++)?+\s?(?:%|pour\s?cent\b|pourcents?\b)", re.I)
_ELONGATION = re.compile(r"([^\W\d_]|[!?.])\1{2,}")
_EMOJI = re.compile(
    "[\U0001f000-\U0001faff\u2600-\u27bf\u2b00-\u2bff\u2300-\u23ff\u2190-\u21ff\u3030\u303d\u3297\u3299]"
)
# Only what needs changing: runs of two or more, or white space other than a plain space.
_SPACES = re.compile(r"\s{2,}|[^\S ]")


def _opaque(text: str, start: int, end: int) -> list[_Segment]:
    """The whole replacement stands for the whole match."""
    return [(text, start, end)]


def _lowered(parts: Sequence[re.Match[str]], start: int) -> list[_Segment]:
    """The parts lower-cased and joined by spaces, each output character pointing at the
    source character it comes from (a space at the next part's first character).

    Linear, and exact for characters whose lower case is longer (``İ`` → ``i̇``).
    """
    segments: list[_Segment] = []
    for k, part in enumerate(parts):
        a = start + part.start()
        if k:
            segments.append((" ", a, a + 1))
        for j, ch in enumerate(part.group(), a):
            segments.extend((c, j, j + 1) for c in ch.lower())
    return segments


@dataclass(frozen=True)
class Normalised:
    """Normalised text with, for each of its characters, the original span it came from."""

    text: str
    starts: Sequence[int]
    ends: Sequence[int]

    def original_span(self, start: int, end: int) -> tuple[int, int]:
        """The span of the original text behind ``text[start:end]`` (``end > start``)."""
        return self.starts[start], self.ends[end - 1]


_Rule = Callable[[re.Match[str]], list[_Segment]]


def _apply(pattern: re.Pattern[str], rule: _Rule, norm: Normalised) -> Normalised:
    text = norm.text
    matches = list(pattern.finditer(text))
    if not matches:
        return norm
    out: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    S, E = norm.starts, norm.ends
    last = 0
    for m in matches:
        out.append(text[last : m.start()])
        starts.extend(S[last : m.start()])
        ends.extend(E[last : m.start()])
        for piece, a, b in rule(m):
            out.append(piece)
            n = len(piece)
            starts.extend([S[a]] * n)
            ends.extend([E[b - 1]] * n)
        last = m.end()
    out.append(text[last:])
    starts.extend(S[last:])
    ends.extend(E[last:])
    return Normalised("".join(out), starts, ends)


_WHOLE = re.compile(r".+", re.S)
_CODE_PARTS = re.compile(r"[A-Z]+|\d+")


def _split_hashtag(m: re.Match[str]) -> list[_Segment]:
    body = m.group(1)
    # _WHOLE matches any non-empty body, and a hashtag's body is never empty
    parts = list(_HASHTAG_PARTS.finditer(body)) or [cast("re.Match[str]", _WHOLE.match(body))]
    return [(" ", m.start(), m.start() + 1), *_lowered(parts, m.start(1)), (" ", m.end() - 1, m.end())]


def _is_code(code: str) -> bool:
    """A promo code: a capital then two or more capitals or digits, or capitals and digits
    ending in a digit ("SOLDES", "CONFINEMENT20", "20JUIN5"; not "20", "OK")."""
    has_capital = not code.isdigit()
    return (code[0].isalpha() and len(code) >= 3) or (has_capital and code[-1].isdigit())


def _promo_code(m: re.Match[str]) -> list[_Segment]:
    code = m.group(2)
    if not _is_code(code):  # not a code: the text stays as it is
        return [(ch, j, j + 1) for j, ch in enumerate(m.group(), m.start())]
    return [
        *_lowered([_WHOLE.match(m.group(1))], m.start(1)),  # type: ignore[list-item]
        *_opaque(f" {CODE_TOKEN} ", m.start(2), m.end(2)),
        *_lowered(list(_CODE_PARTS.finditer(code)), m.start(2)),
    ]


def _percent(m: re.Match[str]) -> list[_Segment]:
    token = DISCOUNT_TOKEN if m.group(1) else PERCENT_TOKEN
    return _opaque(f" {token} ", m.start(), m.end())


def _elongation(m: re.Match[str]) -> list[_Segment]:
    return [(m.group(1), m.start(), m.start() + 1)]


def _spaced(m: re.Match[str]) -> list[_Segment]:
    # A space on each side, unless white space is already there or an emoji just before has
    # put one: what padding both sides then collapsing white space gives, in one pass.
    text, (a, b) = m.string, m.span()
    left = "" if a == 0 or text[a - 1].isspace() or _EMOJI.match(text, a - 1) else " "
    right = "" if b == len(text) or text[b].isspace() else " "
    return _opaque(f"{left}{m.group(0)}{right}", a, b)


def _nothing(m: re.Match[str]) -> list[_Segment]:
    return []


def _space(m: re.Match[str]) -> list[_Segment]:
    return [(" ", m.start(), m.end())]


def _token(token: str) -> _Rule:
    return lambda m: _opaque(f" {token} ", m.start(), m.end())


# Cheap tests that say when a rule's pattern cannot match, so its (slower) search is skipped:
# most posts have no URL, mention, code, price or elongation. Each must answer True whenever
# the pattern would match (test_normalise checks it); a False is only ever a shortcut.
_DIGIT = re.compile(r"\d")
_TRIPLE = re.compile(r"(.)\1\1", re.S)
_ODD_SPACE = re.compile(r"[^\S ]")
_HIDDEN = re.compile(f"{_INVISIBLE.pattern}|{_CONTROL.pattern}")


def _always(text: str) -> bool:
    return True


def _may_have_url(text: str) -> bool:
    return "/" in text or "www." in text.lower()


def _may_have_percent(text: str) -> bool:
    return _DIGIT.search(text) is not None and ("%" in text or "pour" in text.lower())


def _may_have_price(text: str) -> bool:
    if _DIGIT.search(text) is None:
        return False
    if "€" in text or "$" in text or "£" in text:
        return True
    lower = text.lower()
    return "eur" in lower or "chf" in lower or "cfa" in lower


def _may_have_spaces(text: str) -> bool:
    return "  " in text or _ODD_SPACE.search(text) is not None


# The rules in the order they run, each with its cheap test. URLs go before hashtags and
# mentions (a URL may hold '#' or '@'); promo codes before prices (a code may end in digits).
_Entry = tuple[str, re.Pattern[str], _Rule, Callable[[str], bool]]
_RULES: list[_Entry] = [
    ("strip_invisible", _INVISIBLE, _nothing, _always),
    ("strip_controls", _CONTROL, _space, _always),
    ("replace_urls", _URL, _token(URL_TOKEN), _may_have_url),
    ("replace_mentions", _MENTION, _token(MENTION_TOKEN), lambda t: "@" in t),
    ("replace_promo_codes", _PROMO_CODE, _promo_code, lambda t: "code" in t.lower()),
    ("split_hashtags", _HASHTAG, _split_hashtag, lambda t: "#" in t),
    ("replace_percentages", _PERCENT, _percent, _may_have_percent),
    ("replace_prices", _PRICE, _token(PRICE_TOKEN), _may_have_price),
    ("shorten_elongations", _ELONGATION, _elongation, lambda t: _TRIPLE.search(t) is not None),
    ("space_emoji", _EMOJI, _spaced, _always),
    ("collapse_whitespace", _SPACES, lambda m: [(" ", m.start(), m.end())], _may_have_spaces),
]
_RULE_BY_NAME = {name: (pattern, rule) for name, pattern, rule, _ in _RULES}
#: Every rule's name, in the order the rules run.
RULE_NAMES: tuple[str, ...] = tuple(name for name, *_ in _RULES)
#: The rule sets a model can be trained with (a model file stores the names it used):
#: ``social`` is every rule; ``plain`` keeps the text as written, only removing invisible and
#: control characters and collapsing white space.
RULE_SETS: dict[str, tuple[str, ...]] = {
    "social": RULE_NAMES,
    "plain": ("strip_invisible", "strip_controls", "collapse_whitespace"),
}
_HIDDEN_RULES = ("strip_invisible", "strip_controls")


@functools.lru_cache(maxsize=16)
def _selected(rules: tuple[str, ...]) -> tuple[tuple[_Entry, ...], tuple[_Entry, ...]]:
    """The rules named, in running order: all of them, and those left once a text is known
    to hold no invisible or control character."""
    unknown = sorted(set(rules) - set(RULE_NAMES))
    if unknown:
        raise ValueError(f"unknown text rule(s) {unknown}; the rules are {list(RULE_NAMES)}")
    chosen = tuple(entry for entry in _RULES if entry[0] in rules)
    return chosen, tuple(entry for entry in chosen if entry[0] not in _HIDDEN_RULES)


def rule_set(name_or_rules: str | Sequence[str]) -> tuple[str, ...]:
    """The rule names of a named set (``"social"``, ``"plain"``) or of a list of rule names,
    checked.

    >>> rule_set("plain")
    ('strip_invisible', 'strip_controls', 'collapse_whitespace')
    """
    if isinstance(name_or_rules, str):
        if name_or_rules not in RULE_SETS:
            raise ValueError(f"text rules must be one of {sorted(RULE_SETS)} or a list of rule names, "
                             f"not {name_or_rules!r}")
        return RULE_SETS[name_or_rules]
    rules = tuple(name_or_rules)
    _selected(rules)
    return tuple(name for name in RULE_NAMES if name in rules)


def _identity(text: str) -> Normalised:
    if not unicodedata.is_normalized("NFC", text):
        return _nfc(text)
    n = len(text)
    return Normalised(text, list(range(n)), list(range(1, n + 1)))


def _nfc(text: str) -> Normalised:
    """NFC, composing each base character with the combining marks that follow it."""
    out: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    i = 0
    n = len(text)
    while i < n:
        j = i + 1
        while j < n and unicodedata.combining(text[j]):
            j += 1
        try:
            piece = unicodedata.normalize("NFC", text[i:j])
        except UnicodeError:  # pragma: no cover - lone surrogates normalise as themselves
            piece = text[i:j]
        out.append(piece)
        starts.extend([i] * len(piece))
        ends.extend([j] * len(piece))
        i = j
    return Normalised("".join(out), starts, ends)


def _run(name: str, text: str) -> str:
    pattern, rule = _RULE_BY_NAME[name]
    return _apply(pattern, rule, _identity(text)).text


def strip_invisible(text: str) -> str:
    """Remove zero-width characters, bidi controls, variation selectors and skin tones."""
    return _run("strip_invisible", text)


def replace_urls(text: str) -> str:
    """Replace each URL with ``xxurl``."""
    return _run("replace_urls", text)


def replace_mentions(text: str) -> str:
    """Replace each @mention with ``xxmention``."""
    return _run("replace_mentions", text)


def split_hashtags(text: str) -> str:
    """Turn ``#MerciAuxSoignants`` into ``merci aux soignants`` (CamelCase and digits split)."""
    return _run("split_hashtags", text)


def replace_promo_codes(text: str) -> str:
    """Mark promo codes: ``code CANICULE15`` becomes ``code xxcode canicule 15``."""
    return _run("replace_promo_codes", text)


def replace_prices(text: str) -> str:
    """Replace prices (``49,90 €``, ``$20``, ``5000 FCFA``) with ``xxprix``."""
    return _run("replace_prices", text)


def replace_percentages(text: str) -> str:
    """Replace ``-30 %`` with ``xxremise`` and other percentages with ``xxpourcent``."""
    return _run("replace_percentages", text)


def shorten_elongations(text: str) -> str:
    """Shorten a letter or ``!?.`` repeated three times or more to one (``merciiii`` → ``merci``)."""
    return _run("shorten_elongations", text)


def space_emoji(text: str) -> str:
    """Put spaces around each emoji so that it is a token of its own."""
    return _run("space_emoji", text)


def collapse_whitespace(text: str) -> str:
    """Turn every run of white space into one space."""
    return _run("collapse_whitespace", text)


def normalise_with_offsets(text: str, rules: tuple[str, ...] = RULE_NAMES) -> Normalised:
    """Apply the ``rules`` (default: all) in order, keeping the original span of each output
    character."""
    norm = _identity(text)
    every, visible = _selected(rules)
    # one scan tells whether the first two rules (invisible and control characters) can match
    for _, pattern, rule, may_match in every if _HIDDEN.search(norm.text) else visible:
        if may_match(norm.text):
            norm = _apply(pattern, rule, norm)
    stripped = norm.text.strip()
    if len(stripped) != len(norm.text):
        lead = len(norm.text) - len(norm.text.lstrip())
        norm = Normalised(
            stripped,
            norm.starts[lead : lead + len(stripped)],
            norm.ends[lead : lead + len(stripped)],
        )
    return norm


def normalise(text: str, rules: tuple[str, ...] = RULE_NAMES) -> str:
    """Apply the ``rules`` (default: all) in order; see the module docstring."""
    return normalise_with_offsets(text, rules).text
