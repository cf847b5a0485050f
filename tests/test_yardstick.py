"""tonecheck.training.yardstick: leave-one-source-out on real posts, intervals and the summary table."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from tonecheck.labels import LABELS, OUT_OF_SCOPE
from tonecheck.training.config import TrainConfig
from tonecheck.training.fitting import prepare
from tonecheck.training.thresholds import IN_SCOPE_FLAG_BUDGET
from tonecheck.training.yardstick import (
    bootstrap_interval,
    format_summary,
    label_f1_intervals,
    leave_one_source_out,
    macro_f1,
    real_source,
    summarise,
)

QUICK = TrainConfig(tokenizer="plain", lemmas=False, char_ngrams=None, cues=False)


def test_macro_f1_counts_only_the_labels_present():
    y = np.array(["supportive", "supportive", "promotional"])
    assert macro_f1(y, y) == 1.0
    assert macro_f1(y, np.array(["supportive", "promotional", "promotional"])) == pytest.approx((2 / 3 + 2 / 3) / 2)
    assert macro_f1(np.array([]), np.array([])) == 0.0


def test_bootstrap_interval_brackets_the_score_and_is_reproducible():
    rng = np.random.default_rng(1)
    y = rng.choice(LABELS, 200)
    pred = np.where(rng.random(200) < 0.7, y, rng.choice(LABELS, 200))
    lo, hi = bootstrap_interval(y, pred, rounds=200)
    assert lo < macro_f1(y, pred) < hi and hi - lo < 0.25
    assert bootstrap_interval(y, pred, rounds=200) == (lo, hi)
    assert bootstrap_interval(np.array([]), np.array([])) == (0.0, 0.0)


def test_label_f1_intervals_bracket_each_labels_f1_as_scikit_learn_computes_it():
    from sklearn.metrics import f1_score

    rng = np.random.default_rng(2)
    y = rng.choice(LABELS, 300, p=[0.3, 0.5, 0.05, 0.15])
    pred = np.where(rng.random(300) < 0.7, y, rng.choice(LABELS, 300))
    intervals = label_f1_intervals(y, pred, rounds=300)
    for label, f1 in zip(LABELS, f1_score(y, pred, labels=list(LABELS), average=None), strict=True):
        lo, hi = intervals[label]
        assert lo < f1 < hi, (label, lo, f1, hi)
    # the rare label's interval is the widest: few posts, an uncertain score
    widths = {label: hi - lo for label, (lo, hi) in intervals.items()}
    assert max(widths, key=widths.get) == "tone-deaf"
    assert label_f1_intervals(y, pred, rounds=300) == intervals


def test_leave_one_source_out_predicts_each_source_from_the_others(tiny_posts):
    posts = []
    for i, p in enumerate(tiny_posts):
        if i % 2:  # half the posts become real, from two sources; the rest stay authored
            meta = {**p.meta, "origin": "real", "real_source": ("deft", "press")[i % 4 // 2],
                    "crisis": ("flood", "storm")[i % 8 // 4]}
            p = replace(p, meta=meta)
        posts.append(p)
    assert real_source(posts[0]) is None and real_source(posts[1]) == "deft"
    ready = prepare([p.text for p in posts], QUICK)
    said: list[str] = []
    results = leave_one_source_out(posts, QUICK, analyses=ready.analyses, lemma_table=None, special_cases=None,
                                   say=said.append)
    assert [r.source for r in results] == ["deft", "press"]
    assert [len(r.y) for r in results] == [sum(real_source(p) == s for p in posts) for s in ("deft", "press")]
    assert all(np.allclose(r.proba.sum(axis=1), 1.0) and r.scope.shape == r.y.shape for r in results)
    assert said[0].startswith("  deft: ")

    summary = summarise(results, rounds=20)
    pooled = summary["pooled"]
    assert pooled["n"] + pooled["n_none"] == len(posts) // 2
    assert pooled["n_none"] == sum(p.label == OUT_OF_SCOPE for p in posts if p.is_real)
    assert 0.0 <= pooled["none_flagged"] <= 1.0 and 0.0 <= pooled["in_scope_flagged"] <= IN_SCOPE_FLAG_BUDGET + 1e-9
    assert set(summary["sources"]) == {"deft", "press"}
    assert set(summary["crises"]) <= {"deft/flood", "deft/storm", "press/flood", "press/storm"}
    assert summary["crises"]  # each source holds two crises, with 8+ in-scope posts each

    lines = format_summary("quick", summary)
    assert len(lines) == 3 and lines[-1].startswith("| quick | all real posts (pooled) | ")
    assert f"**{pooled['macro_f1']:.3f}**" in lines[-1]
    assert lines[-1].endswith(f" | {pooled['ece']:.3f} |") and 0.0 <= pooled["ece"] <= 1.0
