"""The labelled corpus: schema, vocabulary, splits, pairs, counts and the near-duplicate rule."""

import collections
import csv
import subprocess
import sys

import pytest

from conftest import AUTHORED, REAL_LABELS, REAL_TEXTS, ROOT
from tonecheck.labels import LABELS
from tonecheck.training.corpus import DATA_LABELS, near_duplicate_rate

FIELDS = ["id", "text", "label", "crisis", "author", "platform", "sector", "pair_id", "split", "inspired_by"]
CRISES = {"pandemic", "heatwave", "flood", "wildfire", "storm", "terror_attack", "strike",
          "war_refugees", "energy_prices", "earthquake_industrial"}
AUTHORS = {"brand", "influencer", "local_shop", "ngo", "institution", "media", "person"}
PLATFORMS = {"instagram", "x", "tiktok", "linkedin", "facebook"}


def _rows(path):
    with open(path, encoding="utf-8", newline="") as f:
        reader = csv.DictReader(f)
        return reader.fieldnames, list(reader)


@pytest.fixture(scope="module")
def authored():
    header, rows = _rows(AUTHORED)
    assert header == FIELDS
    return rows


@pytest.fixture(scope="module")
def real():
    header, rows = _rows(REAL_LABELS)
    assert header == ["id", "label", "confidence", "split", "source", "crisis"]
    return rows


def test_authored_vocabularies(authored):
    assert {r["label"] for r in authored} <= set(DATA_LABELS)
    assert {r["crisis"] for r in authored} <= CRISES | {"none", "riots", "shortage"}  # two case-based crises
    assert {r["author"] for r in authored} == AUTHORS
    assert {r["platform"] for r in authored} == PLATFORMS
    assert {r["split"] for r in authored} == {"train", "test"}


def test_authored_ids_unique_and_texts_not_empty(authored):
    ids = [r["id"] for r in authored]
    assert len(ids) == len(set(ids))
    assert all(r["text"].strip() for r in authored)


def test_no_text_in_two_splits(authored, real):
    splits = collections.defaultdict(set)
    for r in authored:
        splits[" ".join(r["text"].split()).casefold()].add(r["split"])
    assert [t for t, s in splits.items() if len(s) > 1] == []


def test_pairs_are_pairs_with_two_labels_in_one_split(authored):
    pairs = collections.defaultdict(list)
    for r in authored:
        if r["pair_id"]:
            pairs[r["pair_id"]].append(r)
    assert all(len(p) == 2 for p in pairs.values())
    assert all(p[0]["split"] == p[1]["split"] for p in pairs.values())
    assert all(p[0]["label"] != p[1]["label"] for p in pairs.values())
    assert sum(len(p) for p in pairs.values()) >= 400


def test_authored_counts(authored):
    assert len(authored) >= 3000
    labels = collections.Counter(r["label"] for r in authored)
    assert all(labels[lab] >= 600 for lab in LABELS), labels
    crises = collections.Counter(r["crisis"] for r in authored)
    assert all(crises[c] >= 150 for c in CRISES), crises
    assert len({r["sector"] for r in authored}) >= 10
    assert crises["none"] > 0  # plain promotion naming no crisis


def test_test_split_is_about_a_fifth(authored, real):
    # the confinement tweets keep a 20 % test split; the other real pools are judged leave-one-source-out
    for rows in (authored, [r for r in real if r["source"] == "confinement_2020"]):
        share = sum(r["split"] == "test" for r in rows) / len(rows)
        assert 0.17 <= share <= 0.23


def test_near_duplicates_outside_pairs_at_most_one_percent(authored):
    rate = near_duplicate_rate([r["text"] for r in authored], [r["pair_id"] for r in authored])
    assert rate <= 0.01


POOLS = {"confinement_2020": 1498, "deft_climat": 3020, "quoted_press": 278}


def test_real_labels_schema(real):
    counts = collections.Counter(r["source"] for r in real)
    assert counts["confinement_2020"] == POOLS["confinement_2020"] and counts["deft_climat"] == POOLS["deft_climat"]
    assert POOLS["quoted_press"] - 15 <= counts["quoted_press"] <= POOLS["quoted_press"]  # a few need their image
    assert len({r["id"] for r in real}) == len(real)
    assert {r["label"] for r in real} <= set(DATA_LABELS)
    assert {r["confidence"] for r in real} <= {"high", "medium", "low"}
    assert {r["split"] for r in real} == {"train", "test"}


@pytest.mark.parametrize("pool", sorted(POOLS))
def test_real_label_ids_are_in_the_shared_pool(real, pool):
    texts = REAL_TEXTS.parent / f"{pool}_fr.csv"
    if not texts.is_file():
        pytest.skip("the shared pool of real posts is absent")
    _, rows = _rows(texts)
    ours = {r["id"] for r in real if r["source"] == pool}
    assert ours <= {r["id"] for r in rows}
    assert len(ours) >= len(rows) - 15


def test_every_real_post_has_two_labelling_passes():
    folder = ROOT / "data" / "labelling"
    def lines(pattern: str) -> int:
        total = 0
        for path in folder.glob(pattern):
            with open(path) as f:
                total += sum(1 for _ in f)
        return total

    first = lines("*.pass1.csv") + lines("*.passA*.csv")
    second = lines("*.pass2*.csv") + lines("*.passB*.csv")
    assert first - 4 == second - 5 == sum(POOLS.values())  # less one header line per file


def test_project_holds_no_copied_tweet():
    tool = ROOT.parent / "shared" / "tools" / "check_no_copied_tweets.py"
    if not tool.is_file():
        pytest.skip("the shared copy checker is absent")
    done = subprocess.run([sys.executable, str(tool), str(ROOT)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout
