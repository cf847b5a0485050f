"""Check one or more authored-corpus part files (JSONL) against the corpus rules.

Usage: python scripts/check_part.py data/parts/NAME.jsonl [more.jsonl ...]
Prints counts, schema errors and near-duplicate pairs (char 3-5-gram TF-IDF cosine >= 0.85)
that are not declared contrast pairs. When several files are given, near-duplicates are
checked across all of them.
"""
import collections
import json
import sys

from tonecheck.training.corpus import near_duplicates

LABELS = {"supportive", "promotional", "tone-deaf", "preventive", "none"}
CRISES = {"pandemic", "heatwave", "flood", "wildfire", "storm", "terror_attack", "strike",
          "war_refugees", "energy_prices", "earthquake_industrial", "riots", "shortage", "none"}
AUTHORS = {"brand", "influencer", "local_shop", "ngo", "institution", "media", "person"}
PLATFORMS = {"instagram", "x", "tiktok", "linkedin", "facebook"}
FIELDS = ["text", "label", "crisis", "author", "platform", "sector", "pair_id"]

rows = []
for path in sys.argv[1:]:
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                r = json.loads(line)
            except json.JSONDecodeError as e:
                print(f"{path}:{n}: bad JSON: {e}")
                continue
            errs = [k for k in FIELDS if k not in r]
            if errs:
                print(f"{path}:{n}: missing {errs}")
                continue
            if r["label"] not in LABELS:
                print(f"{path}:{n}: bad label {r['label']!r}")
            if r["crisis"] not in CRISES:
                print(f"{path}:{n}: bad crisis {r['crisis']!r}")
            if r["author"] not in AUTHORS:
                print(f"{path}:{n}: bad author {r['author']!r}")
            if r["platform"] not in PLATFORMS:
                print(f"{path}:{n}: bad platform {r['platform']!r}")
            if not str(r["text"]).strip():
                print(f"{path}:{n}: empty text")
            r["_where"] = f"{path}:{n}"
            rows.append(r)

print(f"{len(rows)} posts")
for key in ("label", "crisis", "author", "platform", "sector"):
    print(key, dict(collections.Counter(r[key] for r in rows).most_common()))
pairs = collections.Counter(r["pair_id"] for r in rows if r["pair_id"])
print("posts in pairs:", sum(v for v in pairs.values()), "pairs:", len(pairs),
      "bad pair sizes:", {k: v for k, v in pairs.items() if v != 2})
for pid in pairs:
    labs = {r["label"] for r in rows if r["pair_id"] == pid}
    if len(labs) < 2:
        print(f"pair {pid}: both posts have the same label {labs}")
words = [len(str(r["text"]).split()) for r in rows]
print("words min/median/max:", min(words), sorted(words)[len(words) // 2], max(words))

texts = [str(r["text"]) for r in rows]
pairs_of = [r["pair_id"] or "" for r in rows]
flagged = set()
for i, j, v in near_duplicates(texts, pairs_of):
    flagged.update((i, j))
    print(f"NEAR-DUPLICATE {v:.2f}: {rows[i]['_where']} ~ {rows[j]['_where']}")
print(f"near-duplicate rate (outside declared pairs): {len(flagged) / max(len(rows), 1):.2%}")
