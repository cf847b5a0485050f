"""The public results: ``assess(text) -> Assessment`` and ``assess_many``.

Nothing heavy is imported here at module level: spaCy, scikit-learn and the model load on
the first call, once, behind a cache.
"""

from __future__ import annotations

import contextlib
import functools
import gc
import os
import threading
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tonecheck.errors import EmptyTextError, TextTooLongError
from tonecheck.labels import LABELS, Label
from tonecheck.language import looks_french

if TYPE_CHECKING:
    from tonecheck.engine import Engine
    from tonecheck.model import ToneModel

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

#: Longest text accepted, in characters: far above any platform's caption limit
#: (X: 280 or 25,000 for paid accounts, Instagram: 2,200, LinkedIn: 3,000, TikTok: 4,000).
MAX_TEXT_LENGTH = 50_000
#: How many evidence items an assessment keeps at most.
MAX_EVIDENCE = 8
#: Evidence keeps words whose weight is at least this share of the strongest word's.
EVIDENCE_SHARE = 0.2

# Reasons given in Assessment.review_reasons.
REASON_UNSURE = "unsure"
REASON_OUT_OF_SCOPE = "out-of-scope"
REASON_NOT_FRENCH = "not-french"
REASON_NO_WORDS = "no-words"
REASON_CLOSE_CALL = "close-call"

#: Default smallest gap between the two most probable labels before a post is flagged as a
#: close call (chosen on the real-only yardstick: see README, "The review flag").
DEFAULT_MARGIN = 0.2


