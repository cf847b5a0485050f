"""The prediction engine: saved and loaded without pickle, the same answers alone or in a batch."""

import numpy as np
import pytest

from tonecheck.engine import Engine


def test_engine_round_trips_through_its_npz(tiny_model, tiny_posts):
    engine = tiny_model.engine
    again = Engine.from_bytes(engine.to_bytes())
    texts = [p.text for p in tiny_posts[:30]]
    a, b = engine.run(texts), again.run(texts)
    assert np.array_equal(a.proba, b.proba)
    assert np.array_equal(a.in_scope, b.in_scope)
    assert all(np.array_equal(x, y) for x, y in zip(a.token_weights, b.token_weights))
    assert (again.review_threshold, again.scope_threshold) == (engine.review_threshold, engine.scope_threshold)


def test_npz_holds_no_pickled_objects(tiny_model_dir):
    with np.load(tiny_model_dir / "tonecheck.npz", allow_pickle=False) as npz:
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
    intercept_only = np.exp(engine.intercept - engine.intercept.max())
    assert np.allclose(batch.proba[0], intercept_only / intercept_only.sum())


def test_a_wrong_format_or_label_set_is_refused(tiny_model, tmp_path):
    import io
    import json

    blob = tiny_model.engine.to_bytes()
    with np.load(io.BytesIO(blob), allow_pickle=False) as npz:
        arrays = {k: npz[k] for k in npz.files}
    params = json.loads(arrays["params"].tobytes().decode())
    params["labels"] = ["a", "b"]
    arrays["params"] = np.frombuffer(json.dumps(params).encode(), dtype=np.uint8)
    path = tmp_path / "bad.npz"
    np.savez(path, **arrays)
    with pytest.raises(ValueError, match="labels"):
        Engine.from_bytes(path)


def test_engine_pickles_for_spawned_workers_without_its_caches(tiny_model, tiny_posts):
    import pickle

    engine = tiny_model.engine
    texts = [p.text for p in tiny_posts[:10]]
    before = engine.run(texts).proba
    again = pickle.loads(pickle.dumps(engine))
    assert again._char_cache == {}
    assert np.array_equal(again.run(texts).proba, before)
