"""Reading a post: normalisation, the spaCy French tokenizer, and the crisis cue words.

Everything here is what both training (:mod:`tonecheck.features`) and prediction
(:mod:`tonecheck.engine`) read of a text, and needs neither scikit-learn nor scipy: importing
it stays cheap, and spaCy itself is imported on first use.
"""

from __future__ import annotations

import functools
import operator
import os
import re
import threading
import weakref
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NamedTuple

from tonecheck.normalise import normalise_with_offsets

if TYPE_CHECKING:
    from spacy.language import Language

__all__ = [
    "SPACY_MODEL",
    "Token",
    "Analysis",
    "CUE_NAMES",
    "load_tokenizer",
    "tokenize",
    "tokenize_plain",
    "used_special_cases",
    "CompactTokenizer",
    "TokenMatch",
    "Reader",
    "cue_matches",
    "conjunction_matches",
    "char_wb_ngrams",
]

SPACY_MODEL = "fr_core_news_sm"
#: Longest white-space chunk given to spaCy whole; longer ones are cut into windows of this
#: size. The longest chunk in every corpus and real pool after normalisation is 66 characters.
MAX_CHUNK = 100

@functools.lru_cache(maxsize=1)
def load_tokenizer() -> Language:
    """``fr_core_news_sm`` with every component excluded: its tokenizer only."""
    import spacy

    nlp = spacy.load(SPACY_MODEL, exclude=["tok2vec", "morphologizer", "parser", "senter",
                                          "attribute_ruler", "lemmatizer", "ner"])
    return nlp


class Token(NamedTuple):
    """A token of the normalised text: its lower-cased form, its span in the original text,
    where it starts in the normalised text and which white-space word of it holds it."""

    lower: str
    start: int
    end: int
    is_punct: bool
    norm_start: int = 0
    word: int = 0


def used_special_cases(texts: Iterable[str], *, longest: int = 5) -> tuple[dict[str, Any], list[str]]:
    """The tokenizer exceptions and ``token_match`` patterns of ``fr_core_news_sm`` that
    ``texts`` use.

    French has ~60,000 tokenizer exceptions (hyphenated compounds, elisions) and a 1.4 MB
    ``token_match`` regular expression; compiling them takes seconds at every start. A model
    only needs those its training texts use: on any other string they change which tokens a
    chunk splits into, and tokens unseen in training carry no word feature anyway
    (character n-grams do not depend on tokens).
    """
    from spacy.lang.fr.tokenizer_exceptions import _regular_exp

    tokenizer = load_tokenizer().tokenizer
    rules = tokenizer.rules
    used: dict[str, Any] = {}
    token_texts: set[str] = set()
    for text in texts:
        doc = tokenizer(text)
        n = len(doc)
        for i in range(n):
            token_texts.add(doc[i].text)
            for j in range(i + 1, min(n, i + longest) + 1):
                if j > i + 1 and doc[j - 2].whitespace_:
                    break
                key = text[doc[i].idx : doc[j - 1].idx + len(doc[j - 1])]
                if key in rules:
                    used[key] = rules[key]
    candidates = [t for t in token_texts if len(t) > 2 and any(c in t for c in "-‐'’")]
    patterns = [p for p in _regular_exp if any(re.match("(?iu)" + p, t) for t in candidates)]
    return dict(sorted(used.items())), patterns


class CompactTokenizer:
    """The ``fr_core_news_sm`` tokenizer (its prefix, suffix, infix and URL rules) with only
    the exceptions and token-match patterns a model needs (see :func:`used_special_cases`);
    fast to load."""

    def __init__(self, rules_bytes: bytes, special_cases: bytes) -> None:
        import srsly
        from spacy.lang.lex_attrs import LEX_ATTRS
        from spacy.tokenizer import Tokenizer
        from spacy.vocab import Vocab

        cases = srsly.msgpack_loads(special_cases)
        self.tokenizer = Tokenizer(Vocab(lex_attr_getters=LEX_ATTRS))
        self.tokenizer.from_bytes(rules_bytes, exclude=["vocab", "exceptions", "token_match"])
        patterns = cases["token_match"]
        self.tokenizer.token_match = TokenMatch(patterns) if patterns else None
        self.tokenizer.rules = cases["exceptions"]

    @staticmethod
    def serialise(used: tuple[dict[str, Any], list[str]]) -> tuple[bytes, bytes]:
        import srsly

        exceptions, patterns = used
        return (
            load_tokenizer().tokenizer.to_bytes(exclude=["vocab", "exceptions", "token_match"]),
            srsly.msgpack_dumps({"exceptions": exceptions, "token_match": patterns}),
        )


