"""The fast paths of tonecheck.reading, tonecheck.spacy_tokenizer and tonecheck.cues give exactly what spaCy and scikit-learn give."""

import csv
import functools
import pickle
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import AUTHORED, REAL_TEXTS
from tonecheck.cues import _near_pairs
from tonecheck.cues import conjunctions as _conjunctions
from tonecheck.reading import Reader, _tokenize_with, char_wb_ngrams
from tonecheck.spacy_tokenizer import (
    CompactTokenizer,
    TokenMatch,
    _exact,
    _exact_pattern,
    _Reduced,
    used_special_cases,
)


def _corpus(limit=None):
    with open(AUTHORED, encoding="utf-8") as f:
        texts = [r["text"] for r in csv.DictReader(f)]
    if REAL_TEXTS.is_file():
        with open(REAL_TEXTS, encoding="utf-8") as f:
            texts += [r["text"] for r in csv.DictReader(f)]
    return texts[:limit]


@pytest.fixture(scope="module")
def special_cases():
    return used_special_cases(_corpus(1500))


@pytest.fixture(scope="module")
def compact(special_cases):
    return CompactTokenizer(*CompactTokenizer.serialise(special_cases))


_HYPHENATED = st.builds(
    lambda a, h, b: a + h + b,
    st.sampled_from(["anti", "Anti", "ANTI", "post", "néo", "auto", "contre", "états", "black", "burn", "saut", "entr",
                     "vis", "ré", "grand", "Grande", "pet", "r", "Ψ", "ﬁ", "ß", "k"]),
    st.sampled_from(["-", "‐", "‑", "–", "—", "'", "’"]),
    st.text(alphabet=st.characters(categories=["L", "Pd", "Nd"], include_characters="'’"), min_size=0, max_size=12),
)


def test_token_match_answers_like_the_compiled_patterns(special_cases):
    _, patterns = special_cases
    assert patterns, "the corpus uses some of spaCy's token_match patterns"
    exact = re.compile("(?iu)" + "|".join(f"(?:{p})" for p in patterns)).match
    fast = TokenMatch(patterns)
    words = {w for t in _corpus() for w in t.split()}
    words |= {"anti-covid", "Anti-Confinement", "états-unis", "saut-de-ski", "pet-en-l'air", "entr'abat"}
    assert [w for w in words if bool(fast(w)) != bool(exact(w))] == []

    @settings(max_examples=300, deadline=None)
    @given(_HYPHENATED)
    def same(word):
        assert bool(fast(word)) == bool(exact(word))

    same()


def test_token_match_never_compiles_spacys_letter_classes():
    """A word the screen lets through is proven by its letter runs; where a non-letter stands
    where a letter class does, the pattern cut down to its own characters answers
    (:class:`_Reduced`): neither compiles a pattern with spaCy's letter classes (10-20 ms each)."""
    from spacy.lang.fr.tokenizer_exceptions import _regular_exp

    patterns = [p for p in _regular_exp if p.startswith(("^anti", "^auto", "^prud"))]
    fast = TokenMatch(patterns)
    _exact.cache_clear()
    _exact_pattern.cache_clear()
    assert [fast(w) for w in ("anti-covid", "Auto-Entrepreneur", "prud'homal", "anti-")] == [True, True, True, False]
    assert _exact.cache_info().currsize == 0
    assert [fast(w) for w in ("anti-1", "anti-co🙂vid", "auto-x.y", "ANTI-É1")] == [False, False, False, False]
    assert _exact.cache_info().currsize == 2  # the two patterns whose screens matched
    assert _exact_pattern.cache_info().currsize == 0


def test_token_match_checks_from_the_pattern_whose_screen_matched():
    """The joint screen says which alternative matched first; the patterns before it are never
    checked (their screens do not match), and a pattern after it still answers where the
    first one's letter class turns the string down. With groups of their own in the patterns,
    every pattern is checked from the first."""
    from spacy.lang.char_classes import ALPHA_LOWER

    letters = f"[{ALPHA_LOWER}]"
    assert len(letters) > 200  # (a letter class the screen loosens)
    patterns = [f"^zz{letters}+$", f"^ab{letters}+$", "^ab1$", f"^ab{letters}+-x$"]
    fast = TokenMatch(patterns)
    assert [fast(w) for w in ("abc", "ab1", "abé-x", "ab2", "zz")] == [True, True, True, False, False]
    assert fast._checks[0] is None  # never matched first: never checked
    exact = re.compile("(?iu)" + "|".join(f"(?:{p})" for p in patterns)).match
    for word in ("abc", "ab1", "abé-x", "ab2", "zz", "zzé", "AB1", "ab-x", "abc-x"):
        assert fast(word) == bool(exact(word)), word

    grouped = [f"^(zz){letters}+$", f"^ab{letters}+$", "^ab1$"]
    fast = TokenMatch(grouped)
    assert [fast(w) for w in ("ab1", "zzé", "ab")] == [True, True, False]
    assert fast._checks[0] is not None  # checked from the first pattern on


