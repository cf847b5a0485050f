"""Is a post French? A light check on function words and scripts, no model to download.

Short posts rarely say which language they are in, so a post is called non-French only on
clear evidence: mostly non-Latin letters, or several words of which the function words
are clearly of another language.
"""

from __future__ import annotations

import re

from tonecheck.reading import Analysis

__all__ = ["looks_french"]

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
    if _latin_share(analysis.normalised) < 0.5:
        return False
    words = [w for w in _WORD.findall(analysis.normalised.lower()) if not w.startswith("xx")]
    if len(words) < 4:
        return True
    if sum(map(_ANY_OTHER.__contains__, words)) < 2:  # no other language has two words here
        return True
    fr = sum(map(_FRENCH.__contains__, words))
    best_other = max(sum(map(vocab.__contains__, words)) for vocab in _WORDS_IN.values())
    return not (best_other >= 2 and best_other > fr)
