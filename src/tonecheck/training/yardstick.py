"""The real-only yardstick: leave-one-source-out on real posts, with bootstrap intervals.

For each real source (the lockdown tweets, the climate/energy tweets, the posts quoted by the
press), a model is trained on everything else — the authored corpus and the other real
sources — and judged on that source alone; the quoted posts are also reported by crisis.
The authored corpus is written by the team and flatters every model, so model selection,
thresholds and the headline figures use this. Training side only: never imported by
:mod:`tonecheck.assess`.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from tonecheck.labels import LABELS, OUT_OF_SCOPE
from tonecheck.training.config import TrainConfig
from tonecheck.training.corpus import Post
from tonecheck.training.fitting import fit_model
from tonecheck.training.metrics import expected_calibration_error
from tonecheck.training.thresholds import choose_thresholds, flagged

__all__ = ["SourceResult", "macro_f1", "bootstrap_interval", "paired_difference", "leave_one_source_out"]


def real_source(post: Post) -> str | None:
    return post.meta.get("real_source") if post.is_real else None


def macro_f1(y: np.ndarray, pred: np.ndarray) -> float:
    """Macro-F1 over the labels present in ``y`` (in-scope posts only)."""
    from sklearn.metrics import f1_score

    present = [lab for lab in LABELS if (y == lab).any()]
    return float(f1_score(y, pred, labels=present, average="macro", zero_division=0)) if present else 0.0


def bootstrap_interval(y: np.ndarray, pred: np.ndarray, *, rounds: int = 1000, seed: int = 0) -> tuple[float, float]:
    """95 % percentile interval of macro-F1 over posts resampled with replacement."""
    rng = np.random.default_rng(seed)
    n = len(y)
    if n == 0:
        return 0.0, 0.0
    scores = [macro_f1(y[idx], pred[idx]) for idx in (rng.integers(0, n, n) for _ in range(rounds))]
    lo, hi = np.percentile(scores, [2.5, 97.5])
    return float(lo), float(hi)


def label_f1_intervals(y: np.ndarray, pred: np.ndarray, *, rounds: int = 1000,
                       seed: int = 0) -> dict[str, tuple[float, float]]:
    """95 % percentile interval of each label's F1 over posts resampled with replacement
    (the resamples of :func:`bootstrap_interval`; a label absent from a resample scores 0).

    >>> y = np.array(["supportive"] * 60 + ["tone-deaf"] * 40)
    >>> lo, hi = label_f1_intervals(y, y)["tone-deaf"]
    >>> (lo, hi)
    (1.0, 1.0)
    """
    rng = np.random.default_rng(seed)
    n, k = len(y), len(LABELS)
    if n == 0:
        return {lab: (0.0, 0.0) for lab in LABELS}
    index = {lab: i for i, lab in enumerate(LABELS)}
    yi = np.array([index.get(v, k) for v in y])
    pi = np.array([index.get(v, k) for v in pred])
    scores = np.empty((rounds, k))
    for r in range(rounds):
        idx = rng.integers(0, n, n)
        cells = np.bincount(yi[idx] * (k + 1) + pi[idx], minlength=(k + 1) ** 2).reshape(k + 1, k + 1)
        tp = np.diag(cells)[:k]
        denominator = cells[:k, :].sum(axis=1) + cells[:, :k].sum(axis=0)  # support + predicted
        scores[r] = np.divide(2 * tp, denominator, out=np.zeros(k), where=denominator > 0)
    lo, hi = np.percentile(scores, [2.5, 97.5], axis=0)
    return {lab: (float(lo[i]), float(hi[i])) for i, lab in enumerate(LABELS)}


def paired_difference(y: np.ndarray, pred_a: np.ndarray, pred_b: np.ndarray, *, rounds: int = 1000,
                      seed: int = 0) -> dict[str, float]:
    """Macro-F1 of B minus A on the same posts, with a 95 % interval from resampling the posts
    once for both (a paired bootstrap: the two models see the same resampled posts, so the
    interval is that of the difference, far narrower than the two intervals side by side), and
    the share of resamples where B is ahead.

    >>> y = np.array(["supportive", "promotional"] * 50)
    >>> paired_difference(y, np.array(["supportive"] * 100), y)["difference"] > 0.6
    True
    """
    rng = np.random.default_rng(seed)
    n = len(y)
    diffs = np.array([macro_f1(y[idx], pred_b[idx]) - macro_f1(y[idx], pred_a[idx])
                      for idx in (rng.integers(0, n, n) for _ in range(rounds))])
    lo, hi = np.percentile(diffs, [2.5, 97.5])
    return {"difference": macro_f1(y, pred_b) - macro_f1(y, pred_a), "low": float(lo), "high": float(hi),
            "b_ahead": float((diffs > 0).mean())}


@dataclass
class SourceResult:
    """Out-of-source predictions for the real posts of one source."""

    source: str
    y: np.ndarray  # data labels, `none` included
    proba: np.ndarray
    scope: np.ndarray
    crisis: np.ndarray
    seconds: float


def leave_one_source_out(
    posts: Sequence[Post],
    config: TrainConfig = TrainConfig(),
    *,
    analyses: Sequence[Any],
    lemma_table: dict[str, str] | None,
    special_cases: Any,
    say: Any = print,
) -> list[SourceResult]:
    """Train on all but one real source, predict that source; once per source."""
    sources = sorted({s for s in map(real_source, posts) if s})
    results = []
    for source in sources:
        t0 = time.perf_counter()
        train = [i for i, p in enumerate(posts) if real_source(p) != source]
        test = [i for i, p in enumerate(posts) if real_source(p) == source]
        model = fit_model([posts[i] for i in train], config, analyses=[analyses[i] for i in train],
                          lemma_table=lemma_table, special_cases=special_cases)
        X = model.featurizer.transform_analyses([analyses[i] for i in test])
        results.append(SourceResult(
            source,
            np.array([posts[i].label for i in test]),
            model.predict_proba(X),
            model.scope_proba(X),
            np.array([posts[i].meta.get("crisis", "") for i in test]),
            time.perf_counter() - t0,
        ))
        say(f"  {source}: {len(test)} posts, {time.perf_counter() - t0:.0f}s")
    return results


def summarise(results: list[SourceResult], *, rounds: int = 1000) -> dict[str, Any]:
    """Per source and pooled: macro-F1 with its interval, per-label F1 and support, review
    flags at the thresholds chosen on these out-of-source predictions."""
    from sklearn.metrics import precision_recall_fscore_support

    y = np.concatenate([r.y for r in results])
    proba = np.concatenate([r.proba for r in results])
    scope = np.concatenate([r.scope for r in results])
    chosen = choose_thresholds(y, proba, scope, np.ones(len(y), dtype=bool))

    def block(ys: np.ndarray, ps: np.ndarray, ss: np.ndarray) -> dict[str, Any]:
        keep = ys != OUT_OF_SCOPE
        yk, pred = ys[keep], np.asarray(LABELS)[ps[keep].argmax(axis=1)] if keep.any() else np.array([])
        _, _, f, sup = precision_recall_fscore_support(yk, pred, labels=list(LABELS), zero_division=0)
        none = ~keep
        flags = flagged(ps, ss, chosen)
        return {
            "n": int(keep.sum()), "n_none": int(none.sum()),
            "macro_f1": macro_f1(yk, pred), "interval": bootstrap_interval(yk, pred, rounds=rounds),
            "f1": {lab: (float(f[k]), int(sup[k])) for k, lab in enumerate(LABELS)},
            "f1_interval": label_f1_intervals(yk, pred, rounds=rounds),
            # are the probabilities right on posts from a source the model never saw?
            "ece": expected_calibration_error(yk, ps[keep]) if keep.any() else None,
            "none_flagged": float(flags[none].mean()) if none.any() else None,
            "in_scope_flagged": float(flags[keep].mean()) if keep.any() else None,
            "none_out_of_scope": float((ss[none] < chosen.scope).mean()) if none.any() else None,
        }

    out: dict[str, Any] = {"thresholds": chosen._asdict(),
                           "pooled": block(y, proba, scope), "sources": {}, "crises": {},
                           # the out-of-source predictions themselves, for paired comparisons
                           "predictions": {"y": y.tolist(), "proba": np.round(proba, 6).tolist(),
                                           "scope": np.round(scope, 6).tolist()}}
    for r in results:
        out["sources"][r.source] = block(r.y, r.proba, r.scope)
        if len(set(r.crisis)) > 1:
            for crisis in sorted(set(r.crisis)):
                m = r.crisis == crisis
                if (r.y[m] != OUT_OF_SCOPE).sum() >= 8:
                    out["crises"][f"{r.source}/{crisis}"] = block(r.y[m], r.proba[m], r.scope[m])
    return out


def format_summary(name: str, summary: dict[str, Any]) -> list[str]:
    """Markdown rows: one per source, then the pooled line."""
    lines = []
    rows = [*summary["sources"].items(), ("all real posts (pooled)", summary["pooled"])]
    for source, b in rows:
        lo, hi = b["interval"]
        if b is summary["pooled"] and "f1_interval" in b:  # the per-label intervals on the pooled line
            per = " · ".join(f"{lab} {f:.2f} [{b['f1_interval'][lab][0]:.2f}, {b['f1_interval'][lab][1]:.2f}] ({n})"
                             for lab, (f, n) in b["f1"].items())
        else:
            per = " · ".join(f"{lab} {f:.2f} ({n})" for lab, (f, n) in b["f1"].items())
        flags = (f"{b['none_flagged']:.0%} / {b['in_scope_flagged']:.0%}" if b["none_flagged"] is not None else "–")
        ece = f"{b['ece']:.3f}" if b.get("ece") is not None else "–"
        lines.append(
            f"| {name} | {source} | {b['n']} | **{b['macro_f1']:.3f}** [{lo:.3f}, {hi:.3f}] | {per} | {flags} | {ece} |"
        )
    return lines
