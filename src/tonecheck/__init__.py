"""tonecheck: is a French crisis-time post supportive, promotional, tone-deaf or preventive?

>>> import tonecheck
>>> tonecheck.assess("Lavez-vous les mains et gardez vos distances").label.value
'preventive'
"""

from __future__ import annotations

import logging
from typing import Any

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


def __getattr__(name: str) -> Any:
    """``tonecheck.__version__``, read from the installed package's metadata when first asked
    for: ``importlib.metadata`` costs more to import than the rest of ``import tonecheck``."""
    if name != "__version__":
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from importlib.metadata import PackageNotFoundError, version

    try:
        value = version("tonecheck")
    except PackageNotFoundError:  # pragma: no cover - running from a source tree
        value = "0.0.0"
    globals()["__version__"] = value
    return value
