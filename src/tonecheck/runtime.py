"""What runs behind :func:`~tonecheck.assess.assess`: the loaded model and the default one,
input checks, scoring a batch into assessments (review policy, evidence), and worker
processes that score batches in input order. :mod:`tonecheck.batch` is a client of it too.
"""

from __future__ import annotations

import contextlib
import functools
import gc
import os
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from itertools import chain, starmap
from operator import attrgetter
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from tonecheck.errors import EmptyTextError, TextTooLongError
from tonecheck.labels import LABELS
from tonecheck.language import looks_french_many
from tonecheck.results import (
    DEFAULT_POLICY,
    LABEL_ORDER,
    REASON_CLOSE_CALL,
    REASON_NO_WORDS,
    REASON_NOT_FRENCH,
    REASON_OUT_OF_SCOPE,
    REASON_UNSURE,
    Assessment,
    Evidence,
    ReviewPolicy,
)

if TYPE_CHECKING:
    from multiprocessing.context import BaseContext

    from tonecheck.engine import Engine

__all__ = ["MAX_TEXT_LENGTH", "Model", "load_model", "resolve_model", "check_text", "score_texts",
           "score_rows", "assessment_of", "worker_pool", "score_in_worker", "in_order", "checked_batches",
           "good_texts", "merged", "error_assessment", "Row", "Item"]

#: Longest text accepted, in characters: far above any platform's caption limit
#: (X: 280 or 25,000 for paid accounts, Instagram: 2,200, LinkedIn: 3,000, TikTok: 4,000).
MAX_TEXT_LENGTH = 50_000


@dataclass(frozen=True)
class Model:
    """A loaded tone model: its engine (what predictions run), its metadata and where it was
    read from (see :func:`load_model`). The fitted scikit-learn estimators behind it are read
    by :func:`tonecheck.training.fitted.read_model`, for retraining and inspection."""

    engine: Engine
    metadata: dict[str, Any] = field(default_factory=dict)
    path: Path | None = None


def load_model(path: str | os.PathLike[str] | None = None) -> Model:
    """Load a model saved by ``tonecheck train``: its folder or its ``.json``.

    Without a path, the model shipped with tonecheck. The files are checked against their
    SHA-256 and library versions first; the engine is read without pickle.
    """
    from tonecheck.model_folder import default_model_path, read_engine

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


def resolve_model(model: Model | None) -> Model:
    """``model``, checked, or the shipped model (loaded once, on first use)."""
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


# A checked item: its text (None when it is in error) and its error message.
Item = tuple[str | None, str | None]


def checked_batches(texts: Iterable[str], batch_size: int, mark: bool = False) -> Iterator[list[Item]]:
    """Batches of checked items; with ``mark`` a bad text becomes an item in error instead of raising."""
    batch: list[Item] = []
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


def good_texts(batch: list[Item]) -> list[str]:
    return [text for text, _ in batch if text is not None]


def merged(batch: list[Item], results: list[Assessment]) -> list[Assessment]:
    """The results of the good items, with an error assessment in place of each bad one."""
    scored = iter(results)
    return [next(scored) if text is not None else error_assessment(error or "") for text, error in batch]


def error_assessment(error: str) -> Assessment:
    return Assessment(label=None, scores={}, needs_review=True, error=error)


_worker_model: Model | None = None


def _init_worker(model: Model | None) -> None:
    global _worker_model
    _worker_signals()
    # A spawned worker gets the model pickled, or loads it from its path.
    _worker_model = model if model is not None else _default_model()


def _worker_signals() -> None:
    """A worker leaves stopping to its parent: Ctrl-C and a hang-up, which a terminal sends to
    the whole process group, are ignored here (the parent stops the pool), and SIGTERM gets its
    default action back, unblocked. concurrent.futures ends the workers of a broken pool with
    SIGTERM; a worker that blocks it (a parent may fork with it blocked) or inherited a handler
    that does not exit can wait for ever on a queue lock a killed worker held, and the job with it."""
    import signal

    ignored = [signal.SIGINT, *([signal.SIGHUP] if hasattr(signal, "SIGHUP") else [])]
    for s in ignored:
        signal.signal(s, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    if hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {*ignored, signal.SIGTERM})


def score_in_worker(batch: list[str], policy: ReviewPolicy = DEFAULT_POLICY) -> list[Row]:
    """Score a batch in a worker process of :func:`worker_pool`."""
    assert _worker_model is not None
    return score_rows(batch, _worker_model, policy)


@contextlib.contextmanager
def worker_pool(loaded: Model, n_process: int) -> Iterator[Any]:
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
        context: BaseContext = multiprocessing.get_context("fork")
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


T = TypeVar("T")
R = TypeVar("R")


