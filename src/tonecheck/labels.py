"""The four labels tonecheck predicts, as defined in data/LABELS.md."""

from __future__ import annotations

import enum

__all__ = ["Label", "LABELS", "OUT_OF_SCOPE"]


class Label(str, enum.Enum):
    """A tone label. Its value is the string used in data files and JSON output."""

    SUPPORTIVE = "supportive"
    PROMOTIONAL = "promotional"
    TONE_DEAF = "tone-deaf"
    PREVENTIVE = "preventive"

    def __str__(self) -> str:
        return self.value


#: The labels in the fixed order used for score vectors and model classes.
LABELS: tuple[str, ...] = tuple(label.value for label in Label)

#: The data label of posts that fit none of the four labels (never an output label).
OUT_OF_SCOPE = "none"
