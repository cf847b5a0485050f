"""Is a post French? A light check on function words and scripts, no model to download.

Short posts rarely say which language they are in, so a post is called non-French only on
clear evidence: mostly non-Latin letters, or several words of which the function words
are clearly of another language.
"""

from __future__ import annotations

import re

from tonecheck.tokens import Analysis

__all__ = ["looks_french"]

# The commonest function words; a token counted for a language only if not also French.
_FRENCH = frozenset(
    "le la les un une des du de d l et est en au aux ce cette ces pour pas plus que qui dans sur "
    "avec ne nous vous je tu il elle on ils elles mon ma mes ton ta tes son sa ses notre nos votre "
    "vos leur leurs y à a été être ou où mais donc car si tout tous toute très bien chez se sont "
    "c ça ca j m n s t qu merci aussi comme même fait faire avoir quand".split()
)
_OTHERS = {
    "en": frozenset("the and is are of to in for with this that you your we our it be was on at by from not have has will".split()),
    "es": frozenset("el los las y es por para con una del que no se lo su sus muy pero como está".split()),
    "it": frozenset("il di che è per con non una sono della gli le del questo anche più".split()),
    "de": frozenset("der die das und ist nicht mit ein eine für auf den dem zu ich sie wir auch sind".split()),
    "pt": frozenset("o os e é do da dos das em um uma não para com por que mais muito".split()),
}


_WORD = re.compile(r"[^\W\d_]+")
_LETTER = re.compile(r"[^\W\d_]")
# Latin letters: ASCII, Latin-1, Latin Extended-A/B and Additional.
_LATIN = re.compile(r"[A-Za-z\u00c0-\u024f\u1e00-\u1eff]")


def _latin_share(text: str) -> float:
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
    fr = sum(1 for w in words if w in _FRENCH)
    best_other = max(sum(1 for w in words if w in vocab and w not in _FRENCH) for vocab in _OTHERS.values())
    return not (best_other >= 2 and best_other > fr)