def in_order(
    items: Iterable[T], texts_of: Callable[[T], list[str]], finish: Callable[[T, list[Row]], R], loaded: Model,
    n_process: int, policy: ReviewPolicy = DEFAULT_POLICY, *,
    first_submit: Callable[[], contextlib.AbstractContextManager[Any]] | None = None,
) -> Iterator[R]:
    """Score the texts of each item in ``n_process`` worker processes and yield
    ``finish(item, rows)`` in input order, with at most two items per worker in flight (memory
    stays flat). ``first_submit`` wraps the first submission (it starts the workers)."""
    with worker_pool(loaded, n_process) as pool:
        pending: deque[tuple[T, Any]] = deque()
        first = True
        for item in items:
            texts = texts_of(item)
            future = None
            if texts:
                guard = first_submit() if first and first_submit is not None else contextlib.nullcontext()
                with guard:
                    future = pool.submit(score_in_worker, texts, policy)
                first = False
            pending.append((item, future))
            if len(pending) >= 2 * n_process:
                done, future = pending.popleft()
                yield finish(done, future.result() if future is not None else [])
        while pending:
            done, future = pending.popleft()
            yield finish(done, future.result() if future is not None else [])


# One assessment as plain data (what worker processes send back, cheap to pickle): label
# index, the four scores, in-scope probability, review reasons, evidence (text, start, end, weight).
Row = tuple[int, tuple[float, ...], float, tuple[str, ...], tuple[tuple[str, int, int, float], ...]]
_LABELS = LABEL_ORDER
_LOWER = attrgetter("lower")


@contextlib.contextmanager
def collector_paused() -> Iterator[None]:
    """Python's cyclic garbage collector paused for one batch. Scoring a batch allocates a
    tuple per token and creates no reference cycle, yet each tuple counts toward the next
    collection, and the full ones walk every live object: on one 50,000-character emoji run
    they were three quarters of the time (359 ms with, 86 ms without), and 15-25 % of
    assess_many on ordinary posts. Memory is bounded by the batch; the collector is resumed
    after it (by whichever thread paused it first, if several run at once)."""
    was_enabled = gc.isenabled()
    if was_enabled:
        gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()



def score_rows(texts: list[str], loaded: Model, policy: ReviewPolicy = DEFAULT_POLICY) -> list[Row]:
    if not texts:
        return []
    with collector_paused():
        return _score_rows(texts, loaded, policy)


def _score_rows(texts: list[str], loaded: Model, policy: ReviewPolicy) -> list[Row]:
    from tonecheck.cues import FEW_POSTS  # (numpy: not imported by `import tonecheck`)
    from tonecheck.evidence import evidence_of, evidence_of_batch

    engine = loaded.engine
    batch = engine.run(texts)
    ranked = batch.proba.copy()
    ranked.sort(axis=1)
    top, margin = ranked[:, -1].tolist(), (ranked[:, -1] - ranked[:, -2]).tolist()
    best_of = batch.proba.argmax(axis=1).tolist()
    in_scope = batch.in_scope.tolist()
    min_confidence = engine.review_threshold if policy.min_confidence is None else policy.min_confidence
    min_in_scope = engine.scope_threshold if policy.min_in_scope is None else policy.min_in_scope
    min_margin = engine.review_margin if policy.min_margin is None else policy.min_margin
    per_label = [policy.label_thresholds.get(lab, 0.0) for lab in LABELS]
    french = looks_french_many(batch.analyses)
    texts = [a.text for a in batch.analyses]
    if len(texts) < FEW_POSTS:
        evidence = list(map(evidence_of, texts, batch.words, batch.token_weights))
    else:
        evidence = evidence_of_batch(texts, batch.words, batch.token_weights)
    rows = []
    for i, (words, proba) in enumerate(zip(batch.words, batch.proba.tolist(), strict=True)):
        reasons = []
        if not any(map(str.isalpha, chain.from_iterable(map(_LOWER, words)))):  # (no letter in any word)
            reasons.append(REASON_NO_WORDS)
        elif not french[i]:
            reasons.append(REASON_NOT_FRENCH)
        if top[i] < max(min_confidence, per_label[best_of[i]]):
            reasons.append(REASON_UNSURE)
        elif margin[i] < min_margin:
            reasons.append(REASON_CLOSE_CALL)
        if in_scope[i] < min_in_scope:
            reasons.append(REASON_OUT_OF_SCOPE)
        rows.append((best_of[i], tuple(proba), in_scope[i], tuple(reasons), evidence[i]))
    return rows


def assessment_of(row: Row) -> Assessment:
    best, proba, in_scope, reasons, evidence = row
    return Assessment(
        label=_LABELS[best],
        scores=dict(zip(_LABELS, proba, strict=True)),
        evidence=tuple(starmap(Evidence, evidence)),
        needs_review=bool(reasons),
        review_reasons=reasons,
        in_scope=in_scope,
    )


def score_texts(texts: list[str], loaded: Model, policy: ReviewPolicy = DEFAULT_POLICY) -> list[Assessment]:
    # the assessments too are made with the collector paused: made after it resumed, a batch's
    # ~10 objects per post set off 10-15 collections per 512 posts, some of them full ones
    # (5.6 % of assess_many on never-seen posts)
    if not texts:
        return []
    with collector_paused():
        return [assessment_of(row) for row in _score_rows(texts, loaded, policy)]

