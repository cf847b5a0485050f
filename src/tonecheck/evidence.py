"""Evidence: the words that pushed a post toward its label, chosen from its token weights.

A post's evidence is its strongest positive tokens, merged by span (tokens sharing a span in
the user's text add up, in token order), at most :data:`MAX_EVIDENCE` of them, strongest then
first, keeping those within :data:`EVIDENCE_SHARE` of the strongest. :func:`evidence_of_batch`
chooses it for a whole batch in numpy; :func:`evidence_of` is the same rule for one post,
written plainly (the tests check the two agree).
"""

from __future__ import annotations

import heapq
from collections.abc import Sequence
from itertools import chain, pairwise
from operator import attrgetter
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from tonecheck.reading import Token

__all__ = ["MAX_EVIDENCE", "EVIDENCE_SHARE", "EvidenceItem", "evidence_of", "evidence_of_batch"]

#: How many evidence items an assessment keeps at most.
MAX_EVIDENCE = 8
#: Evidence keeps words whose weight is at least this share of the strongest word's.
EVIDENCE_SHARE = 0.2

#: (text, start, end, weight) in the user's text.
EvidenceItem = tuple[str, int, int, float]
_START, _END = attrgetter("start"), attrgetter("end")


def evidence_of(text: str, words: Sequence[Token], token_w: Any) -> tuple[EvidenceItem, ...]:
    """The evidence of one post from its word tokens and their weights."""
    positive = (token_w > 0).nonzero()[0]
    if not positive.size:
        return ()
    by_span: dict[tuple[int, int], float] = {}
    for k, w in zip(positive.tolist(), token_w[positive].tolist(), strict=True):
        t = words[k]
        by_span[t.start, t.end] = by_span.get((t.start, t.end), 0.0) + w
    # strongest, then first (what sorted(...)[:MAX_EVIDENCE] gives, in O(n) for a long post)
    ranked = heapq.nsmallest(MAX_EVIDENCE, [(-w, s, e) for (s, e), w in by_span.items()])
    floor = EVIDENCE_SHARE * -ranked[0][0]
    return tuple((text[s:e], s, e, -w) for w, s, e in ranked if -w >= floor)


def evidence_of_batch(texts: Sequence[str], words: Sequence[Sequence[Token]],
                      token_weights: Sequence[np.ndarray]) -> list[tuple[EvidenceItem, ...]]:
    """``[evidence_of(*post) for post in zip(texts, words, token_weights)]``: the positive
    tokens of the batch merged, ranked and cut in numpy; only the kept items are made in
    Python."""
    weights = np.concatenate(token_weights) if len(token_weights) else np.zeros(0)
    positive = np.flatnonzero(weights > 0)
    if not positive.size:
        return [()] * len(texts)
    tokens = list(chain.from_iterable(words))
    picked = [tokens[k] for k in positive.tolist()]
    doc = np.repeat(np.arange(len(texts)), list(map(len, words)))[positive]
    start = np.fromiter(map(_START, picked), dtype=np.int64, count=len(picked))
    end = np.fromiter(map(_END, picked), dtype=np.int64, count=len(picked))
    doc, start, end, weight = _merged_spans(doc, start, end, weights[positive])
    order = np.lexsort((end, start, -weight, doc))  # per post: strongest, then first
    doc, start, end, weight = doc[order], start[order], end[order], weight[order]
    first = np.searchsorted(doc, doc)  # where each post's items start
    top = weight[first]
    kept = (np.arange(doc.size) - first < MAX_EVIDENCE) & (weight >= EVIDENCE_SHARE * top)
    doc, start, end = doc[kept], start[kept].tolist(), end[kept].tolist()
    spans = [texts[d][s:e] for d, s, e in zip(doc.tolist(), start, end, strict=True)]
    items = list(zip(spans, start, end, weight[kept].tolist(), strict=True))
    cuts = np.searchsorted(doc, np.arange(len(texts) + 1)).tolist()
    return [tuple(items[a:b]) for a, b in pairwise(cuts)]


def _merged_spans(doc: np.ndarray, start: np.ndarray, end: np.ndarray, weight: np.ndarray
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """One item per (post, span), the weights of its tokens added in token order (as
    :func:`evidence_of` adds them: numpy's sums of three or more may add in another order)."""
    d, s, e = np.diff(doc), np.diff(start), np.diff(end)
    if not ((d > 0) | ((d == 0) & ((s > 0) | ((s == 0) & (e >= 0))))).all():  # (tokens are mostly in span order)
        order = np.lexsort((end, start, doc))  # stable: a span's tokens stay in token order
        doc, start, end, weight = doc[order], start[order], end[order], weight[order]
    new = np.ones(doc.size, dtype=bool)
    new[1:] = (doc[1:] != doc[:-1]) | (start[1:] != start[:-1]) | (end[1:] != end[:-1])
    if new.all():
        return doc, start, end, weight
    heads = np.flatnonzero(new)
    sums = weight[heads]
    shared = np.flatnonzero(np.diff(np.append(heads, doc.size)) > 1)
    for g in shared.tolist():
        a, b = heads[g], heads[g + 1] if g + 1 < heads.size else doc.size
        total = 0.0
        for w in weight[a:b].tolist():
            total += w
        sums[g] = total
    return doc[heads], start[heads], end[heads], sums
