"""The label guide's own decided hard cases (``LABELS.md``, "Hard cases, decided"): the
shipped model must get every one right. Each case is its own test, named by its post."""

from __future__ import annotations

import pytest

import tonecheck

# (post, label) exactly as the guide's table gives them; the news headline is `none` there,
# which the model cannot output: it must be flagged out of scope instead.
CASES = [
    ("Restez chez vous et profitez de -30 % avec le code RESTEZCHEZVOUS", "tone-deaf"),
    ("Nos boutiques sont fermées, l'e-shop reste ouvert, livraisons sans contact", "promotional"),
    ("Restez chez vous ! Prenez soin de vous et de vos proches ❤️ — L'équipe Maison X", "preventive"),
    ("Merci aux soignants ❤️ Pour les remercier : -50 % sur tout le site", "tone-deaf"),
    ("Nous reversons 100 % des ventes de la semaine à la Fondation des Hôpitaux", "supportive"),
    ("Nouveau drop ce soir 20h 🔥 stocks limités", "promotional"),
    ("Apéro géant sur la plage ce soir malgré l'alerte orange, venez nombreux 🍻", "tone-deaf"),
    ("Canicule : on ouvre notre salle climatisée gratuitement aux personnes âgées", "supportive"),
    ("Canicule : nos ventilateurs sont à -20 %, stock limité", "tone-deaf"),
    ("Avec la canicule, pensez à bien vous hydrater 💧 (notre gourde est en bio)", "preventive"),
    ("Retrouvez notre émission spéciale ce soir à 20h", "promotional"),
    ("RT @prefet: pour signaler un proche sans nouvelles, appelez le numéro de la cellule de crise", "preventive"),
    ("Attention aux fausses cagnottes : ne donnez qu'aux associations officielles", "preventive"),
    ("Votre premier mois de coaching en ligne offert pendant le confinement", "promotional"),
    ("Week-end au ski entre potes, confinement ou pas 😎", "tone-deaf"),
    ("Soirée chez moi samedi, ramenez vos potes, le couvre-feu on s'en fiche 🎉", "tone-deaf"),
]
NEWS = "Le bilan des inondations s'alourdit dans l'Aude"

# The shipped model still gets this one wrong (2026-12-02, words as runs with waves 12 and 13:
# promotional 0.66, tone-deaf 0.27, preventive 0.07 for the guidance with a product aside). It
# is marked so, strictly: the day a model gets it right, its test fails and the mark must go.
# (The thanks-with-a-discount and "stocks limités" cases were wrong until waves 6 and 7, and
# again with words as runs until the runs kept "-50" and the emoji whole.)
KNOWN_WRONG = {
    "Avec la canicule, pensez à bien vous hydrater 💧 (notre gourde est en bio)": "read as promotional",
}
CASES = [
    pytest.param(text, label, marks=pytest.mark.xfail(strict=True, reason=f"known wrong: {KNOWN_WRONG[text]}"))
    if text in KNOWN_WRONG else (text, label)
    for text, label in CASES
]


@pytest.mark.slow
@pytest.mark.parametrize("text, label", CASES, ids=[(c.values if hasattr(c, "values") else c)[0][:50] for c in CASES])
def test_the_shipped_model_gets_the_guides_decided_case_right(text, label):
    result = tonecheck.assess(text)
    assert result.label.value == label, f"{text!r}: {result.label.value} ({max(result.scores.values()):.2f}), guide: {label}"


@pytest.mark.slow
def test_the_guides_news_headline_is_flagged_out_of_scope():
    result = tonecheck.assess(NEWS)
    assert result.needs_review and "out-of-scope" in result.review_reasons, result
