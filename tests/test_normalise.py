import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tonecheck import normalise as n


@pytest.mark.parametrize(
    "func, text, expected",
    [
        (n.replace_urls, "voir https://t.co/AbC123 ici", "voir  xxurl  ici"),  # padded; normalise() collapses
        (n.replace_urls, "www.exemple.fr/page", " xxurl "),
        (n.replace_urls, "", ""),
        (n.replace_mentions, "merci @Pompiers13 !", "merci  xxmention  !"),
        (n.replace_mentions, "mail a@b.fr", "mail a@b.fr"),
        (n.split_hashtags, "#MerciAuxSoignants", " merci aux soignants "),
        (n.split_hashtags, "#ConfinementJour12", " confinement jour 12 "),
        (n.split_hashtags, "#COVID19", " covid 19 "),
        (n.split_hashtags, "#restezchezvous", " restezchezvous "),
        (n.split_hashtags, "pas de # ici", "pas de # ici"),
        (n.replace_promo_codes, "code CANICULE15", "code xxcode canicule 15"),
        (n.replace_promo_codes, "avec le code promo : RESTEZCHEZVOUS", "avec le code promo xxcode restezchezvous"),
        (n.replace_promo_codes, "le code de la route", "le code de la route"),
        (n.replace_prices, "49,90 €", " xxprix "),
        (n.replace_prices, "5000 FCFA le sac", " xxprix  le sac"),
        (n.replace_prices, "$20", " xxprix "),
        (n.replace_percentages, "-30 %", " xxremise "),
        (n.replace_percentages, "100 % reversés", " xxpourcent  reversés"),
        (n.shorten_elongations, "merciiiii !!!!", "merci !"),
        (n.shorten_elongations, "belle appelle", "belle appelle"),
        (n.strip_invisible, "a\u200bb\u202ec\ufe0f", "abc"),
        (n.space_emoji, "top🔥ok", "top 🔥 ok"),
        (n.collapse_whitespace, "a \n\t b", "a b"),
        (n.collapse_whitespace, " ", " "),
    ],
)
def test_rule(func, text, expected):
    assert func(text) == expected


@pytest.mark.parametrize(
    "text, expected",
    [
        ("", ""),
        (" ", ""),
        ("Restez chez vous et profitez de -30 % avec le code RESTEZCHEZVOUS",
         "Restez chez vous et profitez de xxremise avec le code xxcode restezchezvous"),
        ("Nouveau drop ce soir 20h 🔥 lien en bio", "Nouveau drop ce soir 20h 🔥 lien en bio"),
        ("e\u0301te\u0301", "été"),  # decomposed accents are composed (NFC)
    ],
)
def test_normalise(text, expected):
    assert n.normalise(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "Merciiii à tous !!! #MerciAuxSoignants ❤️ https://t.co/x",
        "-30 % avec le code CONFINEMENT20 sur https://shop.fr/promo @marque",
        "e\u0301te\u0301 \u200b chaud 🔥🔥",
        "5000 FCFA, 49,90 € et $20",
    ],
)
def test_offsets_point_into_the_original(text):
    norm = n.normalise_with_offsets(text)
    assert len(norm.starts) == len(norm.ends) == len(norm.text)
    for i in range(len(norm.text)):
        start, end = norm.original_span(i, i + 1)
        assert 0 <= start < end <= len(text)


def test_offsets_of_a_split_hashtag_point_at_each_word():
    text = "Bravo #MerciAuxSoignants"
    norm = n.normalise_with_offsets(text)
    k = norm.text.index("soignants")
    start, end = norm.original_span(k, k + len("soignants"))
    assert text[start:end] == "Soignants"


def test_offsets_of_a_placeholder_cover_the_whole_match():
    text = "promo -30 % ici"
    norm = n.normalise_with_offsets(text)
    k = norm.text.index(n.DISCOUNT_TOKEN)
    start, end = norm.original_span(k, k + len(n.DISCOUNT_TOKEN))
    assert text[start:end] == "-30 %"


_TRIGGERS = st.sampled_from(
    ["/", "www.", "WWW.", "@", "#", "code", "CODE", "%", "pour", "POUR", "€", "$", "£", "eur", "EUR", "chf",
     "fcfa", "  ", "\n", "\t", "\u00a0", "aaa", "!!!", "...", "12", "3", "\u200b", "\x00", "🔥", "é", " "]
)


@settings(max_examples=400, deadline=None)
@given(st.lists(st.one_of(_TRIGGERS, st.text(max_size=6)), max_size=12).map("".join))
def test_cheap_tests_never_skip_a_rule_that_would_match(text):
    # each rule's cheap test may only say False when its pattern finds nothing
    for name, pattern, _, may_match in n._RULES:
        if pattern.search(text) is not None:
            assert may_match(text), name
    if n._INVISIBLE.search(text) or n._CONTROL.search(text):
        assert n._HIDDEN.search(text)


def test_cheap_tests_never_skip_a_rule_on_the_corpus():
    import csv
    from pathlib import Path

    with open(Path(__file__).resolve().parent.parent / "data" / "authored.csv", encoding="utf-8") as f:
        texts = [r["text"] for r in csv.DictReader(f)]
    for text in texts:
        for name, pattern, _, may_match in n._RULES:
            if pattern.search(text) is not None:
                assert may_match(text), (name, text)