@dataclass(frozen=True)
class ReviewPolicy:
    """When ``needs_review`` is set. ``None`` keeps the model's own threshold.

    - ``min_confidence``: a top probability below it is ``unsure`` (default: the threshold the
      model learned in cross-validation, where a prediction is right less than half the time);
    - ``min_margin``: a gap between the two most probable labels below it is a ``close-call``;
    - ``min_in_scope``: an in-scope probability below it is ``out-of-scope`` (default: the
      model's threshold, chosen on real posts);
    - ``label_thresholds``: a minimum top probability per label, e.g. ``{"tone-deaf": 0.9}``
      to send every tone-deaf verdict below 90 % to a person (``unsure``).

    >>> ReviewPolicy(min_margin=0.3).min_margin
    0.3
    """

    min_confidence: float | None = None
    min_margin: float = DEFAULT_MARGIN
    min_in_scope: float | None = None
    label_thresholds: Mapping[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for name in ("min_confidence", "min_margin", "min_in_scope"):
            value = getattr(self, name)
            if value is not None and not (isinstance(value, (int, float)) and 0.0 <= value <= 1.0):
                raise ValueError(f"{name} must be a number from 0 to 1 (or None), not {value!r}")
        for label, value in self.label_thresholds.items():
            if label not in LABELS:
                raise ValueError(f"label_thresholds: unknown label {label!r}; the labels are {list(LABELS)}")
            if not (isinstance(value, (int, float)) and 0.0 <= value <= 1.0):
                raise ValueError(f"label_thresholds[{label!r}] must be a number from 0 to 1, not {value!r}")


DEFAULT_POLICY = ReviewPolicy()


@dataclass(frozen=True)
class Evidence:
    """A word (or emoji) that pushed toward the label, with its span in the original text."""

    text: str
    start: int
    end: int
    weight: float

    def to_dict(self) -> dict[str, Any]:
        return {"text": self.text, "start": self.start, "end": self.end, "weight": round(self.weight, 4)}


@dataclass(frozen=True)
class Assessment:
    """What tonecheck says of one post.

    ``scores`` holds a calibrated probability for each of the four labels (summing to 1);
    ``label`` is the most probable. ``evidence`` lists the words that pushed toward that
    label, strongest first. ``needs_review`` is true when a person should look: the model is
    unsure, the post looks out of scope, or it does not look French (``review_reasons``).
    """

    label: Label | None
    scores: Mapping[Label, float]
    evidence: tuple[Evidence, ...] = ()
    needs_review: bool = False
    review_reasons: tuple[str, ...] = ()
    in_scope: float = 1.0
    #: Why the item could not be assessed (only from ``assess_many(..., errors="mark")``);
    #: then ``label`` is None and ``scores`` is empty.
    error: str | None = None

    def __repr__(self) -> str:
        if self.error is not None:
            return f"Assessment(label=None, error={self.error!r})"
        assert self.label is not None
        top = max(self.scores.values())
        return (
            f"Assessment(label={self.label.value!r}, score={top:.2f}, "
            f"needs_review={self.needs_review!r}, review_reasons={self.review_reasons!r})"
        )

    def to_record(self) -> dict[str, Any]:
        """A flat dict whose keys are ``tonecheck score``'s output columns.

        ``pandas.DataFrame(r.to_record() for r in results)`` is the scored table.

        >>> sorted(assess("Merci aux soignants").to_record())  # doctest: +NORMALIZE_WHITESPACE
        ['error', 'evidence', 'label', 'needs_review', 'review_reasons', 'score_preventive',
         'score_promotional', 'score_supportive', 'score_tone_deaf']
        """
        record: dict[str, Any] = {"label": self.label.value if self.label is not None else None}
        for lab in LABEL_ORDER:
            score = self.scores.get(lab)
            record[f"score_{lab.value.replace('-', '_')}"] = None if score is None else round(score, 6)
        record["needs_review"] = self.needs_review if self.error is None else None
        record["review_reasons"] = list(self.review_reasons)
        record["evidence"] = [[e.text, e.start, e.end, round(e.weight, 4)] for e in self.evidence]
        record["error"] = self.error
        return record

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict: label, the four scores, review flag and reasons, evidence."""
        return {
            "label": self.label.value if self.label is not None else None,
            "scores": {k.value: round(v, 6) for k, v in self.scores.items()},
            "needs_review": self.needs_review,
            "review_reasons": list(self.review_reasons),
            "in_scope": round(self.in_scope, 6),
            "evidence": [e.to_dict() for e in self.evidence],
            "error": self.error,
        }


@dataclass(frozen=True)
class Model:
    """A loaded tone model and its metadata (see :func:`load_model`).

    ``engine`` is what predictions run; ``model`` the fitted scikit-learn estimators behind
    it, read from the model's skops file on first use (this imports scikit-learn).
    """

    engine: Engine
    metadata: dict[str, Any] = field(default_factory=dict)
    path: Path | None = None

    @functools.cached_property
    def model(self) -> ToneModel:
        from tonecheck.errors import ModelFileError
        from tonecheck.model import read_model

        if self.engine.fallback is not None:
            return self.engine.fallback
        if self.path is None:
            raise ModelFileError("this model was not loaded from a file: it has no estimators to read")
        return read_model(self.path)[0]


def load_model(path: str | os.PathLike[str] | None = None) -> Model:
    """Load a model saved by ``tonecheck train`` (``PATH.skops`` + ``PATH.npz`` + ``PATH.json``,
    or their folder).

    Without a path, the model shipped with tonecheck. The files are checked against their
    SHA-256 and library versions first; the engine is read without pickle, the estimators
    (when needed) by skops with an explicit trusted-type list.
    """
    from tonecheck.model import default_model_path, read_engine

    p = Path(path) if path is not None else default_model_path()
    engine, meta = read_engine(p)
    return Model(engine, meta, p)


_default_lock = threading.Lock()


def _new_default_lock() -> None:  # a forked child must not inherit a lock held by a thread
    global _default_lock
    _default_lock = threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_new_default_lock)


@functools.lru_cache(maxsize=1)
def _default_model() -> Model:
    return load_model()


def _resolve(model: Model | None) -> Model:
    if model is not None:
        if not isinstance(model, Model):
            raise TypeError(f"model must be a tonecheck Model from load_model(), not {type(model).__name__}")
        return model
    with _default_lock:
        return _default_model()


def check_text(text: object, *, name: str = "text") -> str:
    """Return ``text`` if tonecheck can assess it, else raise the documented error."""
    if not isinstance(text, str):
        blank = " (NaN: a blank cell?)" if isinstance(text, float) and text != text else ""
        raise TypeError(f"{name} must be a str, not {type(text).__name__}{blank}")
    if not text.strip():
        raise EmptyTextError(f"{name} is empty or only white space; there is nothing to assess")
    if len(text) > MAX_TEXT_LENGTH:
        raise TextTooLongError(
            f"{name} has {len(text):,} characters; the maximum is {MAX_TEXT_LENGTH:,} "
            "(far above any platform's caption limit)"
        )
    return text


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
    return _assess_checked([text], _resolve(model), _policy(review))[0]


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
    loaded = _resolve(model)
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
        batches = _checked_batches(texts, batch_size, mark)
        if n_process == 1:
            scored: Iterator[list[Assessment]] = (_merge(b, _assess_checked(_good(b), loaded, policy)) for b in batches)
        else:
            scored = _assess_in_processes(batches, loaded, n_process, policy)
        for results in scored:
            yield from results
            if bar is not None:
                bar.update(len(results))
    finally:
        if bar is not None:
            bar.close()


# A checked item: its text (None when it is in error) and its error message.
_Item = tuple[str | None, str | None]


def _checked_batches(texts: Iterable[str], batch_size: int, mark: bool = False) -> Iterator[list[_Item]]:
    batch: list[_Item] = []
    for i, text in enumerate(texts):
        try:
            batch.append((check_text(text, name=f"texts[{i}]"), None))
        except (TypeError, ValueError) as e:
            if not mark:
                raise
            batch.append((None, str(e)))
        if len(batch) >= batch_size:
            yield batch
            batch = []
    if batch:
        yield batch


def _good(batch: list[_Item]) -> list[str]:
    return [text for text, _ in batch if text is not None]


def _merge(batch: list[_Item], results: list[Assessment]) -> list[Assessment]:
    """The results of the good items, with an error assessment in place of each bad one."""
    scored = iter(results)
    return [next(scored) if text is not None else _error_assessment(error or "") for text, error in batch]


def _error_assessment(error: str) -> Assessment:
    return Assessment(label=None, scores={}, needs_review=True, error=error)


_worker_model: Model | None = None


def _init_worker(model: Model | None) -> None:
    global _worker_model
    if model is not None:  # spawned worker: the model came pickled, or is loaded from its path
        _worker_model = model
    else:
        _worker_model = _default_model()


def _work(batch: list[str], policy: ReviewPolicy = DEFAULT_POLICY) -> list[_Row]:
    assert _worker_model is not None
    return _rows(batch, _worker_model, policy)


@contextlib.contextmanager
def _worker_pool(loaded: Model, n_process: int) -> Iterator[Any]:
    """A pool of ``n_process`` processes holding ``loaded``; :func:`_work` scores a batch there."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    global _worker_model
    # Fork only while this is the one thread: a lock that another thread holds at the fork
    # (an import lock, spaCy's, a BLAS library's) stays held for ever in the child, which
    # then hangs. With other threads alive the workers come from a fork server instead, and
    # the model is sent to them (slower to start: each worker imports spaCy).
    methods = multiprocessing.get_all_start_methods()
    fork = "fork" in methods and threading.active_count() == 1
    if fork:
        # Forked workers share the loaded model and tokenizer copy-on-write. Objects that
        # exist now are frozen out of the garbage collector's reach while the pool lives, so
        # the workers' collections do not touch (and copy) every page of them.
        _worker_model = loaded
        context = multiprocessing.get_context("fork")
        gc.freeze()
    else:  # the model is pickled to each worker
        context = multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")
    pool = ProcessPoolExecutor(n_process, mp_context=context, initializer=_init_worker, initargs=(loaded,))
    try:
        yield pool
    except BaseException:
        pool.shutdown(wait=True, cancel_futures=True)
        raise
    else:
        pool.shutdown(wait=True)
    finally:
        if fork:
            gc.unfreeze()


def _assess_in_processes(
    batches: Iterator[list[_Item]], loaded: Model, n_process: int, policy: ReviewPolicy = DEFAULT_POLICY
) -> Iterator[list[Assessment]]:
    from collections import deque

    with _worker_pool(loaded, n_process) as pool:
        pending: deque = deque()

        def done() -> list[Assessment]:
            batch, future = pending.popleft()
            return _merge(batch, [_assessment(row) for row in future.result()])

        for batch in batches:
            pending.append((batch, pool.submit(_work, _good(batch), policy)))
            if len(pending) >= 2 * n_process:
                yield done()
        while pending:
            yield done()


# One assessment as plain data (what worker processes send back, cheap to pickle): label
# index, the four scores, in-scope probability, review reasons, evidence (text, start, end, weight).
_Row = tuple[int, tuple[float, ...], float, tuple[str, ...], tuple[tuple[str, int, int, float], ...]]
_LABELS = tuple(Label(v) for v in LABELS)
LABEL_ORDER = _LABELS


def _evidence(text: str, words: list, token_w: Any) -> tuple[tuple[str, int, int, float], ...]:
    """The strongest positive tokens, merged by span, keeping those within 20 % of the top."""
    positive = (token_w > 0).nonzero()[0]
    if not positive.size:
        return ()
    by_span: dict[tuple[int, int], float] = {}
    for k, w in zip(positive.tolist(), token_w[positive].tolist()):
        t = words[k]
        by_span[t.start, t.end] = by_span.get((t.start, t.end), 0.0) + w
    ranked = sorted([(-w, s, e) for (s, e), w in by_span.items()])[:MAX_EVIDENCE]  # strongest, then first
    floor = EVIDENCE_SHARE * -ranked[0][0]
    return tuple((text[s:e], s, e, -w) for w, s, e in ranked if -w >= floor)


def _rows(texts: list[str], loaded: Model, policy: ReviewPolicy = DEFAULT_POLICY) -> list[_Row]:
    if not texts:
        return []
    engine = loaded.engine
    batch = engine.run(texts)
    ranked = batch.proba.copy()
    ranked.sort(axis=1)
    top, margin = ranked[:, -1].tolist(), (ranked[:, -1] - ranked[:, -2]).tolist()
    best_of = batch.proba.argmax(axis=1).tolist()
    in_scope = batch.in_scope.tolist()
    min_confidence = engine.review_threshold if policy.min_confidence is None else policy.min_confidence
    min_in_scope = engine.scope_threshold if policy.min_in_scope is None else policy.min_in_scope
    per_label = [policy.label_thresholds.get(lab, 0.0) for lab in LABELS]
    rows = []
    for i, (analysis, words, proba) in enumerate(zip(batch.analyses, batch.words, batch.proba.tolist())):
        reasons = []
        if not any(any(ch.isalpha() for ch in t.lower) for t in words):
            reasons.append(REASON_NO_WORDS)
        elif not looks_french(analysis):
            reasons.append(REASON_NOT_FRENCH)
        if top[i] < max(min_confidence, per_label[best_of[i]]):
            reasons.append(REASON_UNSURE)
        elif margin[i] < policy.min_margin:
            reasons.append(REASON_CLOSE_CALL)
        if in_scope[i] < min_in_scope:
            reasons.append(REASON_OUT_OF_SCOPE)
        evidence = _evidence(analysis.text, words, batch.token_weights[i])
        rows.append((best_of[i], tuple(proba), in_scope[i], tuple(reasons), evidence))
    return rows


def _assessment(row: _Row) -> Assessment:
    best, proba, in_scope, reasons, evidence = row
    return Assessment(
        label=_LABELS[best],
        scores=dict(zip(_LABELS, proba)),
        evidence=tuple(Evidence(*e) for e in evidence),
        needs_review=bool(reasons),
        review_reasons=reasons,
        in_scope=in_scope,
    )


def _assess_checked(texts: list[str], loaded: Model, policy: ReviewPolicy = DEFAULT_POLICY) -> list[Assessment]:
    return [_assessment(row) for row in _rows(texts, loaded, policy)]
