"""tonecheck.training.report: the full evaluation report, on the tiny corpus and the tiny model."""

from __future__ import annotations

import argparse
import json
import math
from concurrent.futures import Future
from dataclasses import replace

import pytest

from tonecheck.training import report
from tonecheck.training.corpus import Post


class _InProcess:
    """ProcessPoolExecutor's interface, run in this process (so coverage and monkeypatches see it)."""

    def __init__(self, max_workers: int) -> None:
        self.max_workers = max_workers

    def __enter__(self) -> _InProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def submit(self, fn, *args):
        done: Future = Future()
        done.set_result(fn(*args))
        return done


def _posts(tiny_posts, with_real: bool) -> list[Post]:
    """The tiny corpus with one post in five in the test split and, if asked, one in three real;
    two crises, alternating, so that leaving one out keeps enough of every label to train on."""
    out = []
    for i, p in enumerate(tiny_posts):
        meta = {**p.meta, "crisis": report.CRISES[i % 2]}
        if with_real and i % 3 == 0:
            meta.update(origin="real", id=f"r{i}", confidence="high")
        out.append(replace(p, split="test" if i % 5 == 0 else "train", meta=meta))
    return out


@pytest.mark.parametrize("with_real", [True, False], ids=["real posts", "authored only"])
def test_write_report_on_the_tiny_corpus(tiny_posts, tiny_model_dir, tmp_path, monkeypatch, capsys, with_real):
    posts = _posts(tiny_posts, with_real)
    monkeypatch.setattr(report, "load_training_posts", lambda *args, **kwargs: posts)
    monkeypatch.setattr(report, "ProcessPoolExecutor", _InProcess)
    monkeypatch.setattr(report, "QUICK", ("a",))  # words only, no spaCy: the quickest candidate
    args = argparse.Namespace(report=str(tmp_path / "r"), real_texts="", quick=True, model=str(tiny_model_dir))

    assert report.write_report(args) == 0

    out = capsys.readouterr().out
    md = (tmp_path / "r" / "evaluation.md").read_text(encoding="utf-8")
    summary = json.loads((tmp_path / "r" / "evaluation.json").read_text(encoding="utf-8"))
    assert summary["recommended"] == "a" and [c["name"] for c in summary["candidates"]] == ["a"]
    assert not any(k.startswith("oof_") for k in summary["candidates"][0])
    assert summary["test_authored"]["n"] > 0
    assert md.startswith("# tonecheck evaluation report")
    assert "| a **←** | words, no spaCy | logistic regression |" in md
    assert "### Leave-one-crisis-out, recommended candidate" in md
    assert "## 2. Shipped model on the test splits (never trained on)" in md  # the tiny model saw train posts only
    assert "![confusion.png](confusion.png)" in md and (tmp_path / "r" / "reliability.png").stat().st_size > 0
    assert f"report written to {tmp_path / 'r' / 'evaluation.md'}" in out
    if with_real:
        assert summary["test_real"]["n"] > 0
        assert "Recommended: **a**" in md and "### Real-tweet test split (four labels)" in md
        assert "**Review signal on real test tweets**" in md
        errors = md.split("## 4. The 30 worst errors on real tweets")[1]
        assert errors.count("\n| r") >= 1  # named by id only
    else:
        assert summary["test_real"] is None
        assert "**No recommendation**" in md and "no recommendation" in out


def test_explain_errors_names_the_post_and_the_words_behind_the_prediction(tiny_model):
    post = Post("Restez chez vous et profitez de -30 % avec le code RESTEZCHEZVOUS", "tone-deaf",
                meta={"id": "123", "confidence": "high"})
    (line,) = report._explain_errors([(post, "promotional", 0.81)], tiny_model)
    cells = [c.strip() for c in line.strip("|").split("|")]
    assert cells[:3] == ["123", "tone-deaf (high)", "promotional 0.81"]
    assert cells[3].startswith("“") or cells[3] == "no strong word"
    assert report._explain_errors([], tiny_model) == []


def test_selection_needs_real_posts():
    row = {"real_cv_f1": 0.8, "loco_mean": 0.6, "authored_cv_f1": 0.9, "tone_deaf_recall": 0.5}
    assert report._selection_score(row) == pytest.approx(0.4 * 0.8 + 0.4 * 0.6 + 0.2 * 0.5)
    assert report._recommendable([row])
    assert not report._recommendable([{**row, "real_cv_f1": float("nan")}])
    assert math.isnan(report._selection_score({**row, "real_cv_f1": float("nan")}))


@pytest.mark.parametrize("value, digits, expected", [(0.12345, 3, "0.123"), (0.5, 2, "0.50"), (float("nan"), 3, "–"),
                                                     ("storm", 3, "storm"), (3, 3, "3")])
def test_fmt(value, digits, expected):
    assert report._fmt(value, digits) == expected