def test_token_match_turns_down_at_once_a_string_without_a_needed_mark():
    """Every one of spaCy's French patterns needs a hyphen or an apostrophe (or a space), so a
    string with none of them is turned down before any regex runs; the shortcut is taken only
    where every pattern has such a needed element, and it never changes an answer."""
    from spacy.lang.char_classes import ALPHA_LOWER
    from spacy.lang.fr.tokenizer_exceptions import _regular_exp

    from tonecheck.spacy_tokenizer import _marks

    assert _marks(tuple(_regular_exp)) == frozenset("-‐‑–—'’ ")
    assert _marks(("^ab[a-z]+$",)) is None  # (no mark needed: no shortcut)
    assert _marks(("^a[-']?b", "^c-d")) is None  # (an optional mark is not needed)
    letters = f"[{ALPHA_LOWER}]"
    patterns = [f"^ab-{letters}+$", f"^(?:cd)+(?:[xy]')+{letters}$", "^EF[-–]?gh[’]"]
    assert _marks(tuple(patterns)) == frozenset("-'’")
    fast = TokenMatch(patterns)
    exact = re.compile("(?iu)" + "|".join(f"(?:{p})" for p in patterns)).match
    words = ["AB-C", "ab-é", "ab", "abc", "CDx'é", "cdcdY'a", "cdxé", "efgh’", "EF-GH’x", "efgh", "ab–c"]
    assert [w for w in words if fast(w) != bool(exact(w))] == []
    assert [fast(w) for w in words] == [True, True, False, False, True, True, False, True, True, False, False]


# Characters that case-fold onto ASCII letters (Kelvin sign, long s, dotted capital I, dotless i,
# the "st" ligature), letters of other scripts, digits, marks, emoji, punctuation, a newline.
_AWKWARD = ["\u212a", "\u017f", "\u0130", "\u0131", "\ufb06", "ß", "ẞ", "Ψ", "я", "\u0627", "٣", "1", "_",
            "\u0301", "🙂", ".", "'", "’", "-", "\n", "ǅ"]


def test_reduced_patterns_answer_like_the_compiled_ones():
    """Every one of spaCy's French token_match patterns: cut down (or, where it cannot be, None)
    and compiled whole give the same answer on hyphenated words mixing awkward characters."""
    from spacy.lang.fr.tokenizer_exceptions import _regular_exp

    words = [a + h + b for a in ("anti", "ANTI", "sainte", "Saint", "états", "st", "k", "is", "\u017fainte")
             for h in ("-", "–", "'") for b in ("covid", "Unis", "x", "", *_AWKWARD, "a" + "".join(_AWKWARD))]
    words += [c + "-et-" + d for c in ("Lot", "\u017f", "\u0130", "1") for d in ("Garonne", "\u0131", "\u212a", "2")]
    reduced = [(p, _Reduced.of(p)) for p in _regular_exp]
    assert sum(r is not None for _, r in reduced) > 0.9 * len(reduced)
    for pattern, fast in reduced:
        if fast is not None:
            exact = re.compile("(?iu)" + pattern).match
            assert [w for w in words if fast(w) != (exact(w) is not None)] == [], pattern[:40]


def test_reader_gives_spacys_tokens(compact, special_cases):
    """Tokens from the per-chunk cache equal spaCy's on the whole text, also after renewals."""
    rules, cases = CompactTokenizer.serialise(special_cases)
    reader = Reader(rules, cases, renew_after=50)
    texts = _corpus()
    assert [reader(t) for t in texts] == [_tokenize_with(compact.tokenizer, t) for t in texts]


@settings(max_examples=150, deadline=None)
@given(st.lists(st.sampled_from(["merci", "Lavez-vous", "l'équipe", "aujourd'hui", "#Covid19", "😷", "!!", "-30%",
                                 "c'est-à-dire", "M.", "etc.", "(lol)", "https://t.co/x", "@ami", "ça", "...", "«oui»"])
                | st.text(max_size=8), max_size=10).map(" ".join))
def test_reader_gives_spacys_tokens_on_any_text(text):
    reader, tokenizer = _reader_and_tokenizer()
    assert reader(text) == _tokenize_with(tokenizer, text)


