"""The crisis cue lexicon: word families whose *conjunction* carries the label guide's
distinctions, and the shouting cue.

A tone-deaf post is mostly a crisis reference *used as* a sales hook, an invitation, a brag,
defiance or a health claim: single words cannot say that, a crisis word within a few words
of a commerce word can. The vocabularies are matched as prefixes of lemmas. Edit the
lexicon here; :data:`CUE_NAMES` are feature names a model file stores.
"""

from __future__ import annotations

import functools
import operator
import re
from collections.abc import Sequence
from itertools import accumulate
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from tonecheck.reading import Analysis

__all__ = ["CUE_NAMES", "FEW_POSTS", "cue_matches", "conjunction_matches", "conjunctions", "conjunctions_of_posts",
           "shouting", "shouting_posts"]

# Real crisis-time posts name
# the crisis everywhere (hashtags of the day), so a conjunction only counts when the two
# parts stand within a few words of each other: "code CONFINEMENT20", "soldes spécial
# canicule", "profitez du confinement pour craquer".
_CUES: dict[str, tuple[str, ...]] = {
    "crisis": (
        "confin", "déconfin", "reconfin", "covid", "corona", "virus", "pandém", "épidém",
        "quarantaine", "couvre-feu", "canicul", "sécheresse", "inond", "crue", "tempête",
        "ouragan", "cyclone", "incendi", "attentat", "terror", "grève", "grévi", "guerre",
        "réfugi", "séisme", "pénurie", "crise", "inflation", "délestage", "blackout",
        "black-out", "sinistr", "catastroph", "lockdown", "restezchezvous", "stayhome",
        "vigilance", "alerte",
    ),
    "commerce": (
        "xxcode", "xxremise", "xxprix", "promo", "solde", "réduc", "remise", "offre", "craqu",
        "profit", "commande", "achet", "achat", "vente", "stock", "flash", "deal", "livraison",
        "boutique", "shop", "collection", "panier", "précommande", "exclusi", "limité",
        # the same hooks as written, for a model trained on text as written (text rules
        # "plain": no xxcode/xxremise/xxprix placeholders): a code, a discount "-30", a price
        "code", "-1", "-2", "-3", "-4", "-5", "-6", "-7", "-8", "-9", "€", "prix",
    ),
    "invite": (
        "venez", "rejoign", "soirée", "apéro", "fête", "teuf", "party", "rassembl", "plage",
        "barbecue", "bbq", "week-end", "weekend", "escapade", "pique-nique", "ramen",
        "nombreu", "rdv", "festival",
    ),
    "privilege": (
        "villa", "piscine", "jacuzzi", "yacht", "jet", "résidence secondaire", "spa", "bronz",
        "transat", "champagne", "luxe", "vacance", "paradis", "chill", "cocktail", "golf",
        "chalet", "maldives", "bali", "palace", "belle vie",
    ),
    "defiance": ("fout", "fiche", "osef", "malgré", "ou pas", "balek", "tant pis", "braver"),
    "health_claim": (
        "immunit", "immunitaire", "protég", "guér", "antivir", "anti-virus", "huile",
        "miracle", "booster", "défense", "remède", "tisane", "vitamine", "détox", "bouclier",
        "invincible",
    ),
    "thanks": ("merci", "remerci", "bravo", "applaud", "hommage", "gratitude", "héros"),
    "joke": ("mdr", "ptdr", "lol", "😂", "🤣", "😜", "haha", "xd", "😅", "excuse"),
}
# (first, second, window in words); a conjunction fires when a word of each stands within
# the window of the other.
_CONJUNCTIONS: tuple[tuple[str, str], ...] = (
    ("crisis", "commerce"),
    ("crisis", "invite"),
    ("crisis", "privilege"),
    ("crisis", "defiance"),
    ("crisis", "health_claim"),
    ("crisis", "joke"),
    ("thanks", "commerce"),
)
_WINDOW = 4
#: Names of the cue features, in column order.
CUE_NAMES: tuple[str, ...] = (
    *(f"cue:{a}+{b}" for a, b in _CONJUNCTIONS),
    "cue:shouting",
)


_CUE_NAMES_ORDER = tuple(_CUES)


#: Below this many posts a batch is screened post by post: numpy's calls cost more than they
#: save on a few posts (assess()). The runtime chooses evidence the same way.
FEW_POSTS = 8

_CUE_BIT = {name: 1 << i for i, name in enumerate(_CUES)}
_CONJUNCTION_MASKS = tuple(_CUE_BIT[a] | _CUE_BIT[b] for a, b in _CONJUNCTIONS)
_NONE_FIRES = ((),) * len(_CONJUNCTIONS)


# For each first character, the vocabularies with a prefix that starts with it (their bit, and
# those prefixes): a term is only compared with the prefixes that share its first character
# (0.5 us a new term instead of 2).
_BY_FIRST: dict[str, tuple[tuple[int, tuple[str, ...]], ...]] = {
    c: tuple((_CUE_BIT[name], tuple(p for p in prefixes if p[0] == c))
             for name, prefixes in _CUES.items() if any(p[0] == c for p in prefixes))
    for c in sorted({p[0] for prefixes in _CUES.values() for p in prefixes})
}


