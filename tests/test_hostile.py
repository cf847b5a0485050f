"""Hostile input: linear-time rules that still match what they matched, long runs with no
white space, a post's answer independent of its batch, worker processes next to threads."""

from __future__ import annotations

import re
import subprocess
import sys
import textwrap

import pytest
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st

from tonecheck import assess, assess_many
from tonecheck.normalise import (
    _PERCENT,
    _PRICE,
    _PROMO_CODE,
    _is_code,
    normalise,
    normalise_with_offsets,
)

# The patterns as they were before they were made linear: references for what must still match.
OLD_PERCENT = re.compile(r"(-\s?)?\d+(?:[.,]\d+)?\s?(?:%|pour\s?cent\b|pourcents?\b)", re.I)
OLD_PRICE = re.compile(
    r"(?:[€$£]\s?\d+(?:[.,]\d{1,2})?)|(?:\d+(?:[ .]\d{3})*(?:[.,]\d{1,2})?\s?(?:€|euros?\b|eur\b|\$|chf\b|fcfa\b|cfa\b|£))",
    re.I,
)
OLD_PROMO = re.compile(r"\b(code(?:\s+promo)?)\s*:?\s*[«\"']?\s*([A-Z][A-Z0-9]{2,}\d*|[A-Z0-9]*[A-Z][A-Z0-9]*\d+)\b")

NUMBERS = st.text(alphabet="1234 .,%€$-a", max_size=30)
CODES = st.text(alphabet="code pAB12:«'\t", max_size=30)


def spans(pattern: re.Pattern[str], text: str) -> list[tuple[int, int]]:
    return [m.span() for m in pattern.finditer(text)]


@settings(max_examples=400, deadline=None)
@given(NUMBERS)
@example("$1.111.1$")  # found by hypothesis: the old pattern's match from mid-number, the new one's after it
def test_percent_and_price_rules_match_what_they_matched(text):
    # One change on purpose: a number no longer starts inside a run of digits (after an
    # earlier match that ended mid-number, as in "$1.111$"); that is what makes them linear.
    def starts_mid_number(span: tuple[int, int]) -> bool:
        a = span[0] + (text[span[0]] == "-")
        return a > 0 and text[a - 1].isdigit()

    # Where the old pattern matched from mid-number, the new one may match a later part of that
    # same span instead ("$1.111.1$": old "1.1$" from inside "111", new "1$"): the same change.
    def inside(span: tuple[int, int], dropped: list[tuple[int, int]]) -> bool:
        return any(a <= span[0] and span[1] <= b for a, b in dropped)

    for new, old in ((_PERCENT, OLD_PERCENT), (_PRICE, OLD_PRICE)):
        expected = [sp for sp in spans(old, text) if not starts_mid_number(sp)]
        dropped = [sp for sp in spans(old, text) if starts_mid_number(sp)]
        found = [sp for sp in spans(new, text) if sp in expected or not (starts_mid_number(sp) or inside(sp, dropped))]
        assert found == expected


@settings(max_examples=400, deadline=None)
@given(CODES)
def test_promo_code_rule_finds_the_same_codes_as_before(text):
    assume(re.search(r"promo[A-Z0-9]", text) is None)  # "promo" glued to a code: no longer a code
    old = [(m.group(1), m.group(2), m.span()) for m in OLD_PROMO.finditer(text)]
    new = [(m.group(1), m.group(2), m.span()) for m in _PROMO_CODE.finditer(text) if _is_code(m.group(2))]
    # the old rule only knew a lower-case "code"
    assert [n for n in new if n[0].startswith("code") and " PROMO" not in n[0] and "\tPROMO" not in n[0]] == old


@pytest.mark.parametrize(
    "text, expected",
    [
        ("code" + " " * 40 + "SOLDES20", "code xxcode soldes 20"),
        ("Code CONFINEMENT20 !", "code xxcode confinement 20 !"),
        ("CODE PROMO : ÉTÉ", "CODE PROMO : ÉTÉ"),  # not a code: É is not A-Z, text unchanged
        ("code " + "A" * 30 + "a", "code Aa"),  # no code (a small letter ends it); the run shortened
        ("1" * 30 + "a%", "1" * 30 + "a%"),
        ("-30 % sur 1.111.111 €", "xxremise sur xxprix"),
        ("#aAaAaA", "a aa aa a"),
        ("merci " + "🔥" * 3, "merci 🔥 🔥 🔥"),
        ("a-a-a-a.fr/x et b", "xxurl et b"),
    ],
)
def test_hostile_families_small_sizes_normalise_right(text, expected):
    assert normalise(text) == expected


