"""The prediction engine: features, scores and evidence for a batch of posts, with numpy.

Training produces a :class:`~tonecheck.model.ToneModel` of scikit-learn estimators (saved with
skops); prediction needs only what they learned: the n-gram vocabularies and IDF weights, the
lemma table, the tokenizer rules and the linear weights. :class:`Engine` holds exactly those
and turns a batch of posts into probabilities and per-word evidence with a fixed number of
numpy calls per batch, whatever its size: for one post as for a thousand, the Python work is
one pass over each post's tokens. :class:`~tonecheck.features.TextFeaturizer` computes its
features with the same code, so training and prediction cannot drift apart.

An engine is saved beside the skops file as an ``.npz`` of plain arrays (read with
``allow_pickle=False``: loading runs no code from the file), so that starting tonecheck does
not import scikit-learn, scipy or skops.
"""

from __future__ import annotations

import io
import json
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import repeat
from typing import Any

import numpy as np

from tonecheck.labels import LABELS
from tonecheck.tokens import (
    CUE_NAMES,
    Analysis,
    Reader,
    Token,
    _conjunctions,
    _shouting,
    char_wb_ngrams,
    tokenize_plain,
)

__all__ = ["Engine", "Batch", "ENGINE_FORMAT"]

#: Version of the ``.npz`` layout written by :meth:`Engine.to_bytes`.
ENGINE_FORMAT = 1

_SHOUTING = len(CUE_NAMES) - 1  # the last cue column is not a conjunction
# Columns of Engine._columns: idf, classifier (4 labels, then scope), evidence weights (4 labels).
_IDF = 0
_LINEAR = slice(1, 6)
_EVIDENCE = 6


@dataclass(frozen=True)
class Batch:
    """What the engine says of a batch of posts.

    ``proba`` (posts × 4, :data:`~tonecheck.labels.LABELS` order) and ``in_scope`` (posts);
    ``words[i]`` are post ``i``'s word tokens and ``token_weights[i]`` how much each pushed
    toward the post's most probable label (one float per word token).
    """

    analyses: list[Analysis]
    proba: np.ndarray
    in_scope: np.ndarray
    words: list[list[Token]]
    token_weights: list[np.ndarray]


@dataclass
class _Features:
    """One batch as unique (post, column, value) entries, sorted, plus the occurrences behind
    them (which tokens produced each column) for evidence."""

    n: int
    doc: np.ndarray | None  # post of each entry (None: a batch of one post)
    col: np.ndarray  # column of each entry
    value: np.ndarray
    counts: np.ndarray  # occurrences of each entry
    rows: np.ndarray  # the engine's column rows of each entry (idf, classifier and evidence weights)
    occ_entry: np.ndarray  # entry of each occurrence
    occ_first: np.ndarray  # first token (batch-wide index) of each occurrence
    occ_span: np.ndarray  # number of tokens of each occurrence (0: none, e.g. punctuation)
    n_tokens: np.ndarray  # word tokens per post
    words: list[list[Token]]


# A model folder is code: whoever can write it decides what tonecheck runs. What an engine file
# may hold is therefore checked before it is used: sizes (a small file that inflates to
# gigabytes is refused before it is inflated), finite weights, and tokenizer rules that are
# exactly those of the spaCy model tonecheck was built with (a crafted pattern could make
# every post take hours).
MAX_MEMBER_BYTES = 256 * 2**20
MAX_TOTAL_BYTES = 512 * 2**20
MAX_COMPRESSION_RATIO = 100
#: SHA-256 of the prefix, suffix, infix and URL rules of the spaCy models tonecheck knows.
KNOWN_TOKENIZER_RULES = {"a0d65046f9789b05562e792d362de1fdfc17eccbdac68d8db2d1523c250d0eb2": "fr_core_news_sm 3.8.0"}


