"""tonecheck.training.train: thresholds, metrics, classifiers and `train_and_save` with cross-validation."""

from __future__ import annotations

import csv
import json
from dataclasses import replace

import numpy as np
import pytest

from tonecheck.errors import ModelFileError
from tonecheck.labels import LABELS, OUT_OF_SCOPE
from tonecheck.training.config import TrainConfig
from tonecheck.training.fitting import _base_classifier, cross_val_predictions
from tonecheck.training.metrics import classification_report, expected_calibration_error
from tonecheck.training.thresholds import IN_SCOPE_FLAG_BUDGET, Thresholds, choose_thresholds, flagged
from tonecheck.training.train import train_and_save

# Plain words only: the quickest configuration that still goes through every step.
QUICK = TrainConfig(tokenizer="plain", lemmas=False, char_ngrams=None, cues=False)


def _one_hot(labels, confidence=0.9):
    rest = (1 - confidence) / (len(LABELS) - 1)
    proba = np.full((len(labels), len(LABELS)), rest)
    for i, lab in enumerate(labels):
        proba[i, LABELS.index(lab)] = confidence
    return proba


def test_scope_threshold_flags_at_most_the_budget_of_in_scope_posts():
    y = np.array(["supportive"] * 100 + [OUT_OF_SCOPE] * 20)
    scope = np.concatenate([np.linspace(0.0, 0.99, 100), np.zeros(20)])
    proba = _one_hot(["supportive"] * 100 + ["supportive"] * 20)
    scope_threshold = choose_thresholds(y, proba, scope).scope
    assert (scope[:100] < scope_threshold).mean() <= IN_SCOPE_FLAG_BUDGET
    # the largest candidate within the budget: the next one (0.01 higher) flags more than the budget
    assert (scope[:100] < scope_threshold + 0.01).mean() > IN_SCOPE_FLAG_BUDGET


def test_the_three_thresholds_keep_the_whole_flag_within_the_budget():
    """Close calls alone would flag 30 % of in-scope posts: the margin gives way so that
    needs_review as a whole stays within the budget and still flags most out-of-scope posts."""
    y = np.array(["supportive"] * 100 + [OUT_OF_SCOPE] * 50)
    close = np.tile([0.45, 0.40, 0.10, 0.05], (30, 1))  # right, but a close call at any margin > 0.05
    proba = np.vstack([close, _one_hot(["supportive"] * 70), _one_hot(["supportive"] * 50)])
    scope = np.concatenate([np.linspace(0.05, 0.99, 100), np.linspace(0.0, 0.3, 50)])
    chosen = choose_thresholds(y, proba, scope)
    flags = flagged(proba, scope, chosen)
    assert flags[:100].mean() <= IN_SCOPE_FLAG_BUDGET
    assert chosen.margin <= 0.05
    # as many out-of-scope posts as the scope threshold alone can catch within the budget
    scope_only = max(t for t in np.linspace(0.01, 0.95, 95) if (scope[:100] < t).mean() <= IN_SCOPE_FLAG_BUDGET)
    assert flags[100:].mean() >= (scope[100:] < scope_only).mean()
    assert flags[100:].mean() > flagged(proba, scope, Thresholds(chosen.review, 0.01, 0.2))[100:].mean()


def test_scope_threshold_is_chosen_on_real_posts_when_there_are_30():
    y = np.array(["supportive"] * 80 + [OUT_OF_SCOPE] * 10)
    # authored in-scope posts look in scope (0.99); real ones spread over [0, 1)
    scope = np.concatenate([np.full(40, 0.99), np.linspace(0.0, 0.99, 40), np.zeros(10)])
    real = np.array([False] * 40 + [True] * 40 + [False] * 10)
    proba = _one_hot(["supportive"] * 90)
    on_all = choose_thresholds(y, proba, scope).scope
    on_real = choose_thresholds(y, proba, scope, real).scope
    assert on_real < on_all
    assert (scope[40:80] < on_real).mean() <= IN_SCOPE_FLAG_BUDGET


def test_without_none_posts_the_scope_threshold_stays_one_half():
    y = np.array(["supportive", "promotional"] * 10)
    proba = _one_hot(list(y))
    assert choose_thresholds(y, proba, np.zeros(20)).scope == 0.5


def test_review_threshold_is_where_predictions_start_being_right_half_the_time():
    # 20 posts at confidence 0.30, all wrong; 20 at 0.60, all right
    y = np.array(["supportive"] * 40)
    proba = np.vstack([_one_hot(["promotional"] * 20, confidence=0.30), _one_hot(["supportive"] * 20, confidence=0.60)])
    review_threshold = choose_thresholds(y, proba, np.ones(40)).review
    assert 0.5 < review_threshold <= 0.65  # the first band (±0.05) holding the 0.60 posts; not 0.30


def test_review_threshold_defaults_to_0_4_when_no_band_is_right():
    y = np.array(["supportive"] * 20)
    proba = _one_hot(["promotional"] * 20)
    assert choose_thresholds(y, proba, np.ones(20)).review == 0.4


