"""The feature space: what a model learned of words (vocabularies, IDF, lemma table, character
n-gram range, cue settings), turning a batch of analysed posts into feature entries.

:meth:`FeatureSpace.features` computes the values scikit-learn's ``TfidfVectorizer`` would (1 +
log tf, × idf, l2 norm per block; test_featurizer checks it) with a fixed number of numpy calls
per batch, and keeps, for each entry, the tokens that produced it, so that evidence can be
credited to words. Training fits the same space (:mod:`tonecheck.training.featurizer`), so
training and prediction cannot drift apart.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from itertools import accumulate, chain, filterfalse, pairwise, repeat
from operator import attrgetter
from typing import Any

import numpy as np

from tonecheck.cues import CUE_NAMES, conjunctions_of_posts, shouting_posts
from tonecheck.reading import Analysis, Token, evict_oldest
from tonecheck.vocab_index import CharNgramIndex, WordNgramIndex

__all__ = ["FeatureSpace", "Features", "unique_counts"]

_SHOUTING = len(CUE_NAMES) - 1  # the last cue column is not a conjunction
_IS_PUNCT, _LOWER, _WORD = attrgetter("is_punct"), attrgetter("lower"), attrgetter("word")


def unique_counts(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``np.unique(keys, return_inverse=True, return_counts=True)`` for non-negative integer
    keys. Keys below 2**32 are sorted by two stable passes over 16 bits each (numpy's radix
    sort): on a batch's ~150,000 occurrences that is a fifth of the time of the comparison
    sort np.unique runs. The unique keys are sorted either way, so the answers are the same."""
    n = keys.size
    if n < 1000 or int(keys.max()) >= 1 << 32:
        u, inverse, counts = np.unique(keys, return_inverse=True, return_counts=True)
        return u, inverse.ravel(), counts
    perm = np.argsort((keys & 0xFFFF).astype(np.uint16), kind="stable")
    perm = perm[np.argsort((keys[perm] >> 16).astype(np.uint16), kind="stable")]
    ordered = keys[perm]
    new = np.empty(n, dtype=bool)
    new[0] = True
    np.not_equal(ordered[1:], ordered[:-1], out=new[1:])
    starts = np.flatnonzero(new)
    inverse = np.empty(n, dtype=np.intp)
    inverse[perm] = np.cumsum(new) - 1
    return ordered[starts], inverse, np.diff(np.append(starts, n))


@dataclass
class _Occurrences:
    """A batch's feature occurrences in the vocabulary, by kind: column, first token, number
    of tokens, post (None: a batch of one post), start of a run."""

    term_doc: np.ndarray | None  # post of each term
    cols: list[np.ndarray] = field(default_factory=list)
    firsts: list[np.ndarray] = field(default_factory=list)
    spans: list[np.ndarray] = field(default_factory=list)
    docs: list[np.ndarray | None] = field(default_factory=list)
    runs: list[np.ndarray] = field(default_factory=list)

    def add(self, col: np.ndarray, first: np.ndarray, span: np.ndarray, doc: np.ndarray | None,
            run: np.ndarray | None = None) -> None:
        """Occurrences of one kind; those of column -1 are dropped here (word n-grams out of
        the vocabulary: a few per post, where the character n-grams that follow are all found)."""
        found = col >= 0
        if not found.all():
            col, first, span = col[found], first[found], span[found]
            doc = doc[found] if doc is not None else None
            run = run[found] if run is not None else None
        self.cols.append(col)
        self.firsts.append(first)
        self.spans.append(span)
        self.docs.append(doc)
        self.runs.append(run if run is not None else np.ones(col.size, dtype=bool))


@dataclass
class Features:
    """One batch as unique (post, column, value) entries, sorted by post, plus the occurrences
    behind them (which tokens produced each column), for evidence."""

    n: int  # posts
    doc: np.ndarray | None  # post of each entry (None: a batch of one post)
    col: np.ndarray  # column of each entry
    value: np.ndarray
    counts: np.ndarray  # occurrences of each entry
    occ_entry: np.ndarray  # entry of each occurrence
    occ_first: np.ndarray  # first token (batch-wide index) of each occurrence
    occ_span: np.ndarray  # number of tokens of each occurrence (0: none, e.g. the shouting cue)
    occ_run: np.ndarray  # where a run of occurrences over the same tokens starts (a word's char n-grams)
    n_tokens: np.ndarray  # word tokens per post
    words: list[list[Token]]  # word tokens (punctuation dropped) of each post


