"""Reading a post: normalisation, then tokens with their spans in the user's text.

:class:`Reader` is what predictions run: a model's compact spaCy tokenizer
(:mod:`tonecheck.spacy_tokenizer`) behind a cache per text and per white-space chunk, with
fork-safe locks. It needs neither scikit-learn nor scipy, and spaCy is imported on first use.
"""

from __future__ import annotations

import functools
import itertools
import os
import re
import threading
import weakref
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple, cast

from tonecheck.normalise import RULE_NAMES, normalise_with_offsets, rule_set
from tonecheck.spacy_tokenizer import CompactTokenizer, load_tokenizer

__all__ = ["Token", "Analysis", "Reader", "ReaderSettings", "tokenize", "tokenize_plain", "char_wb_ngrams", "MAX_CHUNK",
           "evict_oldest"]

#: Longest white-space chunk given to spaCy whole; longer ones are cut into windows of this
#: size. The longest chunk in every corpus and real pool after normalisation is 66 characters.
MAX_CHUNK = 100


class Token(NamedTuple):
    """A token of the normalised text: its lower-cased form, its span in the original text,
    where it starts in the normalised text and which white-space word of it holds it."""

    lower: str
    start: int
    end: int
    is_punct: bool
    norm_start: int = 0
    word: int = 0


@dataclass(frozen=True)
class Analysis:
    """What the featurizer reads of one text: its normalised form and its tokens."""

    text: str
    normalised: str
    tokens: tuple[Token, ...]


@functools.lru_cache(maxsize=4096)
def tokenize(text: str, text_rules: tuple[str, ...] = RULE_NAMES, word_runs: bool = False) -> Analysis:
    """Normalise ``text`` and split it with the full spaCy French tokenizer (what an
    unfitted featurizer reads with; a model reads with its :class:`Reader`); with
    ``word_runs``, each token into its runs of word characters (:func:`split_word_runs`)."""
    return _tokenize_with(load_tokenizer().tokenizer, text, text_rules, word_runs)


def _tokenize_with(tokenizer: Any, text: str, text_rules: tuple[str, ...] = RULE_NAMES,
                   runs: bool = False) -> Analysis:
    from spacy.attrs import IDX, IS_PUNCT, IS_SPACE, LENGTH, SPACY

    norm = normalise_with_offsets(text, text_rules)
    normalised = norm.text
    doc = tokenizer(normalised)
    starts, ends = norm.starts, norm.ends
    tokens = []
    word = 0  # normalised text has single spaces: each is the trailing space of one token
    # one array of attributes instead of a Python Token object per spaCy token; tokens made
    # with tuple.__new__ (what Token() does, without its Python-level __new__)
    for idx, length, punct, space, spaced in doc.to_array([IDX, LENGTH, IS_PUNCT, IS_SPACE, SPACY]).tolist():
        if not space:
            piece = normalised[idx : idx + length]
            is_punct = punct == 1 and piece not in "!?"
            token = (idx, length, piece.lower(), is_punct)
            pieces = split_word_runs(*token) if runs else [token]
            for at, size, lower, flag in pieces:
                tokens.append(_new_tuple(Token, (lower, starts[at], ends[at + size - 1], flag, at, word)))
        word += spaced
    return Analysis(text, normalised, tuple(tokens))


_new_tuple = tuple.__new__

# A run of two or more word characters: scikit-learn's default token pattern.
_WORD_RUN = re.compile(r"\w\w+")
# A signed number, as a discount is written ("-50"): the sign is what makes it one.
_SIGNED_NUMBER = re.compile(r"[-\u2212+]\d+(?:[.,]\d+)?")
_Piece = tuple[int, int, str, bool]  # (offset, length, lower-cased form, is punctuation)


def split_word_runs(rel: int, length: int, lower: str, punct: bool) -> list[_Piece]:
    """One spaCy token as the word tokens of a reader with ``word_runs``: its runs of two or
    more word characters (``#restezchezvous`` → ``restezchezvous``, ``week-end`` → ``week``,
    ``end``), each with its own span. A signed number stays whole (``-50``); a token with no
    such run stays as spaCy cut it (``l'``, ``❤``, ``€``), except ``!`` and ``?``, which become
    punctuation. A token whose lower-cased form has another length than the token stays whole.
    On unseen real posts these words did better than whole spaCy tokens
    (reports/real_yardstick.md); keeping the signed numbers and the symbols keeps the guide's
    decided cases right ("Merci aux soignants ❤️ Pour les remercier : -50 %")."""
    if len(lower) != length:
        return [(rel, length, lower, punct)]
    if length > 1 and lower.isalnum():  # (most tokens: one run, the whole token; \w is what isalnum() is, and "_")
        return [(rel, length, lower, False)]
    if _SIGNED_NUMBER.fullmatch(lower):
        return [(rel, length, lower, punct)]
    runs = [(rel + m.start(), m.end() - m.start(), m.group(), False) for m in _WORD_RUN.finditer(lower)]
    return runs or [(rel, length, lower, punct or not lower.strip("!?"))]