# A bracketed character class, and one long enough to be one of spaCy's letter classes.
_CHAR_CLASS = re.compile(r"\[(?:\\.|[^\]\\])*\]")
_LONG_CLASS = 200


class TokenMatch:
    """``token_match`` for the tokenizer: true where one of ``patterns`` (case-insensitive,
    like spaCy's French ``TOKEN_MATCH``) matches the string.

    spaCy's patterns hold its Unicode letter classes (~3,000 characters each); compiling
    70 of them takes ~0.6 s. Here each pattern first runs as a screen with its letter
    classes replaced by ``.`` (compiled in milliseconds, matching a superset), and the real
    pattern is compiled only when its screen matches a string, once. The answers are the
    same (spaCy only asks whether something matched); test_tokens checks it.
    """

    def __init__(self, patterns: Sequence[str]) -> None:
        self.patterns = list(patterns)
        self._screens = [re.compile("(?ius)" + _CHAR_CLASS.sub(_loosen, p)).match for p in self.patterns]
        self._screen = re.compile("(?ius)" + "|".join(f"(?:{_CHAR_CLASS.sub(_loosen, p)})" for p in self.patterns)).match
        self._exact: dict[int, Any] = {}

    def __call__(self, string: str) -> bool:
        if self._screen(string) is None:
            return False
        for k, screen in enumerate(self._screens):
            if screen(string) is not None:
                exact = self._exact.get(k)
                if exact is None:
                    exact = self._exact[k] = re.compile("(?iu)" + self.patterns[k]).match
                if exact(string) is not None:
                    return True
        return False


def _loosen(m: re.Match[str]) -> str:
    return "." if len(m.group()) > _LONG_CLASS else m.group()


@dataclass(frozen=True)
class Analysis:
    """What the featurizer reads of one text: its normalised form and its tokens."""

    text: str
    normalised: str
    tokens: tuple[Token, ...]


@functools.lru_cache(maxsize=4096)
def tokenize(text: str) -> Analysis:
    """Normalise ``text`` and split it with the spaCy French tokenizer."""
    return _tokenize_with(load_tokenizer().tokenizer, text)


def _tokenize_with(tokenizer: Any, text: str) -> Analysis:
    from spacy.attrs import IDX, IS_PUNCT, IS_SPACE, LENGTH, SPACY

    norm = normalise_with_offsets(text)
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
            tokens.append(_new_tuple(Token, (piece.lower(), starts[idx], ends[idx + length - 1],
                                             punct == 1 and piece not in "!?", idx, word)))
        word += spaced
    return Analysis(text, normalised, tuple(tokens))