@dataclass(frozen=True, eq=False)
class FeatureSpace:
    """Word n-grams (of lemmas), character n-grams of white-space words, cue conjunctions.

    Columns: ``word_vocab`` (uni- and bigrams of terms, ``word_idf``), then ``char_vocab``
    (``char_idf``, n-grams of ``char_range`` sizes, or none), then one column per
    :data:`~tonecheck.cues.CUE_NAMES` entry when ``cues`` (worth ``cue_weight`` where it fires,
    not normalised). These fields are what a model file stores (:mod:`tonecheck.engine_file`).
    """

    word_vocab: Mapping[str, int]
    word_idf: np.ndarray
    char_vocab: Mapping[str, int] | None = None
    char_idf: np.ndarray | None = None
    char_range: tuple[int, int] | None = None
    word_ngrams: int = 2
    lemma_table: Mapping[str, str] = field(default_factory=dict)
    cues: bool = True
    cue_weight: float = 1.0

    def __post_init__(self) -> None:
        no_vocab = self.char_vocab is None
        if no_vocab != (self.char_range is None) or no_vocab != (self.char_idf is None):
            raise ValueError("char_vocab, char_idf and char_range go together: give all three or none")
        if len(self.word_idf) != len(self.word_vocab):
            raise ValueError(f"word_idf has {len(self.word_idf)} values for {len(self.word_vocab)} words")
        if self.char_vocab is not None and len(self.char_idf) != len(self.char_vocab):  # type: ignore[arg-type]
            raise ValueError(f"char_idf has {len(self.char_idf)} values for {len(self.char_vocab)} n-grams")  # type: ignore[arg-type]
        n_word = len(self.word_vocab)
        n_char = len(self.char_vocab) if self.char_vocab is not None else 0
        n_cues = len(CUE_NAMES) if self.cues else 0
        idf = [np.asarray(self.word_idf, dtype=np.float64)]
        if self.char_idf is not None:
            idf.append(np.asarray(self.char_idf, dtype=np.float64))
        idf.append(np.zeros(n_cues))
        derived = {"n_word": n_word, "cue_offset": n_word + n_char, "n_features": n_word + n_char + n_cues,
                   "idf": np.concatenate(idf), "_char_cache": {}, "_char_index": None,
                   "_word_index": None}
        for name, value in derived.items():  # derived state of a frozen dataclass
            object.__setattr__(self, name, value)

    n_word: int = field(init=False, repr=False)
    cue_offset: int = field(init=False, repr=False)
    n_features: int = field(init=False, repr=False)
    idf: np.ndarray = field(init=False, repr=False)
    _char_cache: dict[str, np.ndarray] = field(init=False, repr=False)
    _char_index: CharNgramIndex | None = field(init=False, repr=False)
    _word_index: WordNgramIndex | None = field(init=False, repr=False)

    def __getstate__(self) -> dict[str, Any]:  # (spawned worker processes get a copy)
        state = dict(self.__dict__)
        state["_char_cache"] = {}
        state["_char_index"] = state["_word_index"] = None  # (rebuilt on first use)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)

    # Character n-gram columns are cached per distinct white-space word: words repeat across
    # posts, so the n-grams of a word are looked up once. Past the limit the oldest tenth of
    # the words is forgotten (a dict keeps insertion order), so a long run does not pay for a
    # whole cache rebuilt at once.
    _CACHE_LIMIT = 50_000

    def _learn_words(self, new_words: list[str]) -> dict[str, np.ndarray]:
        """Look up the character n-grams of words not seen before, all in one pass."""
        index = self._char_index
        if index is None:  # (built on first use: training makes many spaces it never reads with)
            assert self.char_vocab is not None and self.char_range is not None  # (only called with a char block)
            index = CharNgramIndex(self.char_vocab, self.char_range, self.n_word)
            object.__setattr__(self, "_char_index", index)
        cache = self._char_cache
        evict_oldest(cache, len(cache) + len(new_words) - self._CACHE_LIMIT, self._CACHE_LIMIT // 10)
        words = [w for w in new_words if w]
        flat, sizes = index.lookup(words) if words else (np.zeros(0, dtype=np.int64), [])
        ends = list(accumulate(sizes))
        learned = dict(zip(words, map(flat.__getitem__, map(slice, [0, *ends[:-1]], ends)), strict=True))
        if len(words) < len(new_words):
            learned[""] = flat[:0]
        cache.update(learned)
        return learned

    def clear_cache(self) -> None:
        """Forget the character n-grams of every word seen."""
        self._char_cache.clear()

    def features(self, analyses: Sequence[Analysis], terms: Sequence[Sequence[str]] | None = None) -> Features:
        """Every feature occurrence of the batch, then the TF-IDF value of each (post, column).

        Word uni- and bigrams, character n-grams of each white-space word and the cue
        conjunctions are listed with the tokens that produced them. The loops over words run
        inside ``map`` and numpy, for the whole batch at once; a batch of one post
        (``assess``) skips the bookkeeping of which post an entry belongs to. ``terms``
        replaces each post's words (e.g. lemmas from the full spaCy pipeline).
        """
        n_docs = len(analyses)
        words = [list(filterfalse(_IS_PUNCT, a.tokens)) for a in analyses]
        n_tokens = list(map(len, words))
        if terms is None:
            lowers = list(map(_LOWER, chain.from_iterable(words)))
            # a word without lemma stays itself
            all_terms = list(map(self.lemma_table.get, lowers, lowers)) if self.lemma_table else lowers
            n_terms = n_tokens
        else:
            all_terms = [t for doc in terms for t in doc]
            n_terms = [len(t) for t in terms]
        occ = _Occurrences(None if n_docs == 1 else np.repeat(np.arange(n_docs), n_terms))
        self._word_occurrences(all_terms, occ)
        if self.cues:
            self._cue_occurrences(analyses, all_terms, n_terms, occ)
        if self.char_vocab is not None and n_docs:
            self._char_occurrences(analyses, words, n_tokens, occ)
        return self._entries(occ, n_docs, np.array(n_tokens, dtype=np.int64), words)

    # Below this many terms a batch's words are looked up one string at a time: numpy's calls
    # cost more than they save on one post.
    _SMALL_BATCH = 64

    def _word_occurrences(self, all_terms: list[str], occ: _Occurrences) -> None:
        """Word unigrams and bigrams (column -1: not in the vocabulary)."""
        vocab, n_all, term_doc = self.word_vocab, len(all_terms), occ.term_doc
        bigrams = self.word_ngrams >= 2 and n_all > 1
        if n_all < self._SMALL_BATCH:
            unigram = np.fromiter(map(vocab.get, all_terms, repeat(-1)), dtype=np.int64, count=n_all)
            if bigrams:
                pairs = map(vocab.get, map(" ".join, pairwise(all_terms)), repeat(-1))
                bigram = np.fromiter(pairs, dtype=np.int64, count=n_all - 1)
        else:
            index = self._word_index
            if index is None:  # (built on first use, as the character index)
                index = WordNgramIndex(vocab)
                object.__setattr__(self, "_word_index", index)
            unigram, bigram = index.lookup(all_terms)
        occ.add(unigram, np.arange(n_all), np.ones(n_all, dtype=np.int64), term_doc)
        if bigrams:
            if term_doc is not None:
                bigram[term_doc[1:] != term_doc[:-1]] = -1  # no bigram across two posts
            occ.add(bigram, np.arange(n_all - 1), np.full(n_all - 1, 2, dtype=np.int64),
                    None if term_doc is None else term_doc[:-1])

    def _entries(self, occ: _Occurrences, n_docs: int, n_tokens: np.ndarray, words: list[list[Token]]) -> Features:
        """The unique (post, column) entries of the occurrences and their TF-IDF values."""
        col, first, span = np.concatenate(occ.cols), np.concatenate(occ.firsts), np.concatenate(occ.spans)
        run = np.concatenate(occ.runs)
        if n_docs == 1:
            keys, occ_entry, counts = unique_counts(col)
            u_doc, u_col = None, keys
            block = (u_col >= self.n_word).astype(np.int64)
        else:
            doc: np.ndarray = np.concatenate(occ.docs)  # type: ignore[arg-type]  # (no None in a batch of many)
            keys, occ_entry, counts = unique_counts(doc * self.n_features + col)
            u_doc, u_col = np.divmod(keys, self.n_features)
            block = 2 * u_doc + (u_col >= self.n_word)
        value = (np.log(counts) + 1.0) * self.idf[u_col]
        cue = u_col >= self.cue_offset
        if self.cues:
            block[cue] = 2 * n_docs  # the cue columns are not normalised
        norms = np.sqrt(np.bincount(block, weights=value * value, minlength=2 * n_docs + 1))
        norms[2 * n_docs] = 1.0  # (cue columns have no idf; every other block with an entry has a norm)
        value /= norms[block]
        if self.cues:
            value[cue] = self.cue_weight
        return Features(n_docs, u_doc, u_col, value, counts, occ_entry, first, span, run, n_tokens, words)

    def _cue_occurrences(self, analyses: Sequence[Analysis], all_terms: list[str], n_terms: list[int],
                         occ: _Occurrences) -> None:
        """Cue conjunctions that fire, credited to the words that made them fire."""
        fires = conjunctions_of_posts(all_terms, n_terms)
        shouts = shouting_posts(analyses)
        if not fires and not shouts:
            return
        cue_col, cue_first, cue_span, cue_doc = [], [], [], []
        ends = list(accumulate(n_terms))
        for d in sorted(fires.keys() | shouts):
            base = ends[d] - n_terms[d]
            for k, where in enumerate(fires.get(d, ())):
                for i in where:
                    cue_col.append(self.cue_offset + k)
                    cue_first.append(base + i)
                    cue_span.append(1)
                    cue_doc.append(d)
            if d in shouts:
                cue_col.append(self.cue_offset + _SHOUTING)
                cue_first.append(base)
                cue_span.append(0)
                cue_doc.append(d)
        if cue_col:
            occ.add(np.array(cue_col, dtype=np.int64), np.array(cue_first, dtype=np.int64),
                    np.array(cue_span, dtype=np.int64), np.array(cue_doc, dtype=np.int64))

    def _char_occurrences(self, analyses: Sequence[Analysis], words: list[list[Token]], n_tokens: list[int],
                          occ: _Occurrences) -> None:
        """Character n-gram occurrences: those of each white-space word, credited to the word
        tokens inside it, each word's n-grams one run. Normalised texts hold single spaces
        only, so the white-space words of the batch are its texts joined by spaces, split on
        spaces."""
        texts = [a.normalised for a in analyses]
        ws_words = " ".join(texts).lower().split(" ")
        cache = self._char_cache
        grams = list(map(cache.get, ws_words))
        missing = [i for i, g in enumerate(grams) if g is None]
        if missing:
            learned = self._learn_words(list(dict.fromkeys(ws_words[i] for i in missing)))
            for i in missing:
                grams[i] = learned[ws_words[i]]
        sizes = np.fromiter(map(len, grams), dtype=np.int64, count=len(grams))  # type: ignore[arg-type]
        # the white-space word of each token, numbered across the batch
        token_word = np.fromiter(map(_WORD, chain.from_iterable(words)), dtype=np.int64, count=sum(n_tokens))
        per_text: list[int] = []
        if len(texts) > 1:
            per_text = [t.count(" ") + 1 for t in texts]
            words_before = np.cumsum([0, *per_text[:-1]])
            token_word += np.repeat(words_before, n_tokens)
        bounds = np.searchsorted(token_word, np.arange(len(ws_words) + 1))
        first = bounds[:-1]
        docs = np.repeat(np.repeat(np.arange(len(texts)), per_text), sizes) if len(texts) > 1 else None
        run = np.zeros(int(sizes.sum()), dtype=bool)
        run[(np.cumsum(sizes) - sizes)[sizes > 0]] = True
        occ.add(np.concatenate(grams), np.repeat(first, sizes), np.repeat(bounds[1:] - first, sizes),  # type: ignore[arg-type]
                docs, run)

    def csr(self, analyses: Sequence[Analysis], terms: Sequence[Sequence[str]] | None = None) -> Any:
        """The feature matrix (scipy CSR, posts × features) of ``analyses`` (training and the
        checks against scikit-learn use it; imports scipy)."""
        from scipy import sparse

        f = self.features(analyses, terms)
        doc = f.doc if f.doc is not None else np.zeros(f.col.size, dtype=np.int64)
        indptr = np.concatenate([[0], np.cumsum(np.bincount(doc, minlength=f.n))])
        return sparse.csr_matrix((f.value, f.col, indptr), shape=(f.n, self.n_features))