@functools.lru_cache(maxsize=65536)
def _term_mask(term: str) -> int:
    """The cue vocabularies a term belongs to (one of their prefixes starts it), as bits
    (cached: terms repeat across posts)."""
    mask = 0
    for bit, prefixes in _BY_FIRST.get(term[:1], ()):
        if term.startswith(prefixes):
            mask |= bit
    return mask


@functools.lru_cache(maxsize=65536)
def _term_cues(term: str) -> tuple[str, ...]:
    """The cue vocabularies a term belongs to, by name, in lexicon order."""
    mask = _term_mask(term)
    return tuple(name for name in _CUE_NAMES_ORDER if mask & _CUE_BIT[name])


def cue_matches(terms: Sequence[str]) -> dict[str, list[int]]:
    """For each cue vocabulary, the indices of the terms that match it."""
    hits: dict[str, list[int]] = {name: [] for name in _CUE_NAMES_ORDER}
    for i, t in enumerate(terms):
        for name in _term_cues(t):
            hits[name].append(i)
    return hits


def conjunction_matches(terms: Sequence[str]) -> list[list[int]]:
    """For each conjunction, the indices of the terms that make it fire (empty: it does not)."""
    return [list(w) for w in conjunctions(tuple(terms))]


def conjunctions(terms: tuple[str, ...]) -> tuple[tuple[int, ...], ...]:
    present = functools.reduce(operator.or_, map(_term_mask, terms), 0)
    if not any(present & m == m for m in _CONJUNCTION_MASKS):  # the usual case: no pair of vocabularies
        return _NONE_FIRES
    return _near_pairs(terms)


def conjunctions_of_posts(terms: Sequence[str], n_terms: Sequence[int]) -> dict[int, tuple[tuple[int, ...], ...]]:
    """:func:`conjunctions` of each post of a batch (``terms``, cut into posts of ``n_terms``),
    for the posts where one may fire: each post's vocabularies are found with one numpy call
    for the batch, and only the few posts with a pair of them present are read term by term."""
    ends = list(accumulate(n_terms))
    if len(n_terms) < FEW_POSTS:
        fires = {d: conjunctions(tuple(terms[e - n : e])) for d, (e, n) in enumerate(zip(ends, n_terms, strict=True))}
        return {d: f for d, f in fires.items() if f is not _NONE_FIRES}
    masks = np.fromiter(map(_term_mask, terms), dtype=np.int64, count=len(terms))
    starts = np.array(ends, dtype=np.int64) - np.asarray(n_terms, dtype=np.int64)
    filled = np.flatnonzero(np.asarray(n_terms) > 0)
    if not filled.size:
        return {}
    present = np.bitwise_or.reduceat(masks, starts[filled])
    pair = np.zeros(filled.size, dtype=bool)
    for m in _CONJUNCTION_MASKS:
        pair |= (present & m) == m
    return {d: _near_pairs(tuple(terms[ends[d] - n_terms[d] : ends[d]])) for d in filled[pair].tolist()}


@functools.lru_cache(maxsize=1024)
def _near_pairs(terms: tuple[str, ...]) -> tuple[tuple[int, ...], ...]:
    hits = cue_matches(terms)
    out = []
    for a, b in _CONJUNCTIONS:
        if hits[a] and hits[b]:
            near = sorted({k for i in hits[a] for j in hits[b] if abs(i - j) <= _WINDOW and i != j for k in (i, j)})
        else:
            near = []
        out.append(tuple(near))
    return tuple(out)


_LETTER = re.compile(r"[^\W\d_]")
_UPPER = re.compile(r"[A-ZÀ-ÖØ-Þ]")


def shouting_posts(analyses: Sequence[Analysis]) -> set[int]:
    """The posts of a batch for which :func:`shouting` is true, counted for the whole batch in
    numpy; only a post that may shout is looked at. Each post's capitals (the code points
    ``_UPPER`` matches) and some of its letters (the ASCII and Latin-1 letters, all matched by
    ``_LETTER``) are counted: with no more than 7 capitals, or no more than 60 % of those
    letters (so of all its letters), a post does not shout."""
    if len(analyses) < FEW_POSTS:
        return {d for d, a in enumerate(analyses) if shouting(a)}
    texts = [a.text for a in analyses]
    p = np.frombuffer("".join(texts).encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    upper = ((p >= 0x41) & (p <= 0x5A)) | ((p >= 0xC0) & (p <= 0xDE) & (p != 0xD7))
    lower = ((p >= 0x61) & (p <= 0x7A)) | ((p >= 0xDF) & (p != 0xF7) & (p <= 0xFF))
    ends = np.cumsum(np.fromiter(map(len, texts), dtype=np.int64, count=len(texts)))
    n_upper, n_lower = (np.diff(np.concatenate([[0], np.cumsum(m)])[ends], prepend=0) for m in (upper, lower))
    may = (n_upper > 7) & (n_upper > 0.6 * (n_upper + n_lower))
    return {d for d in np.flatnonzero(may).tolist() if shouting(analyses[d])}


def shouting(analysis: Analysis) -> bool:
    """Mostly capitals: at least 12 letters, over 60 % of them upper-case."""
    upper = len(_UPPER.findall(analysis.text))
    if upper <= 7:  # 60 % of at least 12 letters is more than 7
        return False
    letters = len(_LETTER.findall(analysis.text))
    return letters >= 12 and upper > 0.6 * letters


