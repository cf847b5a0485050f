"""Merge the two independent labelling passes of each real pool into data/real_labels.csv.

    python scripts/build_real_labels.py

Reads data/labelling/ (pass files: id,label,confidence,drop,note; adjudicated.csv for the
rows the passes disagree on) and writes data/real_labels.csv with
id,label,confidence,split,source,crisis — ids and our labels only, never a post's text.
Prints, per pool, the agreement and Cohen's kappa between the two passes.
Where both passes agree, that label stands (confidence: the lower of the two); where they
disagree, the adjudicated label. A quoted post is dropped when both passes, or the
adjudication, say it cannot be judged without its image. The confinement tweets keep their
earlier split (20 % test); the two new pools are judged leave-one-source-out, so all "train".
"""

from __future__ import annotations

import csv
import pathlib
import re

from sklearn.metrics import cohen_kappa_score

ROOT = pathlib.Path(__file__).resolve().parent.parent
LAB = ROOT / "data" / "labelling"
SHARED = ROOT.parent / "shared" / "data" / "real"
RANK = {"low": 0, "medium": 1, "high": 2}

POOLS = {
    "confinement_2020": (["confinement_2020.pass1.csv"],
                         ["confinement_2020.pass2.1.csv", "confinement_2020.pass2.2.csv"]),
    "deft_climat": (["deft_climat.passA.1.csv", "deft_climat.passA.2.csv"],
                    ["deft_climat.passB.1.csv", "deft_climat.passB.2.csv"]),
    "quoted_press": (["quoted_press.passA.csv"], ["quoted_press.passB.csv"]),
}
FILES = {
    "confinement_2020": "confinement_2020_fr.csv",
    "deft_climat": "deft_climat_fr.csv",
    "quoted_press": "quoted_press_fr.csv",
}

# The quoted pool names about 85 events in free text; these are the crisis types of the corpus.
CRISIS_WORDS = [
    ("pandemic", r"covid|coronavirus|confinement|lockdown|pandemi|vaccin|pass sanitaire|curfew|couvre"),
    ("terror_attack", r"attack|attentat|charlie|bataclan|13 nov|terror|shooting|stabbing|fusillade"),
    ("war_refugees", r"war|guerre|ukrain|missile|strike[s]? on|gaza|israel|iran|refugee|dubai"),
    ("strike", r"strike|grève|pension|retraite|gilets|protest"),
    ("heatwave", r"heat|canicule|chaleur"),
    ("wildfire", r"wildfire|fire|incendie|feux"),
    ("flood", r"flood|inondation|crue"),
    ("storm", r"storm|tempête|hurricane|ouragan|cyclone|irma"),
    ("earthquake_industrial", r"earthquake|séisme|lubrizol|explosion|industrial|chemical"),
    ("riots", r"riot|émeute|nahel"),
    ("shortage", r"shortage|pénurie|fuel|carburant"),
    ("energy_prices", r"energy|énergie|price|prix|inflation"),
]


def crisis_of(text: str) -> str:
    for name, pattern in CRISIS_WORDS:
        if re.search(pattern, text, re.I):
            return name
    return "other"


def read(files: list[str]) -> dict[str, dict[str, str]]:
    rows: dict[str, dict[str, str]] = {}
    for name in files:
        with open(LAB / name, encoding="utf-8", newline="") as f:
            rows.update((r["id"], r) for r in csv.DictReader(f))
    return rows


def main() -> None:
    with open(ROOT / "data" / "real_labels.csv", encoding="utf-8", newline="") as f:
        old_split = {r["id"]: r.get("split", "train") for r in csv.DictReader(f)}
    adjudicated = {}
    if (LAB / "adjudicated.csv").exists():
        with open(LAB / "adjudicated.csv", encoding="utf-8", newline="") as f:
            adjudicated = {r["id"]: r for r in csv.DictReader(f)}
    out = []
    for pool, (first, second) in POOLS.items():
        a, b = read(first), read(second)
        ids = list(a)
        assert set(ids) == set(b), pool
        la, lb = [a[i]["label"] for i in ids], [b[i]["label"] for i in ids]
        agree = sum(x == y for x, y in zip(la, lb, strict=True)) / len(ids)
        print(f"{pool}: {len(ids)} posts, agreement {agree:.1%}, Cohen's kappa {cohen_kappa_score(la, lb):.3f}")
        with open(SHARED / FILES[pool], encoding="utf-8", newline="") as f:
            crisis = {r["id"]: crisis_of(r.get("crisis", "")) if pool == "quoted_press" else
                      ("climate_energy" if pool == "deft_climat" else "pandemic") for r in csv.DictReader(f)}
        pending = 0
        for i in ids:
            x, y = a[i], b[i]
            quoted = pool == "quoted_press"  # the tweets are judged on their text alone (D26)
            drop = quoted and x.get("drop") == "1" and y.get("drop") == "1"
            if x["label"] == y["label"] and (not quoted or x.get("drop", "") == y.get("drop", "")):
                label = x["label"]
                conf = min(x.get("confidence") or "high", y.get("confidence") or "high", key=RANK.__getitem__)
            elif i in adjudicated:
                label, conf = adjudicated[i]["label"], adjudicated[i]["confidence"]
                drop = quoted and adjudicated[i].get("drop") == "1"
            else:
                label, conf, pending = x["label"], "low", pending + 1
            if drop:
                continue
            out.append({"id": i, "label": label, "confidence": conf, "split": old_split.get(i, "train"),
                        "source": pool, "crisis": crisis[i]})
        if pending:
            print(f"  {pending} disagreements not adjudicated yet: first pass kept, confidence low")
    with open(ROOT / "data" / "real_labels.csv", "w", encoding="utf-8", newline="") as f:
        w = csv.DictWriter(f, fieldnames=["id", "label", "confidence", "split", "source", "crisis"])
        w.writeheader()
        w.writerows(out)
    print(f"data/real_labels.csv: {len(out)} posts")


if __name__ == "__main__":
    main()
