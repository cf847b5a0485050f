import json
import shutil

import pytest

from tonecheck import load_model
from tonecheck.errors import ModelFileError, ModelIntegrityError, ModelVersionError
from tonecheck.labels import LABELS
from tonecheck.model_folder import file_sha256, read_metadata
from tonecheck.training.fitted import TRUSTED_TYPES, read_model


def _file(folder, kind):
    """The path of a model's engine or estimators file, as its metadata names it."""
    files = read_metadata(folder)
    return files.engine_path if kind == "engine" else files.estimators_path


def _copy(src, dst):
    shutil.copytree(src, dst)
    return dst


def test_round_trip_gives_the_same_predictions(tiny_model, tiny_model_dir, tiny_posts):
    from tonecheck.assess import assess_many

    again = load_model(tiny_model_dir / "tonecheck.json")
    texts = [p.text for p in tiny_posts[:20]]
    assert [r.scores for r in assess_many(texts, model=tiny_model)] == [r.scores for r in assess_many(texts, model=again)]


def test_metadata_records_versions_labels_and_hash(tiny_model_dir):
    meta = json.loads((tiny_model_dir / "tonecheck.json").read_text())
    assert meta["schema_version"] == 2
    assert meta["labels"] == list(LABELS)
    assert set(meta["versions"]) >= {"tonecheck", "scikit-learn", "spacy", "spacy_model"}
    for kind in ("engine", "estimators"):
        assert meta[f"{kind}_sha256"] == file_sha256(tiny_model_dir / meta[f"{kind}_file"])
        assert meta[f"{kind}_file"] == f"tonecheck.{meta[f'{kind}_sha256'][:12]}.{'npz' if kind == 'engine' else 'skops'}"


def test_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(ModelFileError, match=r"model not found: .*nothing\.json does not exist"):
        load_model(tmp_path / "nothing.skops")


def test_missing_metadata_is_refused(tiny_model_dir, tmp_path):
    d = _copy(tiny_model_dir, tmp_path / "m")
    (d / "tonecheck.json").unlink()
    with pytest.raises(ModelFileError, match=r"tonecheck\.json does not exist"):
        load_model(d)


