"""tonecheck: is a French crisis-time post supportive, promotional, tone-deaf or preventive?

>>> import tonecheck
>>> tonecheck.assess("Lavez-vous les mains et gardez vos distances").label.value
'preventive'
"""

from __future__ import annotations

import logging
from importlib.metadata import PackageNotFoundError, version

from tonecheck.assess import (
    MAX_TEXT_LENGTH,
    Assessment,
    Evidence,
    Model,
    ReviewPolicy,
    assess,
    assess_many,
    load_model,
)
from tonecheck.errors import (
    EmptyTextError,
    ModelFileError,
    ModelIntegrityError,
    ModelVersionError,
    TextTooLongError,
    ToneCheckError,
    TrainingDataError,
)
from tonecheck.labels import Label

try:
    __version__ = version("tonecheck")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0.0.0"

logging.getLogger(__name__).addHandler(logging.NullHandler())

__all__ = [
    "assess",
    "assess_many",
    "Assessment",
    "Evidence",
    "Label",
    "Model",
    "ReviewPolicy",
    "load_model",
    "ToneCheckError",
    "EmptyTextError",
    "TextTooLongError",
    "ModelFileError",
    "ModelIntegrityError",
    "ModelVersionError",
    "TrainingDataError",
    "MAX_TEXT_LENGTH",
    "__version__",
]
