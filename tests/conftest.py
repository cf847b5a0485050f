"""Shared fixtures: the spaCy tokenizer, a tiny model fitted on part of the corpus, paths."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
AUTHORED = ROOT / "data" / "authored.csv"
REAL_LABELS = ROOT / "data" / "real_labels.csv"
REAL_TEXTS = ROOT.parent / "shared" / "data" / "real" / "confinement_2020_fr.csv"


@pytest.fixture(scope="session")
def tiny_posts():
    """A small, fixed, balanced sample of the authored corpus (50 per label, 30 none)."""
    from tonecheck.training.corpus import read_posts

    posts = [p for p in read_posts(AUTHORED) if p.split == "train"]
    wanted = {"supportive": 50, "promotional": 50, "tone-deaf": 50, "preventive": 50, "none": 30}
    sample = []
    for p in posts:
        if wanted.get(p.label, 0) > 0:
            sample.append(p)
            wanted[p.label] -= 1
    return sample


@pytest.fixture(scope="session")
def tiny_model_dir(tiny_posts, tmp_path_factory):
    """A tiny model, fitted and saved the way `tonecheck train` does, in a temporary folder."""
    from tonecheck.training.config import TrainConfig
    from tonecheck.training.fitted import save_model
    from tonecheck.training.fitting import fit_model

    model = fit_model(tiny_posts, TrainConfig(char_ngrams=(3, 4), calibration_folds=3))
    folder = tmp_path_factory.mktemp("tiny-model")
    save_model(model, folder, metadata={"note": "test fixture"})
    return folder


@pytest.fixture(scope="session")
def tiny_model(tiny_model_dir):
    from tonecheck import load_model

    return load_model(tiny_model_dir)
