"""The cue lexicon's batch and cached checks answer what the plain ones answer."""

import random

import pytest

from tonecheck import cues
from tonecheck.cues import conjunctions, conjunctions_of_posts, shouting, shouting_posts
from tonecheck.reading import Analysis


def test_a_terms_cue_bits_are_its_vocabularies():
    rng = random.Random(3)
    terms = ["".join(rng.choice("abcdefghijklmnopqrstuvwxyzé-€1😂 ") for _ in range(rng.randint(0, 10)))
             for _ in range(3000)]
    terms += [p + x for prefixes in cues._CUES.values() for p in prefixes for x in ("", "s", "ement")]
    for t in terms:
        names = tuple(name for name, prefixes in cues._CUES.items() if t.startswith(prefixes))
        assert cues._term_cues(t) == names, t
        assert cues._term_mask(t) == sum(cues._CUE_BIT[name] for name in names), t


def _analysis(text):
    return Analysis(text, text, ())


@pytest.mark.parametrize("n", [3, 40])
def test_shouting_posts_are_those_that_shout(n):
    rng = random.Random(n)
    pieces = ["MERCI", "À TOUS", "les soignants", "ÇA SUFFIT", "ÉNORME", "😂", "ß", "×××", "Øÿ", "", "12", "ÐÞ"]
    texts = [" ".join(rng.choice(pieces) for _ in range(rng.randint(0, 8))) for _ in range(n)]
    analyses = [_analysis(t) for t in texts]
    assert shouting_posts(analyses) == {d for d, a in enumerate(analyses) if shouting(a)}


@pytest.mark.parametrize("copies", [1, 3])  # a few posts are read one by one, more in numpy
def test_conjunctions_of_posts_are_each_posts_conjunctions(copies):
    posts = [("profitez", "du", "confinement"), (), ("merci",), ("merci", "promo"), ("code", "covid", "lol")] * copies
    fires = conjunctions_of_posts([t for p in posts for t in p], [len(p) for p in posts])
    for d, terms in enumerate(posts):
        assert fires.get(d, conjunctions(())) == conjunctions(terms)