def _check_archive(source: Any) -> None:
    """Refuse an ``.npz`` whose arrays would be too large, or too compressed, to read."""
    import zipfile

    with zipfile.ZipFile(source) as archive:
        members = archive.infolist()
        total = sum(m.file_size for m in members)
        if total > MAX_TOTAL_BYTES:
            raise ValueError(f"its arrays would take {total:,} bytes; at most {MAX_TOTAL_BYTES:,} are read")
        for m in members:
            if m.file_size > MAX_MEMBER_BYTES:
                raise ValueError(f"array {m.filename} would take {m.file_size:,} bytes; at most {MAX_MEMBER_BYTES:,}")
            if m.file_size > 2**20 and m.file_size > MAX_COMPRESSION_RATIO * max(m.compress_size, 1):
                raise ValueError(f"array {m.filename} is compressed {m.file_size // max(m.compress_size, 1)}-fold "
                                 f"(at most {MAX_COMPRESSION_RATIO}): refused as a decompression bomb")
    if hasattr(source, "seek"):
        source.seek(0)


def _known_token_match() -> frozenset[str]:
    """SHA-256 of every token_match pattern of spaCy's French tokenizer (file in the package)."""
    from importlib.resources import files

    text = files("tonecheck").joinpath("known", "fr_core_news_sm-3.8.0.token_match.json").read_text(encoding="utf-8")
    return frozenset(json.loads(text)["sha256"])


def _check_tokenizer(rules: bytes | None, special_cases: bytes | None) -> None:
    import hashlib

    if rules is None:
        return
    digest = hashlib.sha256(rules).hexdigest()
    if digest not in KNOWN_TOKENIZER_RULES:
        raise ValueError(f"its tokenizer rules (SHA-256 {digest[:12]}…) are not those of a known spaCy model "
                         f"({', '.join(KNOWN_TOKENIZER_RULES.values())}); retrain it with `tonecheck train`")
    if special_cases is not None:
        import srsly

        patterns = srsly.msgpack_loads(special_cases).get("token_match") or []
        known = _known_token_match()
        unknown = [p for p in patterns if hashlib.sha256(p.encode()).hexdigest() not in known]
        if unknown:
            raise ValueError(f"{len(unknown)} token_match pattern(s) are not spaCy's French patterns, "
                             f"e.g. {unknown[0][:60]!r}; retrain it with `tonecheck train`")


def _check_finite(**arrays: Any) -> None:
    for name, array in arrays.items():
        if array is not None and not np.isfinite(np.asarray(array, dtype=np.float64)).all():
            raise ValueError(f"its {name} holds NaN or infinite values")


def _strings(array: np.ndarray) -> list[str]:
    text = array.tobytes().decode("utf-8")
    return text.split("\n") if text else []


def _string_array(strings: Sequence[str]) -> np.ndarray:
    if any("\n" in s for s in strings):  # pragma: no cover - tokens never hold white space
        raise ValueError("a vocabulary entry holds a line break")
    return np.frombuffer("\n".join(strings).encode("utf-8"), dtype=np.uint8)