def evict_oldest(cache: dict[str, Any], over: int, at_least: int) -> bool:
    """Forget the oldest entries of ``cache`` (a dict keeps insertion order) when it is
    ``over`` its limit: that many, and at least ``at_least``, so that a long run drops a
    tenth of a cache now and then instead of rebuilding all of it at once."""
    if over <= 0:
        return False
    for key in list(itertools.islice(cache, max(over, at_least))):
        cache.pop(key, None)  # (another thread may have dropped it first)
    return True




_WORD_SPAN = re.compile(r"\S+")
_READER_LOCK = threading.Lock()


@functools.lru_cache(maxsize=1)
def _spacy_attrs() -> list[int]:
    """spaCy's ids of the token attributes a Reader reads, imported once: an import inside
    the per-post path could wait for ever in a forked worker on an import lock that another
    thread of the parent held at the fork."""
    from spacy.attrs import IDX, IS_PUNCT, LENGTH

    return [IDX, LENGTH, IS_PUNCT]


_READERS: weakref.WeakSet[Reader] = weakref.WeakSet()


def _after_fork_in_child() -> None:
    """New locks and a new spaCy tokenizer in a forked child: a lock that another thread
    held at the fork stays held for ever in the child (and the tokenizer it guarded may be
    half-updated), so a worker process would hang on its first post."""
    global _READER_LOCK
    _READER_LOCK = threading.Lock()
    for reader in list(_READERS):
        reader._lock = threading.Lock()
        reader._tokenizer = None


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)
_PLAIN_WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)?|[^\w\s]")

