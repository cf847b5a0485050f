"""The public result types: :class:`Assessment`, :class:`Evidence`, :class:`ReviewPolicy`.

Plain frozen dataclasses, importing nothing heavy; :mod:`tonecheck.runtime` makes them and
:mod:`tonecheck.assess` is the entry point.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from tonecheck.labels import LABELS, Label

__all__ = ["ReviewPolicy", "Evidence", "Assessment", "DEFAULT_POLICY", "LABEL_ORDER", "DEFAULT_MARGIN"]

LABEL_ORDER = tuple(Label(v) for v in LABELS)
# Reasons given in Assessment.review_reasons.
REASON_UNSURE = "unsure"
REASON_OUT_OF_SCOPE = "out-of-scope"
REASON_NOT_FRENCH = "not-french"
REASON_NO_WORDS = "no-words"
REASON_CLOSE_CALL = "close-call"


#: The close-call margin of a model file that does not store its own: a model chooses its margin
#: with its other review thresholds on unseen real sources (see README, "The review flag").
DEFAULT_MARGIN = 0.2

@dataclass(frozen=True)
class ReviewPolicy:
    """When ``needs_review`` is set. ``None`` keeps the model's own threshold.

    - ``min_confidence``: a top probability below it is ``unsure`` (default: the threshold the
      model learned in cross-validation, where a prediction is right less than half the time);
    - ``min_margin``: a gap between the two most probable labels below it is a ``close-call``
      (default: the model's margin, chosen with the other two on unseen real sources);
    - ``min_in_scope``: an in-scope probability below it is ``out-of-scope`` (default: the
      model's threshold, chosen on real posts);
    - ``label_thresholds``: a minimum top probability per label, e.g. ``{"tone-deaf": 0.9}``
      to send every tone-deaf verdict below 90 % to a person (``unsure``).

    >>> ReviewPolicy(min_margin=0.3).min_margin
    0.3
    """

    min_confidence: float | None = None
    min_margin: float | None = None
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

        >>> from tonecheck import assess
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

