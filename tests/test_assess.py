import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from tonecheck import (
    Assessment,
    EmptyTextError,
    Label,
    TextTooLongError,
    assess,
    assess_many,
)
from tonecheck.assess import MAX_TEXT_LENGTH
from tonecheck.labels import LABELS


def test_label_values_are_exactly_the_four_labels():
    assert [label.value for label in Label] == ["supportive", "promotional", "tone-deaf", "preventive"]
    assert Label("tone-deaf") is Label.TONE_DEAF


def test_result_contract(tiny_model):
    text = "Merci aux soignants ❤️ Pour les remercier : -50 % sur tout le site avec le code MERCI50"
    r = assess(text, model=tiny_model)
    assert isinstance(r, Assessment)
    assert isinstance(r.label, Label)
    assert list(r.scores) == [Label(v) for v in LABELS]
    assert sum(r.scores.values()) == pytest.approx(1.0)
    assert all(0.0 <= s <= 1.0 for s in r.scores.values())
    assert r.label == max(r.scores, key=r.scores.get)
    assert isinstance(r.needs_review, bool)
    with pytest.raises(AttributeError):
        r.label = Label.SUPPORTIVE  # frozen


def test_evidence_offsets_point_at_the_reported_words(tiny_model):
    text = "Canicule : nos ventilateurs sont à -20 %, stock limité ! #Canicule2019 https://t.co/abc"
    r = assess(text, model=tiny_model)
    assert r.evidence, "a post full of cue words should have evidence"
    for e in r.evidence:
        assert text[e.start : e.end] == e.text
        assert e.weight > 0
    weights = [e.weight for e in r.evidence]
    assert weights == sorted(weights, reverse=True)


def test_to_dict_is_json_ready(tiny_model):
    import json

    d = assess("Restez chez vous, lavez-vous les mains", model=tiny_model).to_dict()
    assert set(d) == {"label", "scores", "needs_review", "review_reasons", "in_scope", "evidence", "error"}
    assert set(d["scores"]) == set(LABELS)
    json.dumps(d)


def test_assess_many_keeps_order_and_matches_assess(tiny_model, tiny_posts):
    texts = [p.text for p in tiny_posts[:40]]
    many = list(assess_many(texts, model=tiny_model, batch_size=7))
    assert len(many) == len(texts)
    for text, r in zip(texts, many, strict=True):
        assert r == assess(text, model=tiny_model)


def test_assess_many_is_lazy_and_rejects_a_single_string(tiny_model):
    with pytest.raises(TypeError, match="not a single str"):
        list(assess_many("un seul texte", model=tiny_model))
    with pytest.raises(ValueError, match="batch_size must be at least 1"):
        list(assess_many(["a"], model=tiny_model, batch_size=0))


@pytest.mark.parametrize("bad", [None, 42, b"merci", ["merci"]])
def test_non_str_raises_type_error_naming_the_type(bad, tiny_model):
    with pytest.raises(TypeError, match=f"must be a str, not {type(bad).__name__}"):
        assess(bad, model=tiny_model)


@pytest.mark.parametrize("empty", ["", " ", "\n\t  ", "\u3000"])
def test_empty_text_raises_empty_text_error(empty, tiny_model):
    with pytest.raises(EmptyTextError, match="empty or only white space"):
        assess(empty, model=tiny_model)
    assert issubclass(EmptyTextError, ValueError)


