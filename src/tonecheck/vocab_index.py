"""A feature space's vocabularies, looked up a whole batch at a time.

:class:`WordNgramIndex` gives the columns of a batch's terms and of each pair of neighbours
(``" ".join`` of the two, looked up in the word vocabulary) from one dict lookup per term: a
pair is found in a hash table of the vocabulary's bigrams read as pairs of term numbers, with
no string made for it. :class:`CharNgramIndex` answers what
``[vocab[g] for g in char_wb_ngrams(word, char_range) if g in vocab]`` answers for each word,
in the same order, with a fixed number of numpy calls per batch of words instead of a string
slice and a dict lookup per n-gram: each n-gram is read as an integer (its characters' ranks
in the vocabulary's alphabet, a few bits each) and found in a hash table of the vocabulary's
n-grams, read the same way. Two n-grams are the same integer only when they are the same
string, and one with a character outside the alphabet is in no vocabulary, so the answers are
exactly the dict's.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import chain, repeat

import numpy as np

from tonecheck.reading import char_wb_ngrams

__all__ = ["WordNgramIndex", "CharNgramIndex"]

#: Below this many characters a batch of words is looked up the plain way (string slices and
#: dict lookups): the numpy calls cost more than they save on a post's few new words.
_SMALL_BATCH = 400


def _code_points(text: str) -> np.ndarray:
    # (surrogatepass: a lone surrogate in a user's text is a code point like any other)
    return np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32).astype(np.int64)


class _IntTable:
    """A hash table of non-negative int64 keys to int64 values (linear probing, a quarter to
    three eighths full), looked up many keys per numpy call: one or two probes a key where a
    binary search among 80,000 keys takes 17 scattered reads. Key -1 (what an empty slot
    holds) is the key of nothing: its value is -1, as for any key not in the table."""

    _MIX = np.uint64(0x9E3779B97F4A7C15)  # (Fibonacci hashing)

    def __init__(self, keys: np.ndarray, values: np.ndarray) -> None:
        bits = max(4, (3 * keys.size).bit_length())
        self.mask = (1 << bits) - 1
        self.shift = np.uint64(64 - bits)
        self.keys = np.full(1 << bits, -1, dtype=np.int64)
        self.values = np.full(1 << bits, -1, dtype=np.int64)
        slot = self._slots(keys)
        pending = np.arange(keys.size)
        while pending.size:  # each key goes to the first free slot from its own on
            at = slot[pending]
            free = self.keys[at] == -1
            taken, first = np.unique(at[free], return_index=True)
            winners = pending[free][first]
            self.keys[taken], self.values[taken] = keys[winners], values[winners]
            placed = np.zeros(keys.size, dtype=bool)
            placed[winners] = True
            pending = pending[~placed[pending]]
            slot[pending] = (slot[pending] + 1) & self.mask

    def _slots(self, keys: np.ndarray) -> np.ndarray:
        slots: np.ndarray = ((keys.astype(np.uint64) * self._MIX) >> self.shift).astype(np.int64)
        return slots

    def get(self, keys: np.ndarray) -> np.ndarray:
        """The value of each key, -1 for a key not in the table."""
        out = np.full(keys.size, -1, dtype=np.int64)
        slot = self._slots(keys)
        pending = np.arange(keys.size)
        while pending.size:
            at = slot[pending]
            stored = self.keys[at]
            hit = stored == keys[pending]
            out[pending[hit]] = self.values[at[hit]]
            on = ~hit & (stored != -1)
            pending = pending[on]
            slot[pending] = (at[on] + 1) & self.mask
        return out


class WordNgramIndex:
    """The unigrams and bigrams of ``vocab`` (term or ``"first second"`` → column)."""

    def __init__(self, vocab: Mapping[str, int]) -> None:
        # every unigram and every part a bigram splits into (at each of its spaces: a term
        # with a space in it, from a lemma table, may be either part)
        number: dict[str, int] = {}
        pairs: list[tuple[str, str, int]] = []
        for gram, col in vocab.items():
            number.setdefault(gram, len(number))
            at = gram.find(" ")
            while at >= 0:
                first, second = gram[:at], gram[at + 1 :]
                pairs.append((first, second, col))
                number.setdefault(first, len(number))
                number.setdefault(second, len(number))
                at = gram.find(" ", at + 1)
        self.number = number
        self.size = len(number)
        self.unigram = np.full(self.size, -1, dtype=np.int64)
        self.unigram[[number[g] for g in vocab]] = list(vocab.values())
        keys = np.array([number[a] * self.size + number[b] for a, b, _ in pairs], dtype=np.int64)
        self.pairs = _IntTable(keys, np.array([c for _, _, c in pairs], dtype=np.int64))

    def lookup(self, terms: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """The column of each term and of each term with the next one (-1: not in the vocabulary)."""
        n = len(terms)
        ids = np.fromiter(map(self.number.get, terms, repeat(-1)), dtype=np.int64, count=n)
        known = ids >= 0
        unigram = np.where(known, self.unigram[ids], -1)
        key = np.where(known[:-1] & known[1:], ids[:-1] * self.size + ids[1:], -1)
        return unigram, self.pairs.get(key)


@dataclass(frozen=True)
class _Encoding:
    """A vocabulary's n-grams read as integers: the alphabet (sorted code points), the bits of
    one character's rank, the rank of each code point below 2**16, and the hash table from an
    n-gram's integer to its column."""

    alphabet: np.ndarray
    bits: int
    bmp: np.ndarray
    table: _IntTable

    def ranks(self, points: np.ndarray) -> np.ndarray:
        """Each code point's rank in the alphabet (from 1), 0 when it is not in it."""
        return _ranks(self.alphabet, self.bmp, points)


