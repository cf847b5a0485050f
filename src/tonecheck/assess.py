"""The entry point: ``assess(text) -> Assessment`` and ``assess_many``.

Nothing heavy is imported here at module level: spaCy and the model load on the first call,
once, behind a cache. The result types live in :mod:`tonecheck.results`, the machinery in
:mod:`tonecheck.runtime`; their public names are re-exported here.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from tonecheck.results import DEFAULT_POLICY, Assessment, Evidence, ReviewPolicy
from tonecheck.runtime import (
    MAX_TEXT_LENGTH,
    Model,
    assessment_of,
    check_text,
    checked_batches,
    good_texts,
    in_order,
    load_model,
    merged,
    resolve_model,
    score_texts,
)

__all__ = [
    "MAX_TEXT_LENGTH",
    "ReviewPolicy",
    "Evidence",
    "Assessment",
    "Model",
    "assess",
    "assess_many",
    "load_model",
    "check_text",
]

def assess(text: str, *, model: Model | None = None, review: ReviewPolicy | None = None) -> Assessment:
    """Assess one draft post.

    >>> result = assess("Un immense merci à tous les soignants ❤️")
    >>> result.label
    <Label.SUPPORTIVE: 'supportive'>
    >>> round(sum(result.scores.values()), 6)
    1.0

    Raises ``TypeError`` for a non-str, :class:`~tonecheck.errors.EmptyTextError` for empty
    text and :class:`~tonecheck.errors.TextTooLongError` above :data:`MAX_TEXT_LENGTH`.
    """
    check_text(text)
    return score_texts([text], resolve_model(model), _policy(review))[0]


def _policy(review: ReviewPolicy | None) -> ReviewPolicy:
    if review is None:
        return DEFAULT_POLICY
    if not isinstance(review, ReviewPolicy):
        raise TypeError(f"review must be a tonecheck.ReviewPolicy, not {type(review).__name__}")
    return review


def assess_many(
    texts: Iterable[str],
    *,
    model: Model | None = None,
    batch_size: int = 512,
    n_process: int = 1,
    errors: str = "raise",
    progress: bool = False,
    review: ReviewPolicy | None = None,
) -> Iterator[Assessment]:
    """Assess many posts, lazily, in input order, ``batch_size`` at a time.

    Every text is checked as by :func:`assess`. With ``errors="raise"`` (the default) the
    first bad one raises, naming its index; with ``errors="mark"`` a bad item (``None``,
    NaN, a number, empty or too long text) yields an :class:`Assessment` whose ``error``
    says why and whose ``label`` is None, and the batch goes on.

    >>> [r.label.value if r.error is None else r.error for r in
    ...  assess_many(["Merci aux soignants", float("nan")], errors="mark")]
    ['supportive', 'texts[1] must be a str, not float (NaN: a blank cell?)']

    ``n_process > 1`` scores batches in that many worker processes (results stay in input
    order; at most two batches per worker are in flight, so memory stays flat).
    ``progress=True`` shows a tqdm progress bar (in a notebook too).
    """
    if isinstance(texts, str):
        raise TypeError("texts must be an iterable of str, not a single str; use assess() for one post")
    if not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size must be at least 1 (an int), not {batch_size!r}")
    if not isinstance(n_process, int) or n_process < 1:
        raise ValueError(f"n_process must be at least 1 (an int), not {n_process!r}")
    if errors not in ("raise", "mark"):
        raise ValueError(f"errors must be 'raise' or 'mark', not {errors!r}")
    loaded = resolve_model(model)
    return _assess_stream(texts, loaded, batch_size, n_process, errors == "mark", progress, _policy(review))


def _assess_stream(
    texts: Iterable[str], loaded: Model, batch_size: int, n_process: int, mark: bool, progress: bool,
    policy: ReviewPolicy = DEFAULT_POLICY,
) -> Iterator[Assessment]:
    bar = None
    if progress:
        from tqdm.auto import tqdm

        total = len(texts) if hasattr(texts, "__len__") else None  # type: ignore[arg-type]
        bar = tqdm(total=total, unit=" posts")
    try:
        batches = checked_batches(texts, batch_size, mark)
        if n_process == 1:
            scored: Iterator[list[Assessment]] = (
                merged(b, score_texts(good_texts(b), loaded, policy)) for b in batches
            )
        else:
            scored = in_order(batches, good_texts, lambda b, rows: merged(b, [assessment_of(r) for r in rows]),
                              loaded, n_process, policy)
        for results in scored:
            yield from results
            if bar is not None:
                bar.update(len(results))
    finally:
        if bar is not None:
            bar.close()