_new_tuple = tuple.__new__


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

    def __init__(self, rules_bytes: bytes, special_cases: bytes, *, renew_after: int = 50_000) -> None:
        self.rules_bytes = rules_bytes
        self.special_cases = special_cases
        self.renew_after = renew_after
        self._tokenizer: Any = None
        self._calls = 0
        # chunk -> its tokens: (offset in the chunk, length, lower-cased form, is punctuation)
        self._chunks: dict[str, tuple[tuple[int, int, str, bool], ...]] = {"": ()}
        self._read = functools.lru_cache(maxsize=4096)(self._analyse)
        self._lock = threading.Lock()
        _READERS.add(self)

    def __getstate__(self) -> dict[str, Any]:
        return {"rules_bytes": self.rules_bytes, "special_cases": self.special_cases, "renew_after": self.renew_after}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(state["rules_bytes"], state["special_cases"], renew_after=state["renew_after"])

    def __call__(self, text: str) -> Analysis:
        return self._read(text)

    def cache_clear(self, *, texts_only: bool = False) -> None:
        """Forget every text seen, and every chunk unless ``texts_only``."""
        self._read.cache_clear()
        if not texts_only:
            self._chunks = {"": ()}

    def _spacy(self) -> Any:
        tokenizer = self._tokenizer
        if tokenizer is None or self._calls >= self.renew_after:
            with _READER_LOCK:
                if self._tokenizer is None or self._calls >= self.renew_after:
                    self._tokenizer = CompactTokenizer(self.rules_bytes, self.special_cases).tokenizer
                    _spacy_attrs()
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
        k, start, current = 0, 0, []
        end = len(chunks[0])
        for idx, length, punct in rows:
            while idx >= end:  # the token starts in a later chunk
                learned[chunks[k]] = tuple(current)
                k, start, current = k + 1, end + 1, []
                end = start + len(chunks[k])
            piece = joined[idx : idx + length]
            current.append((idx - start, length, piece.lower(), punct == 1 and piece not in "!?"))
        learned[chunks[k]] = tuple(current)
        for chunk in chunks[k + 1 :]:  # pragma: no cover - every non-empty chunk has a token
            learned[chunk] = ()
        if len(self._chunks) > self._CHUNK_LIMIT:
            self._chunks = {"": ()}
        self._chunks.update(learned)
        return learned

    def _analyse(self, text: str) -> Analysis:
        norm = normalise_with_offsets(text)
        normalised = norm.text
        pieces = normalised.split(" ")  # normalised text has single spaces only
        if max(map(len, pieces)) > MAX_CHUNK:
            return self._analyse_long(text, norm)
        known = self._chunks
        found = list(map(known.get, pieces))
        if None in found:
            learned = self._learn(list(dict.fromkeys(p for p, f in zip(pieces, found) if f is None)))
            found = [f if f is not None else learned[p] for p, f in zip(pieces, found)]
        starts, ends = norm.starts, norm.ends
        tokens = []
        offset = 0
        for word, (piece, chunk_tokens) in enumerate(zip(pieces, found)):
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
def tokenize_plain(text: str) -> Analysis:
    """Like :func:`tokenize`, with a regular expression instead of spaCy (a baseline)."""
    norm = normalise_with_offsets(text)
    tokens = []
    for m in _PLAIN_WORD.finditer(norm.text):
        start, end = norm.original_span(m.start(), m.end())
        word = m.group()
        tokens.append(Token(word.lower(), start, end, not any(c.isalnum() for c in word) and word not in "!?",
                            m.start(), norm.text.count(" ", 0, m.start())))
    return Analysis(text, norm.text, tuple(tokens))


# Cue vocabularies, matched as prefixes of lemmas. They encode the distinctions of the label
# guide that single words cannot: a tone-deaf post is mostly a crisis reference *used as* a
# sales hook, an invitation, a brag, defiance or a health claim. Real crisis-time posts name
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


@functools.lru_cache(maxsize=65536)
def _term_cues(term: str) -> tuple[str, ...]:
    """The cue vocabularies a term belongs to (cached: terms repeat across posts)."""
    return tuple(name for name, prefixes in _CUES.items() if term.startswith(prefixes))


_CUE_BIT = {name: 1 << i for i, name in enumerate(_CUES)}
_CONJUNCTION_MASKS = tuple(_CUE_BIT[a] | _CUE_BIT[b] for a, b in _CONJUNCTIONS)
_NONE_FIRES = ((),) * len(_CONJUNCTIONS)


@functools.lru_cache(maxsize=65536)
def _term_mask(term: str) -> int:
    """The cue vocabularies of a term as bits."""
    return sum(_CUE_BIT[name] for name in _term_cues(term))


def cue_matches(terms: Sequence[str]) -> dict[str, list[int]]:
    """For each cue vocabulary, the indices of the terms that match it."""
    hits: dict[str, list[int]] = {name: [] for name in _CUE_NAMES_ORDER}
    for i, t in enumerate(terms):
        for name in _term_cues(t):
            hits[name].append(i)
    return hits


def conjunction_matches(terms: Sequence[str]) -> list[list[int]]:
    """For each conjunction, the indices of the terms that make it fire (empty: it does not)."""
    return [list(w) for w in _conjunctions(tuple(terms))]


def _conjunctions(terms: tuple[str, ...]) -> tuple[tuple[int, ...], ...]:
    present = functools.reduce(operator.or_, map(_term_mask, terms), 0)
    if not any(present & m == m for m in _CONJUNCTION_MASKS):  # the usual case: no pair of vocabularies
        return _NONE_FIRES
    return _near_pairs(terms)


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


def _shouting(analysis: Analysis) -> bool:
    """Mostly capitals: at least 12 letters, over 60 % of them upper-case."""
    upper = len(_UPPER.findall(analysis.text))
    if upper <= 7:  # 60 % of at least 12 letters is more than 7
        return False
    letters = len(_LETTER.findall(analysis.text))
    return letters >= 12 and upper > 0.6 * letters


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