def test_classification_report_of_perfect_predictions():
    y = ["supportive", "promotional", "tone-deaf", "preventive", OUT_OF_SCOPE]
    proba = _one_hot(["supportive", "promotional", "tone-deaf", "preventive", "supportive"], confidence=1.0)
    rep = classification_report(y, proba)
    assert rep["n"] == 4  # the `none` post is left out
    assert rep["macro_f1"] == rep["accuracy"] == 1.0
    assert rep["confusion"] == np.eye(4, dtype=int).tolist()
    assert rep["ece"] == pytest.approx(0.0)
    assert rep["per_label"]["tone-deaf"] == {"precision": 1.0, "recall": 1.0, "f1": 1.0, "support": 1}


def test_calibration_error_is_the_gap_between_confidence_and_accuracy():
    y = ["supportive"] * 10
    proba = np.vstack([_one_hot(["supportive"] * 5, 0.8), _one_hot(["promotional"] * 5, 0.8)])
    assert expected_calibration_error(y, proba) == pytest.approx(0.3)  # 80 % sure, 50 % right
    assert expected_calibration_error([], np.zeros((0, 4))) == 0.0


@pytest.mark.parametrize("classifier, name", [("logreg", "LogisticRegression"), ("svm", "LinearSVC"),
                                              ("sgd", "SGDClassifier")])
def test_each_classifier_weights_tone_deaf(classifier, name):
    clf = _base_classifier(TrainConfig(classifier=classifier, tone_deaf_weight=2.0))
    assert type(clf).__name__ == name
    assert clf.class_weight["tone-deaf"] == 2.0 and clf.class_weight["supportive"] == 1.0


def test_an_unknown_classifier_is_refused():
    with pytest.raises(ValueError, match="classifier must be 'logreg', 'svm' or 'sgd', not 'forest'"):
        _base_classifier(TrainConfig(classifier="forest"))


def test_cross_validation_predicts_every_post_out_of_fold(tiny_posts):
    proba, scope, seconds = cross_val_predictions(tiny_posts, QUICK, folds=3)
    assert proba.shape == (len(tiny_posts), len(LABELS)) and len(seconds) == 3
    assert np.allclose(proba.sum(axis=1), 1.0)
    assert ((scope > 0) & (scope < 1)).all()  # every post was in a held-out fold once
    y = np.array([p.label for p in tiny_posts])
    assert classification_report(y, proba)["macro_f1"] > 0.4  # far above chance (0.25)


@pytest.fixture(scope="module")
def labelled_csv(tiny_posts, tmp_path_factory):
    path = tmp_path_factory.mktemp("train-data") / "posts.csv"
    with open(path, "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(["text", "label", "split"])
        w.writerows([[p.text, p.label, p.split] for p in tiny_posts])
        w.writerow([tiny_posts[0].text, tiny_posts[0].label, "test"])  # a test-split row: left out
    return path


def test_train_and_save_cross_validates_and_stores_thresholds(labelled_csv, tmp_path):
    said: list[str] = []
    model = train_and_save(data=[str(labelled_csv)], real_labels=str(tmp_path / "absent.csv"), real_texts=None,
                           output=str(tmp_path / "m"), folds=3, config=QUICK, say=said.append)
    meta = json.loads((tmp_path / "m" / "tonecheck.json").read_text(encoding="utf-8"))
    assert any(s.startswith("warning: real posts skipped") for s in said)
    assert any("3-fold cross-validation" in s for s in said)
    assert meta["trained_on"]["posts"] == 230 and meta["trained_on"]["labels"][OUT_OF_SCOPE] == 30
    assert set(meta["metrics"]) == {"cv_all", "cv_authored", "cv_scope"}  # no real posts: no cv_real
    assert meta["metrics"]["cv_all"]["macro_f1"] > 0.4
    assert meta["metrics"]["cv_scope"]["review_threshold"] == model.review_threshold
    assert meta["metrics"]["cv_scope"]["scope_threshold"] == model.scope_threshold
    assert "all" in meta["metrics"]["cv_scope"]


def test_train_and_save_does_not_overwrite_without_force(labelled_csv, tmp_path):
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "tonecheck.json").write_text("{}", encoding="utf-8")
    with pytest.raises(ModelFileError, match=r"tonecheck\.json exists; pass --force to overwrite it"):
        train_and_save(data=[str(labelled_csv)], real_labels=None, real_texts=None, output=str(tmp_path / "m"),
                       folds=0, config=QUICK, say=lambda _: None)


def test_a_calibrated_svm_gives_probabilities_and_mean_member_weights(tiny_posts):
    from tonecheck.training.fitting import fit_model

    model = fit_model(tiny_posts, replace(QUICK, classifier="svm", calibration="sigmoid"), with_scope=False)
    X = model.featurizer.transform([p.text for p in tiny_posts[:20]])
    proba = model.predict_proba(X)
    assert proba.shape == (20, len(LABELS)) and np.allclose(proba.sum(axis=1), 1.0)
    assert np.array_equal(model.scope_proba(X), np.ones(20))  # no scope detector fitted
    weights = model.linear_weights()
    assert weights.shape == (len(LABELS), X.shape[1])
    assert np.allclose(weights.sum(axis=0), 0.0)  # centred over the labels
    assert model.linear_weights() is weights  # computed once
