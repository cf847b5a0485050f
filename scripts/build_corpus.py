"""Merge the authored parts and the real-tweet label parts into the corpus files.

    python scripts/build_corpus.py

writes data/authored.csv (id, text, label, crisis, author, platform, sector, pair_id, split,
inspired_by). Splits: 20 % test, stratified by
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
FIELDS = ["id", "text", "label", "crisis", "author", "platform", "sector", "pair_id", "split", "inspired_by"]


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
    # A post keeps the split it had (the authored test split stays comparable across waves),
    # found by its text: ids follow the order of the part files, which a new wave can shift;
    # new posts are split among themselves the same way.
    previous = {}
    if (DATA / "authored.csv").exists():
        with open(DATA / "authored.csv", encoding="utf-8", newline="") as f:
            previous = {r["text"]: r["split"] for r in csv.DictReader(f)}
    known = np.array([r["text"] in previous for r in rows])
    mask = np.zeros(len(rows), dtype=bool)
    mask[known] = [previous[r["text"]] == "test" for r, k in zip(rows, known, strict=True) if k]
    new = np.flatnonzero(~known)
    if new.size:
        strata = [f"{rows[i]['label']}|{rows[i]['crisis']}" for i in new]
        groups = [rows[i]["pair_id"] or rows[i]["id"] for i in new]
        mask[new] = test_mask(strata, groups)
    with open(DATA / "authored.csv", "w", encoding="utf-8", newline="") as f:
        w = csv.DictWriter(f, fieldnames=FIELDS, extrasaction="ignore")
        w.writeheader()
        for r, is_test in zip(rows, mask, strict=True):
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
    # data/real_labels.csv is now built by scripts/build_real_labels.py from data/labelling/
    # (two passes per pool); build_real() rebuilt its first version from data/real_parts/.
    sys.exit(0)