@pytest.mark.parametrize("hashtag", ["#ßonjourMerci", "#İstanbulSolidarité", "#ŉCanicule", "#MERCIßİŉ"])
def test_offsets_stay_right_after_letters_whose_case_changes_length(hashtag):
    text = f"Merci {hashtag} à vous"
    norm = normalise_with_offsets(text)
    for i, ch in enumerate(norm.text):
        if ch != " " and not ch.startswith("xx"):
            source = text[norm.starts[i] : norm.ends[i]]
            assert ch.lower() in source.lower(), (i, ch, source)


def test_evidence_offsets_point_at_the_words_after_eszett(tiny_model):
    text = "#ßMerciAuxSoignants merci merci aux soignants et aux caissières ❤️"
    for e in assess(text, model=tiny_model).evidence:
        assert text[e.start : e.end] == e.text


def test_a_long_run_with_no_white_space_is_read_in_windows(tiny_model):
    from tonecheck.reading import MAX_CHUNK

    text = "merci " + "!?" * (3 * MAX_CHUNK) + " aux soignants"
    result = assess(text, model=tiny_model)
    analysis = tiny_model.engine.analyse([text])[0]
    assert analysis.tokens[-1].lower == "soignants"
    assert all(text[t.start : t.end].lower() == t.lower for t in analysis.tokens)
    assert all(text[e.start : e.end] == e.text for e in result.evidence)


FEATURELESS = ["Привет", "中文", "---", "+1", "<", "🙂"]
POSTS = [
    "Restez chez vous et profitez de -30 % avec le code RESTEZCHEZVOUS",
    "Merci aux soignants ❤️",
    "Lavez-vous les mains et gardez vos distances",
    "Nouveau drop ce soir 20h 🔥 lien en bio",
    "Week-end au ski entre potes, confinement ou pas 😎",
]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.sampled_from(POSTS + FEATURELESS), min_size=1, max_size=12), st.integers(1, 5))
def test_a_post_gets_the_same_answer_alone_and_in_any_batch(tiny_model, texts, batch_size):
    alone = [assess(t, model=tiny_model) for t in texts]
    assert list(assess_many(texts, model=tiny_model, batch_size=batch_size)) == alone


def test_a_post_followed_by_a_featureless_post_keeps_its_answer(tiny_model):
    for post in POSTS:
        alone = assess(post, model=tiny_model)
        for other in FEATURELESS:
            first, _ = assess_many([post, other], model=tiny_model)
            assert first == alone
            assert list(assess_many([other, post, other], model=tiny_model))[1] == alone


@pytest.mark.slow
def test_worker_processes_start_while_threads_are_inside_assess():
    """A fork while another thread holds the tokenizer's lock used to hang every worker."""
    script = textwrap.dedent(
        """
        import threading, tonecheck
        words = "merci aux soignants restez chez vous lavez-vous les mains code SOLDES20 ".split()
        texts = [" ".join(words[(i + k) % len(words)] + str(i * k % 97) for k in range(200)) for i in range(400)]
        # one thread: forked workers
        assert [r.scores for r in tonecheck.assess_many(texts[:40], n_process=2, batch_size=8)] == [
            tonecheck.assess(t).scores for t in texts[:40]]
        stop = threading.Event()
        def busy():
            i = 0
            while not stop.is_set():
                tonecheck.assess(texts[i % len(texts)] + str(i)); i += 1
        threads = [threading.Thread(target=busy) for _ in range(2)]
        for t in threads: t.start()
        try:
            for round in range(4):
                out = list(tonecheck.assess_many(texts[:60], n_process=2, batch_size=8))
                assert [r.scores for r in out] == [tonecheck.assess(t).scores for t in texts[:60]]
        finally:
            stop.set()
            for t in threads: t.join()
        print("ok")
        """
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "ok"
