"""`tonecheck evaluate FILE`: the split column, and a warning when it scores training texts."""

from __future__ import annotations

import argparse
import json
import shutil

import pytest


def _args(path, model, split="test"):
    return argparse.Namespace(data=str(path), text_column="text", label_column="label", model=str(model), split=split)


@pytest.fixture()
def labelled(tmp_path):
    path = tmp_path / "mine.csv"
    path.write_text(
        "text,label,split\n"
        "Merci aux soignants,supportive,train\n"
        "Lavez-vous les mains,preventive,test\n"
        "Nouveau drop ce soir lien en bio,promotional,test\n",
        encoding="utf-8",
    )
    return path


def test_evaluate_uses_the_test_split_by_default(labelled, tiny_model_dir, capsys):
    from tonecheck.training.evaluation import evaluate_file

    assert evaluate_file(_args(labelled, tiny_model_dir)) == 0
    out = capsys.readouterr().out
    assert "evaluating the 2 of 3 rows whose split is 'test'" in out and "(n=2)" in out
    evaluate_file(_args(labelled, tiny_model_dir, split="all"))
    assert "(n=3)" in capsys.readouterr().out


def test_evaluate_warns_when_texts_were_trained_on(labelled, tiny_model_dir, tmp_path, capsys):
    from tonecheck.training.evaluation import evaluate_file, text_key

    model = tmp_path / "model"
    shutil.copytree(tiny_model_dir, model)
    meta = json.loads((model / "tonecheck.json").read_text())
    meta["trained_on"] = {"text_keys": [text_key("lavez-vous  les MAINS")]}
    (model / "tonecheck.json").write_text(json.dumps(meta))
    evaluate_file(_args(labelled, model))
    assert "warning: 1 of 2 evaluated texts were in the model's training data" in capsys.readouterr().out


def test_replacing_the_shipped_model_with_less_data_is_refused(monkeypatch, tmp_path):
    from tonecheck import TrainingDataError
    from tonecheck.model_folder import default_model_path
    from tonecheck.training import train as training
    from tonecheck.training.corpus import Post

    posts = [Post(f"Merci aux soignants numéro {i}", lab) for i, lab in enumerate(["supportive"] * 3)]
    with pytest.raises(TrainingDataError, match=r"the shipped model was trained on .* posts, this run has 3"):
        training._refuse_less_data(posts, default_model_path().resolve())


def test_the_report_recommends_nothing_without_real_posts():
    from tonecheck.training.report import _recommendable, _selection_score

    with_real = [{"real_cv_f1": 0.6, "authored_cv_f1": 0.9, "loco_mean": 0.9, "tone_deaf_recall": 0.9}]
    without = [{"real_cv_f1": float("nan"), "loco_mean": 0.9, "tone_deaf_recall": 0.9},
               {"real_cv_f1": float("nan"), "loco_mean": 0.5, "tone_deaf_recall": 0.5}]
    assert _recommendable(with_real) and _selection_score(with_real[0]) > 0
    assert not _recommendable(without)


def test_review_thresholds_are_chosen_on_unseen_real_sources(tiny_posts):
    """With two real sources or more, training picks its thresholds on the leave-one-source-out
    predictions, records those figures, and keeps the out-of-scope flag within its budget
    of in-scope posts there."""
    from dataclasses import replace

    from tonecheck.training.config import TrainConfig
    from tonecheck.training.fitting import prepare
    from tonecheck.training.thresholds import IN_SCOPE_FLAG_BUDGET
    from tonecheck.training.train import _thresholds_on_unseen_sources

    posts = [replace(p, meta={**p.meta, "origin": "real", "real_source": f"feed{i % 2}"}) if i % 3 == 0 else p
             for i, p in enumerate(tiny_posts)]
    config = TrainConfig(char_ngrams=None, lemmas=False)
    metrics: dict = {}
    said: list[str] = []
    chosen = _thresholds_on_unseen_sources(posts, config, prepare([p.text for p in posts], config), said.append, metrics)
    assert chosen is not None
    assert set(metrics["loso"]["sources"]) == {"feed0", "feed1"}
    assert metrics["loso"]["pooled"]["in_scope_flagged"] <= IN_SCOPE_FLAG_BUDGET  # the whole review flag
    assert chosen._asdict() == metrics["loso"]["thresholds"]
    assert "unseen real sources (pooled): macro-F1" in said[-1]
    assert _thresholds_on_unseen_sources(tiny_posts, config, prepare([p.text for p in tiny_posts], config),
                                         said.append, {}) is None  # no real source: the CV thresholds stay


def test_training_drops_duplicates_before_cross_validation_and_says_so(tiny_posts, tmp_path):
    """10 copies of a post would leak between folds and inflate the figures: training keeps one,
    warns, and trains on the posts left."""
    import csv

    from tonecheck.training.config import TrainConfig
    from tonecheck.training.train import train_and_save

    data = tmp_path / "posts.csv"
    rows = [(p.text, p.label) for p in tiny_posts] + [(tiny_posts[0].text, tiny_posts[0].label)] * 10
    with open(data, "w", encoding="utf-8", newline="") as f:
        csv.writer(f).writerows([("text", "label"), *rows])
    said: list[str] = []
    train_and_save(data=[str(data)], real_labels=None, real_texts=None, output=str(tmp_path / "model"), folds=2,
                   say=said.append, config=TrainConfig(char_ngrams=None))
    assert any("10 duplicate post(s) (same text and label) dropped before cross-validation" in s for s in said)
    assert any(s.startswith(f"training on {len(tiny_posts)} posts") for s in said)
