"""How the review flag behaves on real sources the model has not seen.

    python scripts/review_flags.py

Leave-one-source-out with the shipped configuration (``TrainConfig()``), as the real-only
yardstick trains it; prints, for the in-scope real posts, how often a label is right by the
gap between its two most probable labels, and, at the shipped model's thresholds
(models/tonecheck.json), the share of out-of-scope and in-scope posts that ``needs_review``
would flag (unsure, close-call or out-of-scope; not-french left aside) for several margins,
the shipped one among them.
Needs ../shared/data/real beside the project. About 2 minutes.
"""

from __future__ import annotations

import json
import pathlib
import sys

import numpy as np

ROOT = pathlib.Path(__file__).resolve().parent.parent


def main() -> int:
    sys.path.insert(0, str(ROOT / "scripts"))
    from tonecheck.labels import LABELS, OUT_OF_SCOPE
    from tonecheck.training.config import TrainConfig
    from tonecheck.training.fitting import prepare
    from tonecheck.training.thresholds import Thresholds, flagged
    from tonecheck.training.yardstick import leave_one_source_out
    from yardstick import REAL_TEXTS, load_posts

    if not REAL_TEXTS.is_dir():
        print(f"the real posts' texts are missing: {REAL_TEXTS}", file=sys.stderr)
        return 2
    posts = load_posts()
    config = TrainConfig()
    ready = prepare([p.text for p in posts], config)
    results = leave_one_source_out(posts, config, analyses=ready.analyses, lemma_table=ready.lemma_table,
                                   special_cases=ready.special_cases, say=lambda *a: None)
    y = np.concatenate([r.y for r in results])
    proba = np.concatenate([r.proba for r in results])
    scope = np.concatenate([r.scope for r in results])
    ranked = np.sort(proba, axis=1)
    margin = ranked[:, -1] - ranked[:, -2]
    none = y == OUT_OF_SCOPE
    right = np.asarray(LABELS)[proba.argmax(axis=1)] == y
    ins = ~none
    print(f"{ins.sum()} in-scope real posts, {none.sum()} out of scope; accuracy {right[ins].mean():.3f}")
    for lo in np.arange(0.0, 0.6, 0.1):
        band = ins & (margin >= lo) & (margin < lo + 0.1)
        print(f"  gap [{lo:.1f}, {lo + 0.1:.1f}): {band.sum():4d} posts, right {right[band].mean():.2f}")
    meta = json.loads((ROOT / "models" / "tonecheck.json").read_text(encoding="utf-8"))
    review, scope_threshold = meta["review_threshold"], meta["scope_threshold"]
    shipped_margin = meta.get("review_margin", 0.2)
    print(f"shipped thresholds: unsure below {review:.2f}, close call below {shipped_margin:.2f}, "
          f"out of scope below {scope_threshold:.2f}")
    for min_margin in sorted({shipped_margin, 0.0, 0.1, 0.2, 0.3}):
        close = ins & (margin < min_margin)
        flag = flagged(proba, scope, Thresholds(review, scope_threshold, min_margin))
        print(f"  min_margin {min_margin}: needs_review flags {flag[none].mean():.1%} of out-of-scope and "
              f"{flag[ins].mean():.1%} of in-scope posts; close-call alone catches "
              f"{(close & ~right).sum() / (ins & ~right).sum():.1%} of the wrong labels "
              f"(right {right[close].mean() if close.any() else float('nan'):.2f} below the gap, "
              f"{right[ins & ~close].mean():.2f} above)")
    alone = scope < scope_threshold
    print(f"  out-of-scope reason alone (threshold {scope_threshold:.2f}): {alone[none].mean():.1%} / "
          f"{alone[ins].mean():.1%}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
