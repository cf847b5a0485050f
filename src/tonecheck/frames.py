"""pandas helpers: a DataFrame of drafts in, the same frame with tonecheck's columns out.

pandas is not a dependency of tonecheck; this module imports it only when called.
"""

from __future__ import annotations

from typing import Any

from tonecheck.assess import Model, ReviewPolicy, assess_many

__all__ = ["assess_frame"]


def assess_frame(
    frame: Any,
    column: str = "text",
    *,
    model: Model | None = None,
    review: ReviewPolicy | None = None,
    progress: bool = False,
    prefix: str = "",
) -> Any:
    """A copy of ``frame`` with ``tonecheck score``'s columns added (``prefix`` before each).

    Blank cells (NaN, None), non-text and over-long texts get an ``error`` and no label;
    every other row is scored. The index and row order are kept.

    >>> import pandas as pd
    >>> drafts = pd.DataFrame({"caption": ["Merci aux soignants ❤️", None]})
    >>> assess_frame(drafts, "caption")[["label", "error"]].to_dict("records")  # doctest: +NORMALIZE_WHITESPACE
    [{'label': 'supportive', 'error': None},
     {'label': None, 'error': 'texts[1] must be a str, not float (NaN: a blank cell?)'}]
    """
    import pandas as pd

    if column not in frame.columns:
        raise KeyError(f"no column {column!r} in the frame; columns are {list(frame.columns)}")
    results = assess_many(frame[column].tolist(), model=model, review=review, errors="mark", progress=progress)
    records = pd.DataFrame([r.to_record() for r in results], index=frame.index)
    records = records.astype(object).where(records.notna(), None)
    clash = set(frame.columns) & {prefix + c for c in records.columns}
    if clash:
        raise ValueError(f"the frame already has column(s) {sorted(clash)}; pass prefix='tonecheck_'")
    return pd.concat([frame, records.add_prefix(prefix)], axis=1)
