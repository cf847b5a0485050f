"""Exceptions raised by tonecheck: one class per failure, each subclassing a built-in."""

from __future__ import annotations

__all__ = [
    "ToneCheckError",
    "EmptyTextError",
    "TextTooLongError",
    "ModelFileError",
    "ModelIntegrityError",
    "ModelVersionError",
    "TrainingDataError",
]


class ToneCheckError(Exception):
    """Base class of every error tonecheck raises on purpose."""


class EmptyTextError(ToneCheckError, ValueError):
    """The text is empty or holds only white space."""


class TextTooLongError(ToneCheckError, ValueError):
    """The text is longer than :data:`tonecheck.assess.MAX_TEXT_LENGTH` characters."""


class ModelFileError(ToneCheckError, OSError):
    """A model file or its metadata is missing or cannot be read."""


class ModelIntegrityError(ModelFileError):
    """The model file does not match the SHA-256 recorded in its metadata."""


class ModelVersionError(ToneCheckError, RuntimeError):
    """The model was built with other library versions or other labels."""


class TrainingDataError(ToneCheckError, ValueError):
    """The training data is malformed; the message lists the offending rows."""
