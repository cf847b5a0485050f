"""The label guide's decided cases for a configuration, before training the shipped model.

    python scripts/decided_cases.py                      # TrainConfig()
    python scripts/decided_cases.py '{"cues": false}'    # TrainConfig changes, as JSON

Fits the configuration on every post (data/authored.csv and the real posts, as `make train`
does, without its cross-validation: about 30 s) and prints each case of
``tests/test_decided_cases.py`` with the label it gets, then how many are right. Needs
../shared/data/real beside the project.
"""

from __future__ import annotations

import importlib.util
import json
import pathlib
import sys
from dataclasses import replace

ROOT = pathlib.Path(__file__).resolve().parent.parent


def main(argv: list[str]) -> int:
    from tonecheck.labels import LABELS
    from tonecheck.training.config import TrainConfig
    from tonecheck.training.corpus import without_duplicates
    from tonecheck.training.fitting import fit_model, prepare
    from tonecheck.training.train import load_training_posts

    spec = importlib.util.spec_from_file_location("decided", ROOT / "tests" / "test_decided_cases.py")
    assert spec is not None and spec.loader is not None
    decided = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(decided)
    cases = [case.values if hasattr(case, "values") else case for case in decided.CASES]

    config = replace(TrainConfig(), **json.loads(argv[0] if argv else "{}"))
    posts = load_training_posts([str(ROOT / "data" / "authored.csv")], str(ROOT / "data" / "real_labels.csv"),
                                str(ROOT.parent / "shared" / "data" / "real"), all_splits=True)
    posts, _ = without_duplicates(posts)
    ready = prepare([p.text for p in posts], config)
    model = fit_model(posts, config, analyses=ready.analyses, lemma_table=ready.lemma_table,
                      special_cases=ready.special_cases)
    proba = model.predict_proba(model.featurizer.transform([text for text, _ in cases]))
    right = 0
    for (text, label), p in zip(cases, proba, strict=True):
        got = LABELS[int(p.argmax())]
        right += got == label
        print(f"{'right' if got == label else 'WRONG'}  {got:<12} {p.max():.2f}  guide: {label:<12} {text}")
    print(f"{right} of {len(cases)} right with {config}")
    return 0 if right == len(cases) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
