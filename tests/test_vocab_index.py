"""The batch lookups of the feature space answer what the plain dict lookups answer."""

import itertools
import random

import numpy as np
import pytest

from tonecheck.reading import char_wb_ngrams
from tonecheck.space import unique_counts
from tonecheck.vocab_index import CharNgramIndex, WordNgramIndex

ALPHABET = "abcdeéèàç'-#@ 😂\ud800Ωß"


def _words(rng, n):
    return ["".join(rng.choice(ALPHABET.replace(" ", "")) for _ in range(rng.randint(1, 9))) for _ in range(n)]


def _plain_chars(vocab, words, char_range, offset):
    return [[vocab[g] + offset for g in char_wb_ngrams(w, char_range) if g in vocab] for w in words]


@pytest.mark.parametrize("char_range", [(3, 5), (2, 4), (4, 5), (1, 1)])
@pytest.mark.parametrize("n_words", [1, 5, 400])
def test_char_ngrams_are_the_dicts_in_char_wb_order(char_range, n_words):
    rng = random.Random(n_words)
    grams = sorted({g for w in _words(rng, 300) for g in char_wb_ngrams(w, char_range)})
    vocab = {g: i for i, g in enumerate(rng.sample(grams, len(grams) // 2))}
    words = [*_words(rng, n_words), "zzz", "😂", "x"]  # z, x: outside the alphabet
    flat, sizes = CharNgramIndex(vocab, char_range, offset=7).lookup(words)
    expected = _plain_chars(vocab, words, char_range, 7)
    assert sizes == [len(e) for e in expected]
    assert flat.tolist() == [c for e in expected for c in e]


def test_a_vocabulary_too_wide_for_63_bits_is_looked_up_the_plain_way():
    """5,000 distinct characters take 13 bits each: a 5-gram would need 65, so there is no
    integer encoding and the answers are the dict's."""
    rng = random.Random(5)
    letters = [chr(0x4E00 + k) for k in range(5000)]
    words = ["".join(rng.choice(letters) for _ in range(rng.randint(3, 8))) for _ in range(3000)]
    vocab = {g: i for i, g in enumerate(sorted({g for w in words for g in char_wb_ngrams(w, (3, 5))}))}
    index = CharNgramIndex(vocab, (3, 5))
    flat, sizes = index.lookup(words)
    assert index._encoding is None
    expected = _plain_chars(vocab, words, (3, 5), 0)
    assert sizes == [len(e) for e in expected]
    assert flat.tolist() == [c for e in expected for c in e]


def test_an_empty_char_vocabulary_finds_nothing():
    flat, sizes = CharNgramIndex({}, (3, 5)).lookup(["bonjour"] * 100)
    assert flat.size == 0 and sizes == [0] * 100


@pytest.mark.parametrize("n_terms", [0, 1, 2, 300])
def test_word_ngrams_are_the_dicts(n_terms):
    rng = random.Random(n_terms)
    terms = [rng.choice(["le", "la", "code", "promo", "a b", "b", "a", "ab", "c d e", "z"]) for _ in range(n_terms)]
    vocab = {g: i for i, g in enumerate(["le", "code promo", "la", "a b", "a b b", "b a b", "c d e", "c d e z", "ab"])}
    unigram, bigram = WordNgramIndex(vocab).lookup(terms)
    assert unigram.tolist() == [vocab.get(t, -1) for t in terms]
    assert bigram.tolist() == [vocab.get(f"{a} {b}", -1) for a, b in itertools.pairwise(terms)]


@pytest.mark.parametrize("n, high", [(0, 10), (10, 10), (5000, 100), (5000, 2**31), (3000, 2**40)])
def test_unique_counts_is_numpys_unique(n, high):
    keys = np.random.default_rng(n).integers(0, high, n)
    for got, expected in zip(unique_counts(keys), np.unique(keys, return_inverse=True, return_counts=True),
                             strict=True):
        assert np.array_equal(got, expected.ravel())


@pytest.mark.parametrize("n", [0, 1, 50, 20000])
def test_the_int_table_finds_each_key_and_nothing_else(n):
    from tonecheck.vocab_index import _IntTable

    rng = np.random.default_rng(n)
    keys = np.unique(np.concatenate([[0], rng.integers(0, 2**40, n)]))[:n]  # (0 is a key like any other)
    values = rng.permutation(keys.size)
    table = _IntTable(keys, values)
    asked = np.concatenate([keys, rng.integers(0, 2**40, 1000), [-1]])
    stored = dict(zip(keys.tolist(), values.tolist(), strict=True))
    assert table.get(asked).tolist() == [stored.get(k, -1) for k in asked.tolist()]
