"""Property tests over arbitrary strings (bounded to stay well under a minute)."""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tonecheck import EmptyTextError, TextTooLongError, assess
from tonecheck.normalise import normalise_with_offsets

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

# Text with the characters social posts are made of, plus anything unicode can throw.
_pieces = [*"abcdeéèàçùôABCDEZ0123456789 #@%€$!?.,'’-_/:\n\t", "😀", "🔥", "❤️", "\u200b", "\u202e",
           "\ufe0f", "e\u0301", "\x00", "\ud800", "merci", "code ", "PROMO20", " -30 % ", "confinement"]
_social = st.lists(st.sampled_from(_pieces), max_size=80).map("".join)
_any = st.text(max_size=300)
texts = st.one_of(_social, _any, st.builds(lambda a, b: a + " https://t.co/x #Tag" + b, _social, _social))


@SETTINGS
@given(texts)
def test_assess_any_string(tiny_model, text):
    try:
        r = assess(text, model=tiny_model)
    except (EmptyTextError, TextTooLongError):
        assert not text.strip() or len(text) > 50_000
        return
    assert sum(r.scores.values()) == pytest.approx(1.0)
    assert assess(text, model=tiny_model) == r
    for e in r.evidence:
        assert 0 <= e.start < e.end <= len(text)
        assert text[e.start : e.end] == e.text


@SETTINGS
@given(_any)
def test_normalised_offsets_stay_inside_the_text(text):
    norm = normalise_with_offsets(text)
    assert len(norm.starts) == len(norm.text)
    for i in range(len(norm.text)):
        start, end = norm.original_span(i, i + 1)
        assert 0 <= start < end <= len(text)
