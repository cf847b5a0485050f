"""The prediction engine: saved and loaded without pickle, the same answers alone or in a batch."""

import numpy as np
import pytest

from tonecheck.engine_file import (
    STORED,
    engine_from_bytes,
    engine_to_bytes,
    stored_fields,
)
from tonecheck.model_folder import read_metadata


def test_engine_round_trips_through_its_npz(tiny_model, tiny_posts):
    engine = tiny_model.engine
    again = engine_from_bytes(engine_to_bytes(engine))
    texts = [p.text for p in tiny_posts[:30]]
    a, b = engine.run(texts), again.run(texts)
    assert np.array_equal(a.proba, b.proba)
    assert np.array_equal(a.in_scope, b.in_scope)
    assert all(np.array_equal(x, y) for x, y in zip(a.token_weights, b.token_weights, strict=True))
    assert (again.review_threshold, again.scope_threshold, again.review_margin) == (
        engine.review_threshold, engine.scope_threshold, engine.review_margin)


def test_a_file_without_a_review_margin_keeps_the_margin_of_before(tiny_model, tmp_path):
    """review_margin was added within format 2: a file written before it loads with 0.2."""
    import io
    import json

    with np.load(io.BytesIO(engine_to_bytes(tiny_model.engine)), allow_pickle=False) as npz:
        arrays = {k: npz[k] for k in npz.files}
    params = json.loads(arrays["params"].tobytes().decode())
    del params["scorer"]["review_margin"]
    arrays["params"] = np.frombuffer(json.dumps(params).encode(), dtype=np.uint8)
    np.savez(tmp_path / "old.npz", **arrays)
    assert engine_from_bytes(tmp_path / "old.npz").review_margin == 0.2


def test_npz_holds_no_pickled_objects(tiny_model_dir):
    with np.load(read_metadata(tiny_model_dir).engine_path, allow_pickle=False) as npz:
        assert all(npz[name].dtype != object for name in npz.files)


def test_posts_without_features_in_a_batch(tiny_model):
    """Posts no column fires for get the intercept-only answer, alone or among others."""
    engine = tiny_model.engine
    texts = ["⠀⠀", "Merci aux soignants !", "ⵣⵣⵣ", "Code CONFINEMENT20 : -30 % sur tout le site"]
    batch = engine.run(texts)
    assert np.allclose(batch.proba.sum(axis=1), 1.0)
    for i, text in enumerate(texts):
        alone = engine.run([text])
        assert np.array_equal(alone.proba[0], batch.proba[i])
        assert np.array_equal(alone.token_weights[0], batch.token_weights[i])
    intercept_only = np.exp(engine.scorer.intercept - engine.scorer.intercept.max())
    assert np.allclose(batch.proba[0], intercept_only / intercept_only.sum())


def test_a_wrong_format_or_label_set_is_refused(tiny_model, tmp_path):
    import io
    import json

    blob = engine_to_bytes(tiny_model.engine)
    with np.load(io.BytesIO(blob), allow_pickle=False) as npz:
        arrays = {k: npz[k] for k in npz.files}
    params = json.loads(arrays["params"].tobytes().decode())
    params["labels"] = ["a", "b"]
    arrays["params"] = np.frombuffer(json.dumps(params).encode(), dtype=np.uint8)
    path = tmp_path / "bad.npz"
    np.savez(path, **arrays)
    with pytest.raises(ValueError, match="labels"):
        engine_from_bytes(path)


def test_engine_pickles_for_spawned_workers_without_its_caches(tiny_model, tiny_posts):
    import pickle

    engine = tiny_model.engine
    texts = [p.text for p in tiny_posts[:10]]
    before = engine.run(texts).proba
    again = pickle.loads(pickle.dumps(engine))
    assert again.space._char_cache == {}
    assert np.array_equal(again.run(texts).proba, before)


def test_features_are_the_same_when_the_word_cache_forgets(tiny_model, tiny_posts, monkeypatch):
    """The character n-gram cache drops its oldest words past its limit, never a result."""
    from tonecheck.space import FeatureSpace

    engine = tiny_model.engine
    texts = [p.text for p in tiny_posts]
    engine.space.clear_cache()
    expected = engine.run(texts)
    monkeypatch.setattr(FeatureSpace, "_CACHE_LIMIT", 30)
    engine.space.clear_cache()
    for i in range(0, len(texts), 7):
        part = engine.run(texts[i : i + 7])
        assert np.allclose(part.proba, expected.proba[i : i + 7], rtol=0, atol=1e-12)
        assert part.words == expected.words[i : i + 7]
        assert len(engine.space._char_cache) <= max(30, sum(len(t.split()) for t in texts[i : i + 7]))
    engine.space.clear_cache()


def test_the_file_declaration_names_every_field_it_must_keep():
    """Each stored class's init fields are declared in STORED, so none is written and not read."""
    assert {c: set(fields) for c, (_, fields) in STORED.items()} == stored_fields()
    from tonecheck.engine_file import _PARAM_TYPES

    params = {name for _, fields in STORED.values() for name, kind in fields.items() if kind == "param"}
    assert params == set(_PARAM_TYPES)  # each JSON parameter has the type loading checks


def test_a_format_1_engine_is_refused_with_how_to_retrain(tiny_model, tmp_path):
    import io
    import json

    from tonecheck.errors import ModelVersionError

    with np.load(io.BytesIO(engine_to_bytes(tiny_model.engine)), allow_pickle=False) as npz:
        arrays = {k: npz[k] for k in npz.files}
    arrays["params"] = np.frombuffer(json.dumps({"format": 1}).encode(), dtype=np.uint8)
    np.savez(tmp_path / "old.npz", **arrays)
    with pytest.raises(ModelVersionError, match=r"engine format 1 is not 2.*tonecheck train"):
        engine_from_bytes(tmp_path / "old.npz")


def test_mismatched_shapes_are_refused(tiny_model, tmp_path):
    import io

    with np.load(io.BytesIO(engine_to_bytes(tiny_model.engine)), allow_pickle=False) as npz:
        arrays = {k: npz[k] for k in npz.files}
    arrays["scorer.coef"] = arrays["scorer.coef"][:, :-1]
    np.savez(tmp_path / "cut.npz", **arrays)
    with pytest.raises(ValueError, match=r"scope_coef has .* weights for .* features|weights for .* features"):
        engine_from_bytes(tmp_path / "cut.npz")


def test_text_rules_are_stored_and_used(tiny_posts):
    """A model trained on text as written keeps its rule set: URLs are not placeholders there."""
    from tonecheck.training.config import TrainConfig
    from tonecheck.training.export import engine_of
    from tonecheck.training.fitting import fit_model

    model = fit_model(tiny_posts, TrainConfig(char_ngrams=None, text_rules="plain"), with_scope=False)
    engine = engine_from_bytes(engine_to_bytes(engine_of(model)))
    assert engine.reading.text_rules == ("strip_invisible", "strip_controls", "collapse_whitespace")
    text = "Merci à tous https://t.co/x #MerciAuxSoignants"
    assert engine.analyse([text])[0].normalised == text
    assert np.array_equal(engine.run([text]).proba, engine_of(model).run([text]).proba)
