import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError

from tonecheck.cues import CUE_NAMES, conjunction_matches
from tonecheck.reading import tokenize
from tonecheck.scorer import LinearScorer
from tonecheck.training.export import engine_from
from tonecheck.training.featurizer import TextFeaturizer

TEXTS = [
    "Restez chez vous et profitez de -30 % avec le code RESTEZCHEZVOUS",
    "Un immense merci à tous les soignants ❤️",
    "Lavez-vous les mains et gardez vos distances",
    "Nouveau drop ce soir 20h 🔥 lien en bio",
] * 3


def test_parameters_are_stored_as_given_and_clone():
    f = TextFeaturizer(lemmas=False, char_ngrams=None, cue_weight=0.5, min_df=1)
    assert f.get_params()["cue_weight"] == 0.5
    assert clone(f).get_params() == f.get_params()


def test_transform_before_fit_raises_not_fitted():
    with pytest.raises(NotFittedError):
        TextFeaturizer().transform(["bonjour"])


def test_fit_transform_shape_matches_feature_names():
    f = TextFeaturizer(lemmas=False, min_df=1)
    X = f.fit_transform(TEXTS)
    assert X.shape == (len(TEXTS), len(f.get_feature_names_out()))
    assert X.shape[1] == f.n_features_out_
    assert list(f.get_feature_names_out()[-len(CUE_NAMES):]) == list(CUE_NAMES)
    assert np.allclose(X.toarray(), f.transform(TEXTS).toarray())


def test_lemmas_come_from_spacy():
    f = TextFeaturizer(lemmas=True, char_ngrams=None, min_df=1).fit([*TEXTS, "Nous offrons des masques"])
    assert f.terms(tokenize("Nous offrons des masques")) == ["nous", "offrir", "de", "masque"]
    # a word the table has not seen keeps its lower-cased form
    assert f.terms(tokenize("Ils DISTRIBUENT")) == ["ils", "distribuent"]


def test_tokens_point_at_the_original_text():
    text = "Merci @pompiers #MerciAuxPompiers 🚒 https://t.co/x"
    for t in tokenize(text).tokens:
        assert 0 <= t.start < t.end <= len(text)
    words = [text[t.start:t.end] for t in tokenize(text).tokens]
    assert "Merci" in words and "🚒" in words and "Pompiers" in words


@pytest.mark.parametrize(
    "text, fires",
    [
        ("profitez du confinement pour craquer", "crisis+commerce"),
        ("code CONFINEMENT20 sur tout le site", "crisis+commerce"),
        ("apéro sur la plage malgré l'alerte orange", "crisis+invite"),
        ("Merci aux soignants : -50 % sur tout le site", "thanks+commerce"),
    ],
)
def test_conjunctions_fire_on_nearby_words(text, fires):
    f = TextFeaturizer(lemmas=False, min_df=1).fit(TEXTS)
    names = [n.removeprefix("cue:") for n in CUE_NAMES]
    hits = conjunction_matches(f.terms(tokenize(text)))
    assert hits[names.index(fires)]


def test_a_crisis_hashtag_far_from_a_promotion_is_no_conjunction():
    f = TextFeaturizer(lemmas=False, min_df=1).fit(TEXTS)
    text = "Nouvelle collection printemps disponible en boutique et sur le site, venez la découvrir dès demain matin #ConfinementJour12"
    hits = conjunction_matches(f.terms(tokenize(text)))
    assert not hits[0]


def test_cached_char_block_equals_sklearn_tfidf():
    """The char columns built from per-word cached n-grams are exactly TfidfVectorizer's."""
    corpus = [*TEXTS, "Attention aux fausses cagnottes !!! Vérifiez https://t.co/x", "l'été, c'est l'été 🌞"]
    f = TextFeaturizer(lemmas=False, cues=False, min_df=1).fit(corpus)
    n_word = len(f.word_vectorizer_.vocabulary_)
    ours = f.transform_analyses(f.analyse(corpus)).toarray()[:, n_word:]
    theirs = f.char_vectorizer_.transform([a.normalised for a in f.analyse(corpus)]).toarray()
    assert np.allclose(ours, theirs)


def test_token_weights_sum_to_the_linear_score():
    """Shares of every word and char feature add up to the label's linear score (no cues)."""
    f = TextFeaturizer(lemmas=False, cues=False, min_df=1).fit(TEXTS)
    X = f.transform(TEXTS[:4])
    rng = np.random.default_rng(0)
    engine = engine_from(f, LinearScorer(coef=rng.normal(size=(4, X.shape[1])), intercept=np.zeros(4)))
    batch = engine.run(TEXTS[:4])
    best = batch.proba.argmax(axis=1)
    for d in range(4):
        full = X[d].toarray().ravel() @ engine.scorer.weights[best[d]]
        # (a white-space word made only of punctuation would drop its share; none here)
        assert batch.token_weights[d].sum() == pytest.approx(full, rel=1e-6)
        assert len(batch.token_weights[d]) == len(batch.words[d])


def test_a_repeated_word_shares_its_weight_between_occurrences():
    f = TextFeaturizer(lemmas=False, cues=False, char_ngrams=None, min_df=1).fit(TEXTS)
    engine = engine_from(f, LinearScorer(coef=np.eye(4, f.n_features_out_), intercept=np.zeros(4)))
    batch = engine.run(["merci merci aux soignants"])
    w = batch.token_weights[0]
    assert w[0] == pytest.approx(w[1])


def test_word_block_equals_sklearn_tfidf():
    corpus = [*TEXTS, "merci merci merci aux soignants", "🔥🔥 drop drop"]
    f = TextFeaturizer(lemmas=False, char_ngrams=None, cues=False, min_df=1).fit(corpus)
    analyses = f.analyse(corpus)
    ours = f.transform_analyses(analyses).toarray()
    theirs = f.word_vectorizer_.transform([f._ngrams(f.terms(a)) for a in analyses]).toarray()
    assert np.allclose(ours, theirs)