@functools.cache
def _reader_and_tokenizer():
    cases = used_special_cases(_corpus(300))
    rules, blob = CompactTokenizer.serialise(cases)
    return Reader(rules, blob, renew_after=20), CompactTokenizer(rules, blob).tokenizer


def test_reader_reads_a_batch_as_it_reads_each_text(compact, special_cases, monkeypatch):
    """Reader.many (a batch's new chunks given to spaCy at once) equals one text at a time,
    also when its caches are so small that they forget entries in the middle of a batch, and
    the caches stay within their limits."""
    rules, cases = CompactTokenizer.serialise(special_cases)
    texts = _corpus(2000)
    expected = [_tokenize_with(compact.tokenizer, t) for t in texts]
    monkeypatch.setattr(Reader, "_CHUNK_LIMIT", 300)
    monkeypatch.setattr(Reader, "_TEXT_LIMIT", 40)
    reader = Reader(rules, cases, renew_after=50)
    got = []
    for i in range(0, len(texts), 97):
        batch = texts[i : i + 97] + texts[i : i + 3]  # a batch repeating texts of its own
        got += reader.many(batch)[:-3]
        assert len(reader._texts) <= 40 + 100 and len(reader._chunks) <= 300 + 2000
    assert got == expected
    assert reader.many(texts[:5]) == [reader(t) for t in texts[:5]] == expected[:5]


def test_new_chunks_are_the_unknown_ones_each_once_in_order(special_cases):
    """What Reader.many gives spaCy: chunks it has not read, once each, in their order, none
    over MAX_CHUNK characters (those are read in windows)."""
    from tonecheck.reading import MAX_CHUNK

    rules, cases = CompactTokenizer.serialise(special_cases)
    reader = Reader(rules, cases)
    long = "x" * (MAX_CHUNK + 1)
    assert reader.new_chunks(["merci à tous", f"restez {long} chez vous", "merci encore"]) == [
        "merci", "à", "tous", "restez", "chez", "vous", "encore"]
    reader.many(["merci à tous"])
    assert reader.new_chunks(["merci à vous tous"]) == ["vous"]


def test_reader_pickles_without_its_caches(compact, special_cases):
    rules, cases = CompactTokenizer.serialise(special_cases)
    reader = Reader(rules, cases)
    text = "Lavez-vous les mains, merci aux soignants 😷"
    before = reader(text)
    again = pickle.loads(pickle.dumps(reader))
    assert again(text) == before
    assert list(again._texts) == [text]


@pytest.mark.parametrize("ngram_range", [(3, 5), (2, 4), (1, 1)])
def test_char_wb_ngrams_equal_scikit_learn(ngram_range):
    from sklearn.feature_extraction.text import TfidfVectorizer

    analyzer = TfidfVectorizer(analyzer="char_wb", ngram_range=ngram_range).build_analyzer()
    words = {w.lower() for t in _corpus(800) for w in t.split()} | {"a", "ab", "abc", "😷", "x" * 40}
    for word in words:
        assert char_wb_ngrams(word, ngram_range) == analyzer(word), word


def test_cue_screen_never_hides_a_conjunction():
    from tonecheck.reading import tokenize_plain

    for text in _corpus(2500):
        terms = tuple(t.lower for t in tokenize_plain(text).tokens if not t.is_punct)
        assert _conjunctions(terms) == _near_pairs(terms), text


def test_word_runs_cut_tokens_into_runs_of_word_characters_with_their_spans():
    from tonecheck.reading import ReaderSettings, tokenize
    from tonecheck.spacy_tokenizer import CompactTokenizer, used_special_cases

    text = "Restez chez vous !!! #RestezChezVous week-end l'école 😷 @user aujourd'hui : -50 % ou 20€ ?"
    rules = ("strip_invisible", "strip_controls", "collapse_whitespace")
    analysis = tokenize(text, rules, True)
    words = [t for t in analysis.tokens if not t.is_punct]
    # runs of 2+ word characters; a signed number whole; a token without a run as spaCy cut
    # it (l', the emoji, €), but "!", "?", "#", "%", ":" are punctuation
    assert [t.lower for t in words] == ["restez", "chez", "vous", "restezchezvous", "week", "end", "l'", "école",
                                        "😷", "user", "aujourd", "hui", "-50", "ou", "20", "€"]
    assert [text[t.start:t.end] for t in words][3:6] == ["RestezChezVous", "week", "end"]
    assert [text[t.start:t.end] for t in words][-4:] == ["-50", "ou", "20", "€"]
    assert tokenize(text, rules, False) != analysis
    compact = CompactTokenizer.serialise(used_special_cases([text]))
    reader = ReaderSettings("spacy", *compact, rules, True).reader()
    assert reader(text) == analysis and reader.many([text, "Merci !"])[0] == analysis
