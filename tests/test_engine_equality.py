"""The shipped model's fast path equals scikit-learn's own transform + predict_proba, on a
sample of the corpus and real texts (scripts/check_engine.py checks every text, and the
stored fingerprint)."""

from __future__ import annotations

import importlib.util
import random
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _check_engine():
    spec = importlib.util.spec_from_file_location("check_engine", ROOT / "scripts" / "check_engine.py")
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


@pytest.mark.slow
def test_engine_equals_scikit_learn_on_a_sample():
    check = _check_engine()
    texts, _ = check.read_texts()
    sample = random.Random(13).sample(texts, 300)
    model, fitted = check.load()
    result = check.compare(model, fitted, sample)
    assert result["proba_max_abs"] <= check.TOLERANCE
    assert result["in_scope_max_abs"] <= check.TOLERANCE
    assert result["label_mismatches"] == 0, result["first_mismatches"]