def _ranks(alphabet: np.ndarray, bmp: np.ndarray, points: np.ndarray) -> np.ndarray:
    if not alphabet.size:
        return np.zeros_like(points)
    ranks: np.ndarray = bmp[np.minimum(points, 0xFFFF)]
    high = np.flatnonzero(points >= 0x10000)
    if high.size:
        p = points[high]
        at = np.minimum(np.searchsorted(alphabet, p), len(alphabet) - 1)
        ranks[high] = np.where(alphabet[at] == p, at + 1, 0)
    return ranks


def _encode(vocab: Mapping[str, int], char_range: tuple[int, int], offset: int) -> _Encoding | None:
    """The :class:`_Encoding` of the n-grams of ``vocab`` of ``char_range`` sizes, columns
    plus ``offset``; None when they do not fit in 63 bits."""
    min_n, max_n = char_range
    grams = [g for g in vocab if min_n <= len(g) <= max_n]
    points = _code_points("".join(grams))
    alphabet = np.unique(points)
    bits = max(1, len(alphabet).bit_length())  # ranks 1..len, 0 for "not in it"
    # An n-gram's integer lies in [2**(bits*(n-1)), 2**(bits*n)) (its first rank is at least
    # 1), so the n-grams of all lengths share one table.
    if bits * max_n > 63:
        return None
    bmp = np.zeros(0x10000, dtype=np.int64)
    small = alphabet[alphabet < 0x10000]
    bmp[small] = np.arange(1, small.size + 1)
    sizes = np.fromiter(map(len, grams), dtype=np.int64, count=len(grams))
    at = np.cumsum(sizes) - sizes
    ranks = _ranks(alphabet, bmp, points)
    keys = np.zeros(len(grams), dtype=np.int64)
    for j in range(max_n):
        inside = j < sizes
        keys[inside] = (keys[inside] << bits) | ranks[at[inside] + j]
    table = _IntTable(keys, np.array([vocab[g] for g in grams], dtype=np.int64) + offset)
    return _Encoding(alphabet, bits, bmp, table)


class CharNgramIndex:
    """The n-grams of ``vocab`` (string → column) of each length in ``char_range``, as
    integers; ``offset`` is added to every column."""

    def __init__(self, vocab: Mapping[str, int], char_range: tuple[int, int], offset: int = 0) -> None:
        self.vocab = vocab
        self.char_range = char_range
        self.offset = offset

    @functools.cached_property
    def _encoding(self) -> _Encoding | None:
        """The vocabulary's n-grams as integers, or None when they do not fit in 63 bits.
        (Made on the first batch big enough for the numpy path: a post's few new words are
        looked up the plain way, so the first ``assess()`` does not pay for the table.)"""
        return _encode(self.vocab, self.char_range, self.offset)

    def lookup(self, words: Sequence[str]) -> tuple[np.ndarray, list[int]]:
        """The columns of the character n-grams of ``words`` (white-space words, lower-cased,
        none empty) in the vocabulary, all words one after another, and how many each has."""
        min_n, max_n = self.char_range
        total = sum(map(len, words)) + 2 * len(words)
        if total < _SMALL_BATCH or min(map(len, words)) + 2 < min_n:
            return self._lookup_plain(words)
        encoding = self._encoding
        if encoding is None:
            return self._lookup_plain(words)
        padded = "".join(chain.from_iterable((" ", w, " ") for w in words))
        ranks = encoding.ranks(_code_points(padded))
        sizes = np.fromiter(map(len, words), dtype=np.int64, count=len(words)) + 2
        starts = np.cumsum(sizes) - sizes
        word_of, keys = [], []
        index = np.arange(len(words))
        for n in range(min_n, max_n + 1):
            count = np.maximum(sizes - n + 1, 0)  # n-grams of length n in each padded word
            at = np.repeat(starts - (np.cumsum(count) - count), count) + np.arange(int(count.sum()))
            key = np.zeros(at.size, dtype=np.int64)
            known = np.ones(at.size, dtype=bool)
            for j in range(n):
                r = ranks[at + j]
                key = (key << encoding.bits) | r
                known &= r > 0
            key[~known] = -1  # (a character outside the alphabet: in no n-gram of the vocabulary)
            word_of.append(np.repeat(index, count))
            keys.append(key)
        word, key = np.concatenate(word_of), np.concatenate(keys)
        # n-major to word-major (char_wb_ngrams' order: by length, then position, per word);
        # each length's block is already in word order, so the stable sort only merges them
        order = np.argsort(word, kind="stable")
        word, col = word[order], encoding.table.get(key[order])
        found = col >= 0
        return col[found], np.bincount(word[found], minlength=len(words)).tolist()

    def _lookup_plain(self, words: Sequence[str]) -> tuple[np.ndarray, list[int]]:
        vocab, char_range, offset = self.vocab, self.char_range, self.offset
        found = [[c + offset for c in map(vocab.get, char_wb_ngrams(w, char_range)) if c is not None] for w in words]
        sizes = list(map(len, found))
        return np.fromiter(chain.from_iterable(found), dtype=np.int64, count=sum(sizes)), sizes
