"""Is a post French? A light check on function words and scripts, no model to download.

Short posts rarely say which language they are in, so a post is called non-French only on
clear evidence: mostly non-Latin letters, or several words of which the function words
are clearly of another language.
"""

from __future__ import annotations

import bisect
import itertools
import re
from collections.abc import Sequence

from tonecheck.reading import Analysis

__all__ = ["looks_french", "looks_french_many"]

# The commonest function words; a token counted for a language only if not also French.
_FRENCH = frozenset(
    "le la les un une des du de d l et est en au aux ce cette ces pour pas plus que qui dans sur "
    "avec ne nous vous je tu il elle on ils elles mon ma mes ton ta tes son sa ses notre nos votre "
    "vos leur leurs y à a été être ou où mais donc car si tout tous toute très bien chez se sont "
    "c ça ca j m n s t qu merci aussi comme même fait faire avoir quand".split()
)
_OTHERS = {
    "en": frozenset(
        "the and is are of to in for with this that you your we our it be was on at by from not have has will".split()
    ),
    "es": frozenset("el los las y es por para con una del que no se lo su sus muy pero como está".split()),
    "it": frozenset("il di che è per con non una sono della gli le del questo anche più".split()),
    "de": frozenset("der die das und ist nicht mit ein eine für auf den dem zu ich sie wir auch sind".split()),
    "pt": frozenset("o os e é do da dos das em um uma não para com por que mais muito".split()),
}


_WORD = re.compile(r"[^\W\d_]+")
_LETTER = re.compile(r"[^\W\d_]")
# Latin letters: ASCII, Latin-1, Latin Extended-A/B and Additional.
_LATIN = re.compile(r"[A-Za-z\u00c0-\u024f\u1e00-\u1eff]")
_NON_LATIN_LETTER = re.compile(r"[^\W\d_A-Za-z\u00c0-\u024f\u1e00-\u1eff]")
# The function words of each other language that are not also French, and all of them.
_WORDS_IN = {lang: frozenset(w for w in vocab if w not in _FRENCH) for lang, vocab in _OTHERS.items()}
_ANY_OTHER = frozenset().union(*_WORDS_IN.values())


def _latin_share(text: str) -> float:
    if _NON_LATIN_LETTER.search(text) is None:  # the usual case: every letter is Latin
        return 1.0
    letters = len(_LETTER.findall(text))
    if not letters:
        return 1.0
    return len(_LATIN.findall(text)) / letters


def looks_french(analysis: Analysis) -> bool:
    """False when the post is clearly in another language or script."""
    return _looks_french(analysis, False)


def _looks_french(analysis: Analysis, latin: bool) -> bool:
    """``latin``: the post is known to have Latin letters only."""
    if not latin and _latin_share(analysis.normalised) < 0.5:
        return False
    words = _WORD.findall(analysis.normalised.lower())
    # no other language has two words here (asked first: the usual answer, and no word of
    # theirs starts with "xx", so the words dropped below do not change it)
    if sum(map(_ANY_OTHER.__contains__, words)) < 2:
        return True
    words = [w for w in words if not w.startswith("xx")]
    if len(words) < 4:
        return True
    fr = sum(map(_FRENCH.__contains__, words))
    best_other = max(sum(map(vocab.__contains__, words)) for vocab in _WORDS_IN.values())
    return not (best_other >= 2 and best_other > fr)


def looks_french_many(analyses: Sequence[Analysis]) -> list[bool]:
    """``[looks_french(a) for a in analyses]``, the posts with a non-Latin letter found by one
    scan of the whole batch (most have none)."""
    texts = [a.normalised for a in analyses]
    starts = list(itertools.accumulate((len(t) + 1 for t in texts[:-1]), initial=0))
    joined = "\n".join(texts)
    non_latin = set()
    at = 0
    while (m := _NON_LATIN_LETTER.search(joined, at)) is not None:
        d = bisect.bisect_right(starts, m.start()) - 1
        non_latin.add(d)
        at = starts[d + 1] if d + 1 < len(starts) else len(joined)  # on to the next post
    return [_looks_french(a, d not in non_latin) for d, a in enumerate(analyses)]