class Engine:
    """Features, probabilities and evidence for batches of posts (see the module docstring).

    Build one with :meth:`from_featurizer` or :meth:`from_tone_model`, or load one with
    :meth:`from_bytes`. ``coef`` (4 × features, LABELS order) and ``intercept`` make the
    classifier's softmax; ``scope_coef``/``scope_intercept`` the scope detector's sigmoid.
    When the classifier is not a plain logistic regression, ``fallback`` (a ToneModel) scores
    the features instead, and ``weights`` are the linear weights used for evidence.
    """

    def __init__(
        self,
        *,
        word_vocab: dict[str, int],
        word_idf: np.ndarray,
        char_vocab: dict[str, int] | None = None,
        char_idf: np.ndarray | None = None,
        char_range: tuple[int, int] | None = None,
        word_ngrams: int = 2,
        lemma_table: dict[str, str] | None = None,
        cues: bool = True,
        cue_weight: float = 1.0,
        tokenizer: str = "spacy",
        tokenizer_rules: bytes | None = None,
        special_cases: bytes | None = None,
        coef: np.ndarray | None = None,
        intercept: np.ndarray | None = None,
        scope_coef: np.ndarray | None = None,
        scope_intercept: float = 0.0,
        weights: np.ndarray | None = None,
        review_threshold: float = 0.5,
        scope_threshold: float = 0.5,
        fallback: Any = None,
        read: Callable[[str], Analysis] | None = None,
    ) -> None:
        self.word_vocab = word_vocab
        self.char_vocab = char_vocab if char_range else None
        self.char_range = tuple(char_range) if char_range else None
        self.word_ngrams = word_ngrams
        self.lemma_table = lemma_table or {}
        self.cues = cues
        self.cue_weight = float(cue_weight)
        self.tokenizer = tokenizer
        self.tokenizer_rules = tokenizer_rules
        self.special_cases = special_cases
        self.n_word = len(word_vocab)
        self.n_char = len(self.char_vocab) if self.char_vocab is not None else 0
        self.cue_offset = self.n_word + self.n_char
        self.n_features = self.cue_offset + (len(CUE_NAMES) if cues else 0)
        idf = [np.asarray(word_idf, dtype=np.float64)]
        if self.char_vocab is not None:
            idf.append(np.asarray(char_idf, dtype=np.float64))
        idf.append(np.zeros(self.n_features - self.cue_offset))
        self.idf = np.concatenate(idf)
        self.coef = None if coef is None else np.asarray(coef, dtype=np.float64)
        self.intercept = None if intercept is None else np.asarray(intercept, dtype=np.float64)
        self.scope_coef = None if scope_coef is None else np.asarray(scope_coef, dtype=np.float64)
        self.scope_intercept = float(scope_intercept)
        if weights is None and self.coef is not None:
            weights = self.coef - self.coef.mean(axis=0, keepdims=True)
        self.weights = None if weights is None else np.asarray(weights, dtype=np.float64)
        self.review_threshold = float(review_threshold)
        self.scope_threshold = float(scope_threshold)
        self.fallback = fallback
        # Everything a column carries, one row per column (C-contiguous): idf, the 4 label
        # weights and the scope weight of the classifier, the 4 evidence weights. A batch
        # gathers the rows of its columns once.
        coef = self.coef if self.coef is not None else np.zeros((len(LABELS), self.n_features))
        scope = self.scope_coef if self.scope_coef is not None else np.zeros(self.n_features)
        weights = self.weights if self.weights is not None else np.zeros((len(LABELS), self.n_features))
        self._columns = np.ascontiguousarray(np.vstack([self.idf[None, :], coef, scope[None, :], weights]).T)
        self._char_cache: dict[str, np.ndarray] = {}
        if read is not None:
            self.read: Callable[[str], Analysis] = read
        elif tokenizer == "plain":
            self.read = tokenize_plain
        elif tokenizer_rules is not None and special_cases is not None:
            self.read = Reader(tokenizer_rules, special_cases)
        else:  # an unfitted featurizer reads with the full fr_core_news_sm tokenizer
            from tonecheck.tokens import tokenize

            self.read = tokenize

    def __getstate__(self) -> dict[str, Any]:  # (spawned worker processes get a copy)
        state = dict(self.__dict__)
        state["_char_cache"] = {}
        return state

    # -- building ------------------------------------------------------------------------
    @classmethod
    def from_featurizer(cls, featurizer: Any, **classifier: Any) -> Engine:
        """The engine of a fitted :class:`~tonecheck.features.TextFeaturizer` (features only,
        unless the classifier's arrays are given as keyword arguments)."""
        char = featurizer.char_vectorizer_
        return cls(
            word_vocab=featurizer.word_vectorizer_.vocabulary_,
            word_idf=featurizer.word_vectorizer_.idf_,
            char_vocab=char.vocabulary_ if char is not None else None,
            char_idf=char.idf_ if char is not None else None,
            char_range=tuple(char.ngram_range) if char is not None else None,
            word_ngrams=featurizer.word_ngrams,
            lemma_table=featurizer.lemma_table_,
            cues=featurizer.cues,
            cue_weight=featurizer.cue_weight,
            tokenizer=featurizer.tokenizer,
            tokenizer_rules=featurizer.tokenizer_rules_,
            special_cases=featurizer.special_cases_,
            read=featurizer._read if featurizer.tokenizer_rules_ is not None else None,
            **classifier,
        )

    @classmethod
    def from_tone_model(cls, model: Any) -> Engine:
        """The engine of a fitted :class:`~tonecheck.model.ToneModel`."""
        from sklearn.linear_model import LogisticRegression

        clf, scope = model.classifier, model.scope
        linear = type(clf) is LogisticRegression and len(clf.classes_) > 2
        scope_linear = scope is None or (type(scope) is LogisticRegression and len(scope.classes_) == 2)
        arrays: dict[str, Any] = {
            "weights": model.linear_weights(),
            "review_threshold": model.review_threshold,
            "scope_threshold": model.scope_threshold,
        }
        if linear and scope_linear:
            order = model._order()
            arrays["coef"] = np.asarray(clf.coef_, dtype=np.float64)[order]
            arrays["intercept"] = np.asarray(clf.intercept_, dtype=np.float64)[order]
            if scope is not None:
                arrays["scope_coef"] = np.asarray(scope.coef_, dtype=np.float64).ravel()
                arrays["scope_intercept"] = float(scope.intercept_[0])
        else:
            arrays["fallback"] = model
        return cls.from_featurizer(model.featurizer, **arrays)

    # -- saving and loading --------------------------------------------------------------
    def to_bytes(self) -> bytes:
        """The engine as an ``.npz`` (compressed) of plain arrays; see :meth:`from_bytes`."""
        if self.coef is None:
            raise ValueError("only an engine with a linear classifier can be saved on its own")
        params = {
            "format": ENGINE_FORMAT,
            "labels": list(LABELS),
            "char_range": list(self.char_range) if self.char_range else None,
            "word_ngrams": self.word_ngrams,
            "cues": self.cues,
            "cue_weight": self.cue_weight,
            "tokenizer": self.tokenizer,
            "scope": self.scope_coef is not None,
            "scope_intercept": self.scope_intercept,
            "review_threshold": self.review_threshold,
            "scope_threshold": self.scope_threshold,
        }
        by_column = sorted(self.word_vocab, key=self.word_vocab.__getitem__)
        arrays = {
            "params": _string_array([json.dumps(params)]),
            "word_vocab": _string_array(by_column),
            "idf": self.idf[: self.cue_offset],
            "lemma_words": _string_array(list(self.lemma_table)),
            "lemma_lemmas": _string_array(list(self.lemma_table.values())),
            "coef": self.coef,
            "intercept": self.intercept,
        }
        if self.char_vocab is not None:
            arrays["char_vocab"] = _string_array(sorted(self.char_vocab, key=self.char_vocab.__getitem__))
        if self.scope_coef is not None:
            arrays["scope_coef"] = self.scope_coef
        if self.tokenizer_rules is not None:
            arrays["tokenizer_rules"] = np.frombuffer(self.tokenizer_rules, dtype=np.uint8)
            arrays["special_cases"] = np.frombuffer(self.special_cases, dtype=np.uint8)
        buffer = io.BytesIO()
        np.savez_compressed(buffer, **arrays)
        return buffer.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes | os.PathLike[str] | str) -> Engine:
        """Load an engine written by :meth:`to_bytes` (bytes or a path)."""
        source = io.BytesIO(data) if isinstance(data, bytes) else data
        _check_archive(source)
        with np.load(source, allow_pickle=False) as npz:
            params = json.loads(_strings(npz["params"])[0])
            if params.get("format") != ENGINE_FORMAT:
                raise ValueError(f"engine format {params.get('format')!r} is not {ENGINE_FORMAT}")
            if params.get("labels") != list(LABELS):
                raise ValueError(f"engine predicts labels {params.get('labels')}, not {list(LABELS)}")
            words = _strings(npz["word_vocab"])
            chars = _strings(npz["char_vocab"]) if "char_vocab" in npz else None
            idf = npz["idf"]
            rules = npz["tokenizer_rules"].tobytes() if "tokenizer_rules" in npz else None
            special = npz["special_cases"].tobytes() if "special_cases" in npz else None
            _check_tokenizer(rules, special)
            _check_finite(idf=idf, coef=npz["coef"], intercept=npz["intercept"],
                          scope_coef=npz["scope_coef"] if params["scope"] else None,
                          scope_intercept=params["scope_intercept"], cue_weight=params["cue_weight"],
                          thresholds=[params["review_threshold"], params["scope_threshold"]])
            return cls(
                word_vocab={w: i for i, w in enumerate(words)},
                word_idf=idf[: len(words)],
                char_vocab={g: i for i, g in enumerate(chars)} if chars is not None else None,
                char_idf=idf[len(words):] if chars is not None else None,
                char_range=tuple(params["char_range"]) if params["char_range"] else None,
                word_ngrams=params["word_ngrams"],
                lemma_table=dict(zip(_strings(npz["lemma_words"]), _strings(npz["lemma_lemmas"]))),
                cues=params["cues"],
                cue_weight=params["cue_weight"],
                tokenizer=params["tokenizer"],
                tokenizer_rules=rules,
                special_cases=special,
                coef=npz["coef"],
                intercept=npz["intercept"],
                scope_coef=npz["scope_coef"] if params["scope"] else None,
                scope_intercept=params["scope_intercept"],
                review_threshold=params["review_threshold"],
                scope_threshold=params["scope_threshold"],
            )

    # -- reading posts -------------------------------------------------------------------
    def analyse(self, texts: Sequence[str | Analysis]) -> list[Analysis]:
        read = self.read
        return [t if isinstance(t, Analysis) else read(t) for t in texts]

    # Character n-gram columns are cached per distinct white-space word: words repeat
    # across posts, so the n-grams of a word are looked up once.
    _CACHE_LIMIT = 50_000

    def _char_cols(self, word: str) -> np.ndarray:
        cols = self._char_cache.get(word)
        if cols is None:
            if len(self._char_cache) >= self._CACHE_LIMIT:
                self._char_cache.clear()
            vocab = self.char_vocab
            grams = char_wb_ngrams(word, self.char_range) if word else []  # (split() yields no empty word)
            cols = np.array([c for c in map(vocab.get, grams) if c is not None], dtype=np.int64) + self.n_word
            self._char_cache[word] = cols
        return cols

    def _features(self, analyses: Sequence[Analysis], terms: Sequence[Sequence[str]] | None = None) -> _Features:
        """Every feature occurrence of the batch, then the TF-IDF value of each (post, column).

        Word uni- and bigrams, character n-grams of each white-space word and the cue
        conjunctions are listed with the tokens that produced them; the values are those of
        scikit-learn's TfidfVectorizer (1 + log tf, × idf, l2 norm per block; test_features
        checks it), with the cue columns worth ``cue_weight`` where they fire. The loops over
        words run inside ``map`` and numpy, for the whole batch at once; a batch of one post
        (``assess``) skips the bookkeeping of which post an entry belongs to.
        """
        n_docs = len(analyses)
        one = n_docs == 1
        vocab = self.word_vocab
        words = [[t for t in a.tokens if not t.is_punct] for a in analyses]
        n_tokens = [len(w) for w in words]
        if terms is None:
            lowers = [t.lower for doc in words for t in doc]
            all_terms = list(map(self.lemma_table.get, lowers, lowers))  # a word without lemma stays itself
            n_terms = n_tokens
        else:
            all_terms = [t for doc in terms for t in doc]
            n_terms = [len(t) for t in terms]
        term_doc = None if one else np.repeat(np.arange(n_docs), n_terms)
        n_all = len(all_terms)
        # occurrences, by kind: column (-1: not in the vocabulary), first token, tokens, post
        cols = [np.array(list(map(vocab.get, all_terms, repeat(-1))), dtype=np.int64)]
        firsts = [np.arange(n_all)]
        spans = [np.ones(n_all, dtype=np.int64)]
        docs = [term_doc]
        if self.word_ngrams >= 2 and n_all > 1:
            pairs = map(vocab.get, map(" ".join, zip(all_terms, all_terms[1:])), repeat(-1))
            bigram = np.array(list(pairs), dtype=np.int64)
            if not one:
                bigram[term_doc[1:] != term_doc[:-1]] = -1  # no bigram across two posts
                docs.append(term_doc[:-1])
            cols.append(bigram)
            firsts.append(firsts[0][:-1])
            spans.append(np.full(n_all - 1, 2, dtype=np.int64))
        if self.cues:
            self._cue_occurrences(analyses, all_terms, n_terms, cols, firsts, spans, docs)
        if self.char_vocab is not None and n_docs:
            self._char_occurrences(analyses, words, n_tokens, cols, firsts, spans, docs)
        col, first, span = np.concatenate(cols), np.concatenate(firsts), np.concatenate(spans)
        found = col >= 0
        col, first, span = col[found], first[found], span[found]
        if one:
            keys, occ_entry, counts = np.unique(col, return_inverse=True, return_counts=True)
            u_doc, u_col = None, keys
            block = (u_col >= self.n_word).astype(np.int64)
        else:
            doc = np.concatenate(docs)[found]
            keys, occ_entry, counts = np.unique(doc * self.n_features + col, return_inverse=True, return_counts=True)
            u_doc, u_col = np.divmod(keys, self.n_features)
            block = 2 * u_doc + (u_col >= self.n_word)
        rows = self._columns[u_col]
        value = (np.log(counts) + 1.0) * rows[:, _IDF]
        cue = u_col >= self.cue_offset
        if self.cues:
            block[cue] = 2 * n_docs  # the cue columns are not normalised
        norms = np.sqrt(np.bincount(block, weights=value * value, minlength=2 * n_docs + 1))
        norms[2 * n_docs] = 1.0  # (cue columns have no idf; every other block with an entry has a norm)
        value /= norms[block]
        if self.cues:
            value[cue] = self.cue_weight
        return _Features(n_docs, u_doc, u_col, value, counts, rows, occ_entry.ravel(), first, span,
                         np.array(n_tokens, dtype=np.int64), words)

    def _cue_occurrences(self, analyses: Sequence[Analysis], all_terms: list[str], n_terms: list[int],
                         cols: list, firsts: list, spans: list, docs: list) -> None:
        """Cue conjunctions that fire, credited to the words that made them fire."""
        cue_col, cue_first, cue_span, cue_doc = [], [], [], []
        base = 0
        for d, (analysis, n) in enumerate(zip(analyses, n_terms)):
            for k, where in enumerate(_conjunctions(tuple(all_terms[base : base + n]))):
                for i in where:
                    cue_col.append(self.cue_offset + k)
                    cue_first.append(base + i)
                    cue_span.append(1)
                    cue_doc.append(d)
            if _shouting(analysis):
                cue_col.append(self.cue_offset + _SHOUTING)
                cue_first.append(base)
                cue_span.append(0)
                cue_doc.append(d)
            base += n
        if cue_col:
            cols.append(np.array(cue_col, dtype=np.int64))
            firsts.append(np.array(cue_first, dtype=np.int64))
            spans.append(np.array(cue_span, dtype=np.int64))
            docs.append(np.array(cue_doc, dtype=np.int64))

    def _char_occurrences(self, analyses: Sequence[Analysis], words: list[list[Token]], n_tokens: list[int],
                          cols: list, firsts: list, spans: list, docs: list) -> None:
        """Character n-gram occurrences: those of each white-space word, credited to the word
        tokens inside it. Normalised texts hold single spaces only, so the white-space words
        of the batch are its texts joined by spaces, split on spaces."""
        texts = [a.normalised for a in analyses]
        joined = " ".join(texts)
        ws_words = joined.lower().split(" ")
        cache = self._char_cache
        grams = list(map(cache.get, ws_words))
        for i in [i for i, g in enumerate(grams) if g is None]:
            grams[i] = self._char_cols(ws_words[i])
        sizes = np.fromiter(map(len, grams), dtype=np.int64, count=len(grams))
        # the white-space word of each token, numbered across the batch
        token_word = [t.word for doc in words for t in doc]
        if len(texts) > 1:
            per_text = [t.count(" ") + 1 for t in texts]
            words_before = np.cumsum([0, *per_text[:-1]])
            token_word = np.array(token_word, dtype=np.int64) + np.repeat(words_before, n_tokens)
        bounds = np.searchsorted(token_word, np.arange(len(ws_words) + 1))
        first = bounds[:-1]
        cols.append(np.concatenate(grams))
        firsts.append(np.repeat(first, sizes))
        spans.append(np.repeat(bounds[1:] - first, sizes))
        if len(texts) > 1:
            docs.append(np.repeat(np.repeat(np.arange(len(texts)), per_text), sizes))

    def csr(self, analyses: Sequence[Analysis], terms: Sequence[Sequence[str]] | None = None) -> Any:
        """The feature matrix (scipy CSR, posts × features) of ``analyses``; ``terms``
        replaces each post's words (e.g. lemmas from the full spaCy pipeline)."""
        from scipy import sparse

        f = self._features(analyses, terms)
        doc = f.doc if f.doc is not None else np.zeros(f.col.size, dtype=np.int64)
        indptr = np.concatenate([[0], np.cumsum(np.bincount(doc, minlength=f.n))])
        return sparse.csr_matrix((f.value, f.col, indptr), shape=(f.n, self.n_features))

    # -- scoring -------------------------------------------------------------------------
    def run(self, texts: Sequence[str | Analysis]) -> Batch:
        """Probabilities, scope and word evidence for a batch of posts."""
        analyses = self.analyse(texts)
        f = self._features(analyses)
        n = f.n
        if self.coef is not None:
            # entries are sorted by post: each post's score is the sum of its run of rows, added
            # in the same order whether the post comes alone or in a batch (same answer)
            rows = f.rows[:, _LINEAR] * f.value[:, None]  # entries × (4 labels + scope)
            if not f.col.size:
                z = np.zeros((n, rows.shape[1]))
            elif f.doc is None:  # one post
                z = np.add.reduceat(rows, [0], axis=0)
            else:
                # Sum the runs of the posts that have entries only, each exactly its own run
                # (numpy sums a run pairwise, so its length must not change with the batch);
                # clamping the start of a trailing post with no entries onto the last entry
                # once cut the run before it short (its answer changed with its neighbour).
                starts = np.searchsorted(f.doc, np.arange(n))
                filled = np.append(starts[1:], f.doc.size) > starts
                z = np.zeros((n, rows.shape[1]))
                z[filled] = np.add.reduceat(rows, starts[filled], axis=0)
            logits = z[:, :4] + self.intercept
            logits -= logits.max(axis=1, keepdims=True)
            proba = np.exp(logits)
            proba /= proba.sum(axis=1, keepdims=True)
            if self.scope_coef is not None:
                in_scope = 1.0 / (1.0 + np.exp(-(z[:, 4] + self.scope_intercept)))
            else:
                in_scope = np.ones(n)
        else:
            X = self.csr(analyses)
            proba = self.fallback.predict_proba(X)
            in_scope = self.fallback.scope_proba(X)
        best = proba.argmax(axis=1)
        return Batch(analyses, proba, in_scope, f.words, self._token_weights(f, best))

    def _token_weights(self, f: _Features, best: np.ndarray) -> list[np.ndarray]:
        """How much each word token pushed toward its post's label ``best``.

        Each entry's contribution (value × weight) is shared equally among its occurrences,
        and each occurrence's share among its tokens: a word n-gram's words, the word tokens
        of the white-space word a character n-gram comes from, the words a cue matched.
        """
        total = int(f.n_tokens.sum())
        if self.weights is None or not f.occ_entry.size:
            out = np.zeros(total)
        else:
            label = best[f.doc] if f.doc is not None else best[0]
            contribution = f.value * f.rows[np.arange(f.value.size), _EVIDENCE + label]
            span = f.occ_span  # an occurrence of no token (span 0) is repeated 0 times: dropped
            share = (contribution / f.counts)[f.occ_entry] / np.maximum(span, 1)
            offsets = np.arange(int(span.sum())) - np.repeat(np.cumsum(span) - span, span)
            out = np.bincount(np.repeat(f.occ_first, span) + offsets, weights=np.repeat(share, span), minlength=total)
        if f.n == 1:
            return [out]
        return np.split(out, np.cumsum(f.n_tokens)[:-1]) if f.n else []
