"""Merge the authored parts and the real-tweet label parts into the corpus files.

    python scripts/build_corpus.py

writes data/authored.csv (id, text, label, crisis, author, platform, sector, pair_id, split)
and data/real_labels.csv (id, label, confidence, split). Splits: 20 % test, stratified by
label x crisis (authored) or label (real), contrast pairs kept in one split; seeded, so the
same parts always give the same files.
"""

import csv
import json
import pathlib
import sys

import numpy as np
from sklearn.model_selection import StratifiedGroupKFold, StratifiedKFold

ROOT = pathlib.Path(__file__).resolve().parent.parent
DATA = ROOT / "data"
SEED = 20260326
FIELDS = ["id", "text", "label", "crisis", "author", "platform", "sector", "pair_id", "split"]


def test_mask(strata, groups):
    splitter = StratifiedGroupKFold(n_splits=5, shuffle=True, random_state=SEED)
    _, test = next(splitter.split(np.zeros(len(strata)), strata, groups))
    mask = np.zeros(len(strata), dtype=bool)
    mask[test] = True
    return mask


def build_authored():
    rows = []
    for part in sorted((DATA / "parts").glob("*.jsonl")):
        with open(part, encoding="utf-8") as f:
            for line in f:
                if line.strip():
                    r = json.loads(line)
                    r["text"] = r["text"].strip()
                    rows.append(r)
    for i, r in enumerate(rows, 1):
        r["id"] = f"a{i:05d}"
    strata = [f"{r['label']}|{r['crisis']}" for r in rows]
    groups = [r["pair_id"] or r["id"] for r in rows]
    mask = test_mask(strata, groups)
    with open(DATA / "authored.csv", "w", encoding="utf-8", newline="") as f:
        w = csv.DictWriter(f, fieldnames=FIELDS, extrasaction="ignore")
        w.writeheader()
        for r, is_test in zip(rows, mask):
            r["split"] = "test" if is_test else "train"
            w.writerow(r)
    print(f"data/authored.csv: {len(rows)} posts, {int(mask.sum())} in test")


def build_real():
    rows = []
    for part in sorted((DATA / "real_parts").glob("part*.csv")):
        with open(part, encoding="utf-8", newline="") as f:
            rows.extend(csv.DictReader(f))
    labels = [r["label"] for r in rows]
    splitter = StratifiedKFold(n_splits=5, shuffle=True, random_state=SEED)
    _, test = next(splitter.split(np.zeros(len(rows)), labels))
    test = set(test.tolist())
    with open(DATA / "real_labels.csv", "w", encoding="utf-8", newline="") as f:
        w = csv.DictWriter(f, fieldnames=["id", "label", "confidence", "split"])
        w.writeheader()
        for i, r in enumerate(rows):
            w.writerow({"id": r["id"], "label": r["label"], "confidence": r["confidence"],
                        "split": "test" if i in test else "train"})
    print(f"data/real_labels.csv: {len(rows)} posts, {len(test)} in test")


if __name__ == "__main__":
    build_authored()
    build_real()
    sys.exit(0)
