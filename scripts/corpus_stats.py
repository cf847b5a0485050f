"""Print the corpus tables of the data card and the near-duplicate rate.

    python scripts/corpus_stats.py            # Markdown tables on standard output
"""

import collections
import csv
import pathlib

from tonecheck.training.corpus import near_duplicate_rate

ROOT = pathlib.Path(__file__).resolve().parent.parent
LABELS = ["supportive", "promotional", "tone-deaf", "preventive", "none"]


def table(rows, key):
    counts = collections.Counter((r[key], r["label"]) for r in rows)
    keys = sorted({r[key] for r in rows}, key=lambda k: -sum(counts[(k, lab)] for lab in LABELS))
    print(f"| {key} | " + " | ".join(LABELS) + " | total |")
    print("|---" * (len(LABELS) + 2) + "|")
    for k in keys:
        cells = [counts[(k, lab)] for lab in LABELS]
        print(f"| {k} | " + " | ".join(map(str, cells)) + f" | {sum(cells)} |")
    totals = [sum(counts[(k, lab)] for k in keys) for lab in LABELS]
    print("| **total** | " + " | ".join(map(str, totals)) + f" | {sum(totals)} |\n")


with open(ROOT / "data" / "authored.csv", encoding="utf-8", newline="") as f:
    authored = list(csv.DictReader(f))
with open(ROOT / "data" / "real_labels.csv", encoding="utf-8", newline="") as f:
    real = list(csv.DictReader(f))

print(f"## Authored posts: {len(authored)}\n")
for key in ("crisis", "author", "platform", "sector", "split"):
    table(authored, key)
pairs = collections.Counter(r["pair_id"] for r in authored if r["pair_id"])
print(f"Contrast pairs: {len(pairs)} ({sum(pairs.values())} posts)\n")
words = sorted(len(r["text"].split()) for r in authored)
print(f"Length in words: min {words[0]}, median {words[len(words) // 2]}, max {words[-1]}\n")
rate = near_duplicate_rate([r["text"] for r in authored], [r["pair_id"] for r in authored])
print(f"Near-duplicate rate (char 3-5-gram TF-IDF cosine >= 0.85, outside declared pairs): {rate:.2%}\n")
print(f"## Real posts labelled: {len(real)}\n")
table(real, "source")
table(real, "confidence")
table(real, "split")
