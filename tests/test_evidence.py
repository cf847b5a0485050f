"""Evidence chosen for a whole batch is each post's evidence, chosen alone."""

import random

import numpy as np
import pytest

from tonecheck.evidence import MAX_EVIDENCE, evidence_of, evidence_of_batch
from tonecheck.reading import Token


def _post(rng, n):
    text = "".join(rng.choice("abc d€😂") for _ in range(3 * n + 3))
    tokens = []
    for _ in range(n):
        s = rng.randrange(len(text) - 2)
        e = s + rng.choice([1, 1, 2])  # spans repeat: their tokens add up
        tokens.append(Token(text[s:e], s, e, False))
    weights = np.array([rng.choice([-1.0, 0.0, 0.1, 0.3, 1 / 3, 0.5, 2.0]) for _ in range(n)])
    return text, tokens, weights


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("in_order", [False, True])  # tokens as they come: in the order of their spans
def test_a_batchs_evidence_is_each_posts(seed, in_order):
    rng = random.Random(seed)
    posts = [_post(rng, rng.randint(0, 3 * MAX_EVIDENCE)) for _ in range(40)]
    if in_order:
        posts = [(text, sorted(tokens, key=lambda t: (t.start, t.end)), w) for text, tokens, w in posts]
    texts, words, weights = (list(x) for x in zip(*posts, strict=True))
    assert evidence_of_batch(texts, words, weights) == [evidence_of(*p) for p in posts]


def test_a_batch_without_positive_weights_has_no_evidence():
    assert evidence_of_batch(["a", "b"], [[Token("a", 0, 1, False)], []], [np.array([-1.0]), np.zeros(0)]) == [(), ()]