def test_too_long_text_is_rejected_with_the_limit(tiny_model):
    with pytest.raises(TextTooLongError, match=f"maximum is {MAX_TEXT_LENGTH:,}"):
        assess("a" * (MAX_TEXT_LENGTH + 1), model=tiny_model)
    assess("a " * (MAX_TEXT_LENGTH // 2), model=tiny_model)  # at the limit: fine


def test_bad_item_in_assess_many_names_its_index(tiny_model):
    with pytest.raises(EmptyTextError, match=r"texts\[1\]"):
        list(assess_many(["ok", "  "], model=tiny_model))


@pytest.mark.parametrize(
    "text",
    [
        "\x00\x01\x02 contrôle \x7f\x9f",
        "\u200b\u200c\u200d\u2060\ufeff",
        "\u202eesuom\u202c \u2066bidi\u2069",
        "surrogate \ud800 seule \udfff",
        "😀" * 5000,
        "#Confinement #RestezChezVous #MerciAuxSoignants",
        "https://t.co/abc https://t.co/def",
        "@a @b @c",
        "!!!!???....",
        "Привет всем, оставайтесь дома",
        "大家好，请待在家里",  # noqa: RUF001 - a fullwidth comma is part of this Chinese text
        "مرحبا بالجميع",
        "e\u0301" * 50,
    ],
)
def test_odd_strings_never_crash(text, tiny_model):
    r = assess(text, model=tiny_model)
    assert sum(r.scores.values()) == pytest.approx(1.0)
    for e in r.evidence:
        assert text[e.start : e.end] == e.text


@pytest.mark.parametrize(
    "text",
    [
        "Please stay at home and wash your hands, we will get through this together",
        "Quédense en casa y lávense las manos, por favor, es muy importante para todos",
        "Привет всем, оставайтесь дома и мойте руки",
    ],
)
def test_non_french_posts_need_review_with_the_reason(text, tiny_model):
    r = assess(text, model=tiny_model)
    assert r.needs_review
    assert "not-french" in r.review_reasons


@pytest.mark.parametrize(
    "text",
    ["Restez chez vous et lavez-vous les mains", "Merci aux soignants", "jpp trop bien ce drop 🔥 lien en bio"],
)
def test_french_posts_are_not_flagged_as_foreign(text, tiny_model):
    assert "not-french" not in assess(text, model=tiny_model).review_reasons


def test_eight_threads_give_the_single_thread_answers(tiny_model, tiny_posts):
    texts = [p.text for p in tiny_posts[:64]]
    expected = [assess(t, model=tiny_model) for t in texts]
    barrier = threading.Barrier(8)

    def work(k):
        barrier.wait()
        return [assess(t, model=tiny_model) for t in texts[k::8]]

    with ThreadPoolExecutor(8) as pool:
        parts = list(pool.map(work, range(8)))
    for k, part in enumerate(parts):
        assert part == expected[k::8]


def test_same_answer_twice(tiny_model):
    t = "Soirée chez moi samedi, ramenez vos potes, le couvre-feu on s'en fiche 🎉"
    assert assess(t, model=tiny_model) == assess(t, model=tiny_model)


def test_importing_tonecheck_loads_neither_spacy_nor_sklearn():
    """Nor numpy: it alone is most of the 0.1 s that `import tonecheck` may take."""
    import subprocess
    import sys

    heavy = "('spacy','sklearn','scipy','pandas','matplotlib','numpy','importlib.metadata')"
    code = f"import sys, tonecheck; print(sorted(m for m in {heavy} if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_version_is_the_installed_packages_read_when_asked_for():
    """``importlib.metadata`` (a third of ``import tonecheck`` when it was imported at start-up)
    is imported by the first read of ``__version__``."""
    from importlib.metadata import version

    import tonecheck

    assert tonecheck.__version__ == version("tonecheck")
    assert "__version__" in tonecheck.__all__
    with pytest.raises(AttributeError, match="no attribute 'nonesuch'"):
        tonecheck.nonesuch  # noqa: B018


def test_assessing_with_the_shipped_model_imports_neither_sklearn_nor_scipy():
    """Predictions run on the engine: scikit-learn, scipy, skops, pandas and the training
    subpackage stay out of start-up, and out of scoring a file."""
    import subprocess
    import sys

    heavy = "('sklearn','scipy','skops','pandas','matplotlib')"
    code = ("import sys, tonecheck, tonecheck.batch; tonecheck.assess('Merci aux soignants'); "
            f"print(sorted(m for m in sys.modules if m.split('.')[0] in {heavy} or m.startswith('tonecheck.training')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_to_record_keys_are_the_score_columns(tiny_model):
    from tonecheck.batch import OUTPUT_COLUMNS

    record = assess("Restez chez vous, lavez-vous les mains", model=tiny_model).to_record()
    assert list(record) == list(OUTPUT_COLUMNS)
    assert record["error"] is None
    assert abs(sum(record[f"score_{lab.replace('-', '_')}"] for lab in LABELS) - 1) < 1e-5


@pytest.mark.parametrize(
    "bad, message",
    [(None, "must be a str, not NoneType"), (float("nan"), "must be a str, not float"), ("  ", "empty"),
     ("a" * (MAX_TEXT_LENGTH + 1), "maximum is")],
)
def test_errors_mark_yields_an_error_assessment_in_place(tiny_model, bad, message):
    texts = ["Merci aux soignants", bad, "Lavez-vous les mains"]
    results = list(assess_many(texts, model=tiny_model, errors="mark", batch_size=2))
    assert len(results) == 3
    assert results[1].label is None and message in results[1].error and results[1].to_record()["label"] is None
    assert results[0] == assess(texts[0], model=tiny_model)
    assert results[2] == assess(texts[2], model=tiny_model)


def test_errors_raise_is_the_default_and_errors_is_checked(tiny_model):
    with pytest.raises(TypeError, match=r"texts\[1\] must be a str, not float"):
        list(assess_many(["ok", float("nan")], model=tiny_model))
    with pytest.raises(ValueError, match="errors must be 'raise' or 'mark', not 'ignore'"):
        assess_many(["ok"], model=tiny_model, errors="ignore")


def test_repr_is_valid_python_and_shows_the_review_flag(tiny_model):
    result = assess("Restez chez vous, lavez-vous les mains", model=tiny_model)
    text = repr(result)
    assert "needs_review=" in text
    ast_call = __import__("ast").parse(text, mode="eval")
    assert ast_call.body.func.id == "Assessment"


def test_limits_and_errors_are_importable_from_the_package():
    import tonecheck

    assert tonecheck.MAX_TEXT_LENGTH == MAX_TEXT_LENGTH
    for name in ("ModelIntegrityError", "ModelVersionError", "ModelFileError", "TrainingDataError"):
        assert issubclass(getattr(tonecheck, name), tonecheck.ToneCheckError)



def test_the_close_call_margin_is_the_models_unless_the_policy_gives_one(tiny_model):
    """A model stores the margin it chose on unseen sources; ReviewPolicy(min_margin=...) overrides it."""
    import dataclasses

    from tonecheck.engine import Engine
    from tonecheck.results import ReviewPolicy
    from tonecheck.runtime import Model

    engine = tiny_model.engine
    wide = Engine(engine.space, dataclasses.replace(engine.scorer, review_margin=1.0), engine.reading)
    model = Model(wide, tiny_model.metadata, tiny_model.path)
    text = "Merci aux soignants, restez chez vous"
    lenient = ReviewPolicy(min_confidence=0.0, min_in_scope=0.0)
    assert "close-call" in assess(text, model=model, review=lenient).review_reasons
    assert "close-call" not in assess(text, model=model, review=dataclasses.replace(lenient, min_margin=0.0)).review_reasons

def test_close_calls_are_flagged_by_the_margin(tiny_model):
    from tonecheck import ReviewPolicy

    text = "Restez chez vous, lavez-vous les mains"
    everything = assess(text, model=tiny_model, review=ReviewPolicy(min_margin=1.0, min_confidence=0.0))
    assert everything.needs_review and "close-call" in everything.review_reasons
    nothing = assess(text, model=tiny_model, review=ReviewPolicy(min_margin=0.0, min_confidence=0.0, min_in_scope=0.0))
    assert "close-call" not in nothing.review_reasons and "unsure" not in nothing.review_reasons
    assert everything.scores == nothing.scores  # the policy changes the flag, never the verdict


def test_per_label_thresholds_send_a_label_to_review(tiny_model):
    from tonecheck import ReviewPolicy

    text = "Restez chez vous et profitez de -30 % avec le code RESTEZCHEZVOUS"
    label = assess(text, model=tiny_model).label.value
    strict = ReviewPolicy(min_margin=0.0, min_confidence=0.0, label_thresholds={label: 1.0})
    assert "unsure" in assess(text, model=tiny_model, review=strict).review_reasons
    many = list(assess_many([text, "Merci aux soignants"], model=tiny_model, review=strict))
    assert "unsure" in many[0].review_reasons


@pytest.mark.parametrize(
    "kwargs, message",
    [({"min_margin": 1.5}, "min_margin must be a number from 0 to 1"),
     ({"min_confidence": "high"}, "min_confidence must be a number"),
     ({"label_thresholds": {"toxic": 0.5}}, "unknown label 'toxic'"),
     ({"label_thresholds": {"tone-deaf": -1}}, r"label_thresholds\['tone-deaf'\] must be")],
)
def test_review_policy_refuses_bad_values(kwargs, message):
    from tonecheck import ReviewPolicy

    with pytest.raises(ValueError, match=message):
        ReviewPolicy(**kwargs)


def test_review_must_be_a_policy(tiny_model):
    with pytest.raises(TypeError, match=r"review must be a tonecheck\.ReviewPolicy, not dict"):
        assess("Merci", model=tiny_model, review={"min_margin": 0.1})


def test_assess_frame_adds_the_score_columns_and_keeps_bad_rows(tiny_model):
    pd = pytest.importorskip("pandas")
    from tonecheck.frames import assess_frame

    frame = pd.DataFrame({"id": [7, 8, 9], "caption": ["Merci aux soignants", float("nan"), "  "]}, index=[10, 11, 12])
    scored = assess_frame(frame, "caption", model=tiny_model)
    assert list(scored.index) == [10, 11, 12] and list(scored["id"]) == [7, 8, 9]
    assert scored.loc[10, "label"] == assess("Merci aux soignants", model=tiny_model).label.value
    assert scored.loc[11, "label"] is None and "blank cell" in scored.loc[11, "error"]
    assert "empty" in scored.loc[12, "error"]
    with pytest.raises(ValueError, match="already has column"):
        assess_frame(scored, "caption", model=tiny_model)
    with pytest.raises(KeyError, match="no column 'text'"):
        assess_frame(frame, model=tiny_model)


@pytest.mark.parametrize("sized", [True, False], ids=["list", "generator"])
def test_progress_bar_counts_every_post_and_changes_no_result(tiny_model, capsys, sized):
    texts = ["Merci aux soignants ❤️", "Nouveau drop ce soir 🔥 lien en bio", "Restez chez vous"] * 4
    quiet = list(assess_many(texts, model=tiny_model, batch_size=5))
    given = texts if sized else (t for t in texts)
    shown = list(assess_many(given, model=tiny_model, batch_size=5, progress=True))
    assert shown == quiet
    bar = capsys.readouterr().err
    assert "12/12" in bar if sized else "12 posts" in bar