class Reader:
    """Text to :class:`Analysis` with a model's compact tokenizer, cached per text and per
    white-space chunk.

    spaCy splits a text at white space and tokenizes each chunk on its own (none of the
    special cases a model keeps spans white space), so the tokens of a chunk are worked out
    once, by spaCy, and reused: a new post mostly repeats known chunks, and only the new ones
    go through spaCy (test_tokens checks the tokens equal spaCy's on every corpus text).
    spaCy keeps every new string its tokenizer meets (its StringStore only grows), so the
    tokenizer is replaced by a fresh one every ``renew_after`` calls.
    """

    _CHUNK_LIMIT = 50_000
    _TEXT_LIMIT = 4096

    def __init__(self, rules_bytes: bytes, special_cases: bytes, *, text_rules: tuple[str, ...] = RULE_NAMES,
                 renew_after: int = 50_000, word_runs: bool = False) -> None:
        self.rules_bytes = rules_bytes
        self.special_cases = special_cases
        self.text_rules = tuple(text_rules)
        self.word_runs = word_runs
        self.renew_after = renew_after
        self._tokenizer: Any = None
        self._calls = 0
        # chunk -> its tokens: (offset in the chunk, length, lower-cased form, is punctuation)
        self._chunks: dict[str, tuple[tuple[int, int, str, bool], ...]] = {"": ()}
        self._texts: dict[str, Analysis] = {}  # text -> its analysis, oldest first
        self._lock = threading.Lock()
        _READERS.add(self)

    def __getstate__(self) -> dict[str, Any]:
        return {"rules_bytes": self.rules_bytes, "special_cases": self.special_cases,
                "text_rules": self.text_rules, "renew_after": self.renew_after, "word_runs": self.word_runs}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(state["rules_bytes"], state["special_cases"],  # type: ignore[misc]
                      text_rules=state["text_rules"], renew_after=state["renew_after"],
                      word_runs=state["word_runs"])

    def __call__(self, text: str) -> Analysis:
        analysis = self._texts.get(text)
        if analysis is None:
            analysis = self._analyse(text)
            self._remember({text: analysis})
        return analysis

    def many(self, texts: Sequence[str]) -> list[Analysis]:
        """The analyses of a batch of texts, as ``[self(t) for t in texts]``, with the new
        white-space chunks of the whole batch given to spaCy in one call."""
        found = list(map(self._texts.get, texts))
        todo = list(dict.fromkeys(t for t, a in zip(texts, found, strict=True) if a is None))
        if not todo:
            return cast("list[Analysis]", found)
        norms = [normalise_with_offsets(t, self.text_rules) for t in todo]
        new = self.new_chunks(norm.text for norm in norms)
        if new:
            self._learn(new)
        made = {t: self._analyse(t, norm) for t, norm in zip(todo, norms, strict=True)}
        self._remember(made)
        return [a if a is not None else made[t] for t, a in zip(texts, found, strict=True)]

    def new_chunks(self, normalised: Iterable[str]) -> list[str]:
        """The white-space chunks of ``normalised`` texts not known yet, each once, in order:
        what goes through spaCy (a chunk over MAX_CHUNK characters is read in windows)."""
        known = self._chunks
        return list(dict.fromkeys(p for text in normalised for p in text.split(" ")
                                  if p not in known and len(p) <= MAX_CHUNK))

    def _remember(self, analyses: dict[str, Analysis]) -> None:
        texts = self._texts
        evict_oldest(texts, len(texts) + len(analyses) - self._TEXT_LIMIT, self._TEXT_LIMIT // 10)
        texts.update(analyses)

    def cache_clear(self, *, texts_only: bool = False) -> None:
        """Forget every text seen, and every chunk unless ``texts_only``."""
        self._texts = {}
        if not texts_only:
            self._chunks = {"": ()}

    def _spacy(self) -> Any:
        tokenizer = self._tokenizer
        if tokenizer is None or self._calls >= self.renew_after:
            with _READER_LOCK:
                if self._tokenizer is None or self._calls >= self.renew_after:
                    attrs = _spacy_attrs()
                    # IS_PUNCT: the lexeme attribute of the three
                    self._tokenizer = CompactTokenizer(self.rules_bytes, self.special_cases,
                                                       lex_attrs=attrs[2:]).tokenizer
                    self._calls = 0
                tokenizer = self._tokenizer
        self._calls += 1
        return tokenizer

    def _learn(self, chunks: list[str]) -> dict[str, tuple[tuple[int, int, str, bool], ...]]:
        """Tokenize new chunks with spaCy, in one call."""
        joined = " ".join(chunks)
        tokenizer = self._spacy()
        with self._lock:  # spaCy's tokenizer updates its own caches: one thread at a time
            rows = tokenizer(joined).to_array(_spacy_attrs()).tolist()
        learned: dict[str, tuple[tuple[int, int, str, bool], ...]] = {}
        current: list[tuple[int, int, str, bool]] = []
        k, start = 0, 0
        end = len(chunks[0])
        runs = self.word_runs
        for idx, length, punct in rows:
            while idx >= end:  # the token starts in a later chunk
                learned[chunks[k]] = tuple(current)
                k, start, current = k + 1, end + 1, []
                end = start + len(chunks[k])
            piece = joined[idx : idx + length]
            token = (idx - start, length, piece.lower(), punct == 1 and piece not in "!?")
            if runs:
                current.extend(split_word_runs(*token))
            else:
                current.append(token)
        learned[chunks[k]] = tuple(current)
        for chunk in chunks[k + 1 :]:  # pragma: no cover - every non-empty chunk has a token
            learned[chunk] = ()
        known = self._chunks
        if evict_oldest(known, len(known) + len(learned) - self._CHUNK_LIMIT, self._CHUNK_LIMIT // 10):
            known[""] = ()  # (the oldest entry of all)
        known.update(learned)
        return learned

    def _analyse(self, text: str, norm: Any = None) -> Analysis:
        if norm is None:
            norm = normalise_with_offsets(text, self.text_rules)
        normalised = norm.text
        pieces = normalised.split(" ")  # normalised text has single spaces only
        if max(map(len, pieces)) > MAX_CHUNK:
            return self._analyse_long(text, norm)
        known = self._chunks
        found = list(map(known.get, pieces))
        if None in found:
            learned = self._learn(list(dict.fromkeys(p for p, f in zip(pieces, found, strict=True) if f is None)))
            found = [f if f is not None else learned[p] for p, f in zip(pieces, found, strict=True)]
        chunks = cast("list[tuple[tuple[int, int, str, bool], ...]]", found)  # every piece known now
        starts, ends = norm.starts, norm.ends
        tokens = []
        offset = 0
        for word, (piece, chunk_tokens) in enumerate(zip(pieces, chunks, strict=True)):
            for rel, length, lower, punct in chunk_tokens:
                idx = offset + rel
                tokens.append(_new_tuple(Token, (lower, starts[idx], ends[idx + length - 1], punct, idx, word)))
            offset += len(piece) + 1
        return Analysis(text, normalised, tuple(tokens))

    def _analyse_long(self, text: str, norm: Any) -> Analysis:
        """As :meth:`_analyse` for a text with a white-space chunk longer than MAX_CHUNK:
        such a chunk is tokenized in windows of MAX_CHUNK characters, since spaCy's time on
        one chunk grows with the square of its length (no real word comes near the limit)."""
        normalised = norm.text
        windows: list[tuple[str, int, int]] = []  # (window, offset in the normalised text, word)
        offset = 0
        for word, piece in enumerate(normalised.split(" ")):
            for a in range(0, max(len(piece), 1), MAX_CHUNK):
                windows.append((piece[a : a + MAX_CHUNK], offset + a, word))
            offset += len(piece) + 1
        known = self._chunks
        new = list(dict.fromkeys(w for w, _, _ in windows if w not in known))
        learned = self._learn(new) if new else {}
        starts, ends = norm.starts, norm.ends
        tokens = []
        for window, at, word in windows:
            chunk_tokens = known.get(window)
            if chunk_tokens is None:
                chunk_tokens = learned[window]
            for rel, length, lower, punct in chunk_tokens:
                idx = at + rel
                tokens.append(_new_tuple(Token, (lower, starts[idx], ends[idx + length - 1], punct, idx, word)))
        return Analysis(text, normalised, tuple(tokens))


@functools.lru_cache(maxsize=4096)
def tokenize_plain(text: str, text_rules: tuple[str, ...] = RULE_NAMES, word_runs: bool = False) -> Analysis:
    """Like :func:`tokenize`, with a regular expression instead of spaCy (a baseline)."""
    norm = normalise_with_offsets(text, text_rules)
    tokens = []
    for m in _PLAIN_WORD.finditer(norm.text):
        word = m.group()
        token = (m.start(), len(word), word.lower(), not any(c.isalnum() for c in word) and word not in "!?")
        for at, size, lower, punct in split_word_runs(*token) if word_runs else [token]:
            start, end = norm.original_span(at, at + size)
            tokens.append(Token(lower, start, end, punct, at, norm.text.count(" ", 0, at)))
    return Analysis(text, norm.text, tuple(tokens))


@dataclass(frozen=True)
class ReaderSettings:
    """How a model reads text: its tokenizer (``"spacy"``: the compact spaCy tokenizer of
    ``tokenizer_rules`` and ``special_cases``, or the full one before fitting; ``"plain"``: a
    regular expression), its normalisation rules (``text_rules``, names from
    :data:`~tonecheck.normalise.RULE_NAMES`) and whether tokens are cut into their runs of word
    characters (``word_runs``, :func:`split_word_runs`). A model file stores these fields."""

    tokenizer: str = "spacy"
    tokenizer_rules: bytes | None = None
    special_cases: bytes | None = None
    text_rules: tuple[str, ...] = RULE_NAMES
    word_runs: bool = False

    def __post_init__(self) -> None:
        if self.tokenizer not in ("spacy", "plain"):
            raise ValueError(f"tokenizer must be 'spacy' or 'plain', not {self.tokenizer!r}")
        if (self.tokenizer_rules is None) != (self.special_cases is None):
            raise ValueError("tokenizer_rules and special_cases go together: give both or neither")
        object.__setattr__(self, "text_rules", rule_set(list(self.text_rules)))

    def reader(self) -> Callable[[str], Analysis]:
        """The function that reads a text with these settings."""
        if self.tokenizer == "plain":
            return functools.partial(tokenize_plain, text_rules=self.text_rules, word_runs=self.word_runs)
        if self.tokenizer_rules is not None and self.special_cases is not None:
            return Reader(self.tokenizer_rules, self.special_cases, text_rules=self.text_rules,
                          word_runs=self.word_runs)
        return functools.partial(tokenize, text_rules=self.text_rules, word_runs=self.word_runs)


def char_wb_ngrams(word: str, ngram_range: tuple[int, int]) -> list[str]:
    """Character n-grams of one white-space word, padded with a space each side: what
    scikit-learn's ``analyzer="char_wb"`` yields for it (lower-case it first, as it does;
    test_tokens checks the two agree)."""
    min_n, max_n = ngram_range
    w = f" {word} "
    size = len(w)
    grams = []
    for n in range(min_n, max_n + 1):
        if n >= size:
            grams.append(w)  # a word shorter than n counts once, whole
            break
        grams.extend(w[i : i + n] for i in range(size - n + 1))
    return grams