@pytest.mark.parametrize("kind", ["engine", "estimators"])
def test_truncated_file_is_refused(tiny_model_dir, tmp_path, kind):
    d = _copy(tiny_model_dir, tmp_path / "m")
    path = _file(d, kind)
    blob = path.read_bytes()
    path.write_bytes(blob[: len(blob) // 2])
    with pytest.raises(ModelIntegrityError, match="truncated or was modified"):
        load_model(d)


@pytest.mark.parametrize("kind", ["engine", "estimators"])
def test_modified_file_is_refused(tiny_model_dir, tmp_path, kind):
    d = _copy(tiny_model_dir, tmp_path / "m")
    path = _file(d, kind)
    blob = bytearray(path.read_bytes())
    blob[len(blob) // 2] ^= 0xFF
    path.write_bytes(bytes(blob))
    with pytest.raises(ModelIntegrityError, match="SHA-256"):
        load_model(d)


def test_missing_engine_file_is_a_clear_error(tiny_model_dir, tmp_path):
    d = _copy(tiny_model_dir, tmp_path / "m")
    engine = _file(d, "engine")
    engine.unlink()
    with pytest.raises(ModelFileError, match=f"model file not found: .*{engine.name}"):
        load_model(d)


def test_a_model_file_names_data_files_in_its_own_folder_only(tiny_model_dir, tmp_path):
    d = _copy(tiny_model_dir, tmp_path / "m")
    meta = json.loads((d / "tonecheck.json").read_text())
    meta["engine_file"] = "../elsewhere.npz"
    (d / "tonecheck.json").write_text(json.dumps(meta))
    with pytest.raises(ModelFileError, match="'engine_file' must be a file name in the model's folder"):
        load_model(d)


def test_a_calibrated_or_svm_model_is_refused_when_saved(tiny_posts, tmp_path):
    """Only a logistic regression is shipped (its engine is exact); the others stay comparable in
    training, and saving one says so before writing anything."""
    from tonecheck.training.config import TrainConfig
    from tonecheck.training.fitted import save_model
    from tonecheck.training.fitting import fit_model

    model = fit_model(tiny_posts, TrainConfig(char_ngrams=None, classifier="svm", calibration="sigmoid"))
    with pytest.raises(ValueError, match="only a logistic-regression model can be saved, not CalibratedClassifierCV"):
        save_model(model, tmp_path / "svm")
    assert not any(tmp_path.iterdir())


def test_a_schema_1_model_is_refused_with_how_to_retrain(tiny_model_dir, tmp_path):
    d = _copy(tiny_model_dir, tmp_path / "m")
    meta = json.loads((d / "tonecheck.json").read_text())
    meta["schema_version"] = 1
    (d / "tonecheck.json").write_text(json.dumps(meta))
    with pytest.raises(ModelVersionError, match="metadata schema 1 is not 2; retrain with `tonecheck train`"):
        load_model(d)


def test_saving_again_replaces_the_model_and_removes_the_old_files(tiny_model, tiny_model_dir, tmp_path):
    from tonecheck.training.fitted import save_model

    d = _copy(tiny_model_dir, tmp_path / "m")
    model, _ = read_model(d)
    old = read_metadata(d)
    model.review_threshold = 0.123  # another model: other metadata, another engine file
    save_model(model, d)
    new = read_metadata(d)
    assert new.engine_path != old.engine_path and not old.engine_path.exists()
    assert new.estimators_path != old.estimators_path and not old.estimators_path.exists()
    assert sorted(p.name for p in d.iterdir()) == sorted(["tonecheck.json", new.engine_path.name, new.estimators_path.name])
    assert load_model(d).engine.review_threshold == 0.123


def test_a_save_killed_before_its_metadata_leaves_the_old_model_loadable(tiny_model_dir, tmp_path, monkeypatch):
    """The JSON is the commit point: the data files are written under new names first, so a
    retraining that dies before it leaves the model in place whole."""
    from tonecheck import model_folder
    from tonecheck.training.fitted import save_model

    d = _copy(tiny_model_dir, tmp_path / "m")
    model, _ = read_model(d)
    model.review_threshold = 0.321
    real_write = model_folder._atomic_write

    def die_at_the_json(path, data):
        if path.suffix == ".json":
            raise KeyboardInterrupt("killed")
        real_write(path, data)

    monkeypatch.setattr(model_folder, "_atomic_write", die_at_the_json)
    with pytest.raises(KeyboardInterrupt):
        save_model(model, d)
    monkeypatch.undo()
    assert load_model(d).engine.review_threshold == read_model(tiny_model_dir)[0].review_threshold
    assert len(list(d.glob("*.npz"))) == len(list(d.glob("*.skops"))) == 2  # strays, removed by the next save
    save_model(model, d)
    assert len(list(d.glob("*.npz"))) == len(list(d.glob("*.skops"))) == 1


@pytest.mark.parametrize("lib", ["scikit-learn", "spacy"])
def test_other_library_minor_version_is_refused_with_how_to_retrain(tiny_model_dir, tmp_path, lib):
    d = _copy(tiny_model_dir, tmp_path / "m")
    meta = json.loads((d / "tonecheck.json").read_text())
    meta["versions"][lib] = "0.1.0"
    (d / "tonecheck.json").write_text(json.dumps(meta))
    with pytest.raises(ModelVersionError, match=rf"built with {lib} 0\.1\.0.*tonecheck train"):
        load_model(d)


def test_other_labels_are_refused(tiny_model_dir, tmp_path):
    d = _copy(tiny_model_dir, tmp_path / "m")
    meta = json.loads((d / "tonecheck.json").read_text())
    meta["labels"] = ["positive", "negative"]
    (d / "tonecheck.json").write_text(json.dumps(meta))
    with pytest.raises(ModelVersionError, match="predicts labels"):
        load_model(d)


def test_untrusted_types_are_refused_even_with_a_valid_hash(tmp_path):
    """A file holding any type outside the trusted list never loads, whatever its metadata says."""
    import os

    import skops.io as sio
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import FunctionTransformer

    path = tmp_path / "evil.skops"
    sio.dump(Pipeline([("f", FunctionTransformer(os.system))]), path)
    from tonecheck.model_folder import library_versions

    meta = {"schema_version": 2, "versions": library_versions(), "labels": list(LABELS),
            "estimators_file": "evil.skops", "estimators_sha256": file_sha256(path),
            "engine_file": "none.npz", "engine_sha256": "0"}
    (tmp_path / "evil.json").write_text(json.dumps(meta))
    with pytest.raises(ModelFileError, match="cannot load"):
        read_model(tmp_path / "evil.json")
    assert "sklearn.pipeline.Pipeline" not in TRUSTED_TYPES


def test_model_must_be_a_loaded_model(tiny_posts):
    from tonecheck import assess

    with pytest.raises(TypeError, match="model must be a tonecheck Model"):
        assess("bonjour à tous", model="models/tonecheck.skops")


def test_engine_probabilities_equal_scikit_learn(tiny_model, tiny_posts):
    """The engine (what assess runs) gives scikit-learn's probabilities on the featurizer's features."""
    import numpy as np

    tm = read_model(tiny_model.path)[0]
    texts = [p.text for p in tiny_posts[:50]]
    X = tm.featurizer.transform(texts)
    order = [list(tm.classifier.classes_).index(lab) for lab in LABELS]
    batch = tiny_model.engine.run(texts)
    assert np.allclose(batch.proba, tm.classifier.predict_proba(X)[:, order])
    assert np.allclose(batch.in_scope, tm.scope.predict_proba(X)[:, 1])


def test_fast_probabilities_equal_scikit_learn(tiny_model, tiny_posts):
    """FittedModel computes the logistic probabilities itself; they must equal scikit-learn's."""
    import numpy as np

    tm = read_model(tiny_model.path)[0]
    X = tm.featurizer.transform([p.text for p in tiny_posts[:50]])
    order = [list(tm.classifier.classes_).index(lab) for lab in LABELS]
    assert np.allclose(tm.predict_proba(X), tm.classifier.predict_proba(X)[:, order])
    assert np.allclose(tm.scope_proba(X), tm.scope.predict_proba(X)[:, 1])


def _tampered_copy(tiny_model_dir, tmp_path, change):
    """A copy of the tiny model whose engine arrays were changed by ``change(dict)`` and whose
    hashes were updated, as someone who can write the model folder would do."""
    import hashlib
    import io
    import json
    import shutil

    import numpy as np

    folder = tmp_path / "tampered"
    shutil.copytree(tiny_model_dir, folder)
    npz_path = _file(folder, "engine")
    with np.load(npz_path, allow_pickle=False) as npz:
        arrays = {k: npz[k] for k in npz.files}
    change(arrays)
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **arrays)
    npz_path.write_bytes(buffer.getvalue())
    meta_path = folder / "tonecheck.json"
    meta = json.loads(meta_path.read_text())
    meta["engine_sha256"] = hashlib.sha256(buffer.getvalue()).hexdigest()  # (the name keeps the old hash)
    meta_path.write_text(json.dumps(meta))
    return folder


@pytest.mark.parametrize("value", [float("nan"), float("inf")])
def test_a_model_with_non_finite_weights_is_refused(tiny_model_dir, tmp_path, value):
    from tonecheck import ModelFileError, load_model

    def poison(arrays):
        arrays["scorer.coef"] = arrays["scorer.coef"].copy()
        arrays["scorer.coef"][0, 0] = value

    with pytest.raises(ModelFileError, match=r"scorer\.coef holds NaN or infinite values"):
        load_model(_tampered_copy(tiny_model_dir, tmp_path, poison))


def test_a_model_with_a_foreign_token_match_pattern_is_refused(tiny_model_dir, tmp_path):
    import numpy as np
    import srsly

    from tonecheck import ModelFileError, load_model

    def catastrophic(arrays):
        cases = srsly.msgpack_loads(arrays["reading.special_cases"].tobytes())
        cases["token_match"] = [*cases.get("token_match", []), "(a+)+$"]
        arrays["reading.special_cases"] = np.frombuffer(srsly.msgpack_dumps(cases), dtype=np.uint8)

    with pytest.raises(ModelFileError, match=r"1 token_match pattern.* not spaCy's French patterns"):
        load_model(_tampered_copy(tiny_model_dir, tmp_path, catastrophic))


def test_a_model_with_other_tokenizer_rules_is_refused(tiny_model_dir, tmp_path):
    import numpy as np

    from tonecheck import ModelFileError, load_model

    def other_rules(arrays):
        arrays["reading.tokenizer_rules"] = np.frombuffer(arrays["reading.tokenizer_rules"].tobytes() + b" ",
                                                          dtype=np.uint8)

    with pytest.raises(ModelFileError, match=r"tokenizer rules .* are not those of a known spaCy model"):
        load_model(_tampered_copy(tiny_model_dir, tmp_path, other_rules))


def test_a_decompression_bomb_is_refused_before_it_is_inflated(tiny_model_dir, tmp_path):
    import numpy as np

    from tonecheck import ModelFileError, load_model

    def bomb(arrays):
        arrays["padding"] = np.zeros(300 * 2**20, dtype=np.uint8)  # 300 MB of zeros, ~300 kB compressed

    with pytest.raises(ModelFileError, match=r"array padding.npy would take 314,5\d\d,\d\d\d bytes; at most 268,435,456"):
        load_model(_tampered_copy(tiny_model_dir, tmp_path, bomb))


@pytest.mark.parametrize("key, value", [("versions", "1.0"), ("labels", "tone-deaf"), ("engine_file", 3),
                                        ("review_threshold", "high"), ("versions", {"spacy": 3})])
def test_malformed_metadata_is_a_model_file_error(tiny_model_dir, tmp_path, key, value):
    import json
    import shutil

    from tonecheck import ModelFileError, load_model

    folder = tmp_path / "model"
    shutil.copytree(tiny_model_dir, folder)
    meta = json.loads((folder / "tonecheck.json").read_text())
    meta[key] = value
    (folder / "tonecheck.json").write_text(json.dumps(meta))
    with pytest.raises(ModelFileError, match=f"'{key}' must"):
        load_model(folder)
