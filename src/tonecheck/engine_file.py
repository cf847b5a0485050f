"""The engine file: an :class:`~tonecheck.engine.Engine` as an ``.npz`` of plain arrays.

Every stored field is declared once, in :data:`STORED`: the fields of the reader settings, the
feature space and the scorer, each with how it is kept (JSON parameter, float array, string
list, string table, bytes). :func:`engine_to_bytes` and :func:`engine_from_bytes` both walk that
declaration, so a field cannot be written and not read (test_engine checks that it names
every field of the three classes). The file is read with ``allow_pickle=False``: loading runs no
code from it.

A model folder is code: whoever can write it decides what tonecheck runs. What an engine file
may hold is therefore checked before it is used: sizes (a small file that inflates to gigabytes
is refused before it is inflated), finite weights, array shapes, and tokenizer rules that are
exactly those of the spaCy model tonecheck was built with (a crafted pattern could make every
post take hours).

Format history: 1 (tonecheck 0.1: flat parameters, no text rules), 2 (fields by component,
``reading.text_rules``). A format-1 file is refused with the command that rebuilds it.
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import json
import os
import zipfile
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from tonecheck.engine import Engine
from tonecheck.errors import ModelVersionError
from tonecheck.labels import LABELS
from tonecheck.reading import ReaderSettings
from tonecheck.results import DEFAULT_MARGIN
from tonecheck.scorer import LinearScorer
from tonecheck.space import FeatureSpace

__all__ = ["ENGINE_FORMAT", "STORED", "engine_to_bytes", "engine_from_bytes"]

#: Version of the layout written by :func:`engine_to_bytes`.
ENGINE_FORMAT = 2

#: What an engine file holds: component → (its class, {field: how it is stored}). A field whose
#: value is None is left out of the file and read back as None.
STORED: dict[str, tuple[type, dict[str, str]]] = {
    "reading": (ReaderSettings, {"tokenizer": "param", "tokenizer_rules": "bytes", "special_cases": "bytes",
                                 "text_rules": "param", "word_runs": "param"}),
    "space": (FeatureSpace, {"word_vocab": "vocab", "word_idf": "floats", "char_vocab": "vocab",
                             "char_idf": "floats", "char_range": "param", "word_ngrams": "param",
                             "lemma_table": "table", "cues": "param", "cue_weight": "param"}),
    "scorer": (LinearScorer, {"coef": "floats", "intercept": "floats", "scope_coef": "floats",
                              "scope_intercept": "param", "review_threshold": "param",
                              "scope_threshold": "param", "review_margin": "param"}),
}
# The JSON type each parameter must have (bool is checked apart: it is an int in Python).
_PARAM_TYPES: dict[str, tuple[type, ...]] = {
    "tokenizer": (str,), "text_rules": (list,), "word_runs": (bool,),
    "char_range": (list, type(None)), "word_ngrams": (int,),
    "cues": (bool,), "cue_weight": (int, float), "scope_intercept": (int, float),
    "review_threshold": (int, float), "scope_threshold": (int, float), "review_margin": (int, float),
}
# Parameters added within a format, and the value a file written before them gets.
_ADDED_PARAMS: dict[str, Any] = {"review_margin": DEFAULT_MARGIN, "word_runs": False}

MAX_MEMBER_BYTES = 256 * 2**20
MAX_TOTAL_BYTES = 512 * 2**20
MAX_COMPRESSION_RATIO = 100
#: SHA-256 of the prefix, suffix, infix and URL rules of the spaCy models tonecheck knows.
KNOWN_TOKENIZER_RULES = {"a0d65046f9789b05562e792d362de1fdfc17eccbdac68d8db2d1523c250d0eb2": "fr_core_news_sm 3.8.0"}


def engine_to_bytes(engine: Engine) -> bytes:
    """The engine as a compressed ``.npz``; see :func:`engine_from_bytes`."""
    params: dict[str, Any] = {"format": ENGINE_FORMAT, "labels": list(LABELS)}
    arrays: dict[str, np.ndarray] = {}
    for component, (_, fields) in STORED.items():
        obj = getattr(engine, component)
        params[component] = {}
        for name, kind in fields.items():
            value = getattr(obj, name)
            if kind == "param":
                params[component][name] = list(value) if isinstance(value, tuple) else value
            elif value is not None:
                _put(arrays, f"{component}.{name}", kind, value)
    arrays["params"] = _string_array([json.dumps(params)])
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **arrays)  # type: ignore[arg-type]
    return buffer.getvalue()


def engine_from_bytes(data: bytes | os.PathLike[str] | str) -> Engine:
    """Load an engine written by :func:`engine_to_bytes` (bytes or a path); raises ValueError
    (or :class:`~tonecheck.errors.ModelVersionError` for another format) naming what is wrong."""
    source: Any = io.BytesIO(data) if isinstance(data, bytes) else data
    _check_archive(source)
    with np.load(source, allow_pickle=False) as npz:
        params = json.loads(_strings(npz["params"])[0]) if "params" in npz else {}
        if not isinstance(params, dict) or params.get("format") != ENGINE_FORMAT:
            found = params.get("format") if isinstance(params, dict) else None
            raise ModelVersionError(f"engine format {found!r} is not {ENGINE_FORMAT} (format 1 is tonecheck 0.1's); "
                                    "retrain the model with `tonecheck train`")
        if params.get("labels") != list(LABELS):
            raise ValueError(f"engine predicts labels {params.get('labels')}, not {list(LABELS)}")
        parts: dict[str, Any] = {}
        for component, (cls, fields) in STORED.items():
            given = params.get(component)
            if not isinstance(given, dict):
                raise ValueError(f"its parameters have no {component!r} section")
            kwargs: dict[str, Any] = {}
            for name, kind in fields.items():
                if kind == "param":
                    kwargs[name] = _param(given, name)
                else:
                    member = f"{component}.{name}"
                    present = (member + ".keys" if kind == "table" else member) in npz
                    kwargs[name] = _get(npz, member, kind) if present else None
            _check_values(component, kwargs)
            parts[component] = cls(**kwargs)
    return Engine(parts["space"], parts["scorer"], parts["reading"])


def _param(given: Mapping[str, Any], name: str) -> Any:
    if name not in given and name in _ADDED_PARAMS:
        return _ADDED_PARAMS[name]
    if name not in given:
        raise ValueError(f"parameter {name!r} is missing")
    value = given[name]
    types = _PARAM_TYPES[name]
    if not isinstance(value, types) or (isinstance(value, bool) and bool not in types):
        raise ValueError(f"parameter {name!r} must be {' or '.join(t.__name__ for t in types)}, "
                         f"not {type(value).__name__}")
    return tuple(value) if isinstance(value, list) else value


def _check_values(component: str, kwargs: dict[str, Any]) -> None:
    if component == "reading":
        _check_tokenizer(kwargs["tokenizer_rules"], kwargs["special_cases"])
    for name, value in kwargs.items():
        kind = STORED[component][1][name]
        is_float = kind == "floats" or (kind == "param" and isinstance(value, float))
        if is_float and value is not None and not np.isfinite(np.asarray(value, dtype=np.float64)).all():
            raise ValueError(f"its {component}.{name} holds NaN or infinite values")


# -- storage kinds -------------------------------------------------------------------------------
def _put(arrays: dict[str, np.ndarray], member: str, kind: str, value: Any) -> None:
    if kind == "floats":
        arrays[member] = np.asarray(value, dtype=np.float64)
    elif kind == "bytes":
        arrays[member] = np.frombuffer(value, dtype=np.uint8)
    elif kind == "vocab":  # strings in column order
        arrays[member] = _string_array(sorted(value, key=value.__getitem__))
    elif kind == "table":  # keys, then values
        arrays[member + ".keys"] = _string_array(list(value))
        arrays[member + ".values"] = _string_array(list(value.values()))
    else:  # pragma: no cover - STORED names only the kinds above
        raise ValueError(f"unknown storage kind {kind!r}")


def _get(npz: Any, member: str, kind: str) -> Any:
    if kind == "floats":
        array = npz[member]
        if array.dtype != np.float64:
            raise ValueError(f"its {member} holds {array.dtype}, not float64")
        return array
    if kind == "bytes":
        return npz[member].tobytes()
    if kind == "vocab":
        words = _strings(npz[member])
        vocab = dict(zip(words, range(len(words)), strict=True))
        if len(vocab) != len(words):
            raise ValueError(f"its {member} lists an entry twice")
        return vocab
    keys, values = _strings(npz[member + ".keys"]), _strings(npz[member + ".values"])
    if len(keys) != len(values):
        raise ValueError(f"its {member} has {len(keys)} keys for {len(values)} values")
    return dict(zip(keys, values, strict=True))


def _strings(array: np.ndarray) -> list[str]:
    if array.dtype != np.uint8:
        raise ValueError(f"a string array holds {array.dtype}, not bytes")
    text = array.tobytes().decode("utf-8")
    return text.split("\n") if text else []


def _string_array(strings: Sequence[str]) -> np.ndarray:
    if any("\n" in s for s in strings):  # pragma: no cover - tokens never hold white space
        raise ValueError("a vocabulary entry holds a line break")
    return np.frombuffer("\n".join(strings).encode("utf-8"), dtype=np.uint8)


# -- safety checks -------------------------------------------------------------------------------
def _check_archive(source: Any) -> None:
    """Refuse an ``.npz`` whose arrays would be too large, or too compressed, to read."""
    with zipfile.ZipFile(source) as archive:
        members = archive.infolist()
        total = sum(m.file_size for m in members)
        if total > MAX_TOTAL_BYTES:
            raise ValueError(f"its arrays would take {total:,} bytes; at most {MAX_TOTAL_BYTES:,} are read")
        for m in members:
            if m.file_size > MAX_MEMBER_BYTES:
                raise ValueError(f"array {m.filename} would take {m.file_size:,} bytes; at most {MAX_MEMBER_BYTES:,}")
            if m.file_size > 2**20 and m.file_size > MAX_COMPRESSION_RATIO * max(m.compress_size, 1):
                raise ValueError(f"array {m.filename} is compressed {m.file_size // max(m.compress_size, 1)}-fold "
                                 f"(at most {MAX_COMPRESSION_RATIO}): refused as a decompression bomb")
    if hasattr(source, "seek"):
        source.seek(0)


def _known_token_match() -> frozenset[str]:
    """SHA-256 of every token_match pattern of spaCy's French tokenizer (file in the package)."""
    from importlib.resources import files

    known = files("tonecheck").joinpath("known").joinpath("fr_core_news_sm-3.8.0.token_match.json")
    text = known.read_text(encoding="utf-8")
    return frozenset(json.loads(text)["sha256"])


def _check_tokenizer(rules: bytes | None, special_cases: bytes | None) -> None:
    if rules is None:
        return
    digest = hashlib.sha256(rules).hexdigest()
    if digest not in KNOWN_TOKENIZER_RULES:
        raise ValueError(f"its tokenizer rules (SHA-256 {digest[:12]}…) are not those of a known spaCy model "
                         f"({', '.join(KNOWN_TOKENIZER_RULES.values())}); retrain it with `tonecheck train`")
    if special_cases is not None:
        import srsly

        patterns = srsly.msgpack_loads(special_cases).get("token_match") or []
        known = _known_token_match()
        unknown = [p for p in patterns if hashlib.sha256(p.encode()).hexdigest() not in known]
        if unknown:
            raise ValueError(f"{len(unknown)} token_match pattern(s) are not spaCy's French patterns, "
                             f"e.g. {unknown[0][:60]!r}; retrain it with `tonecheck train`")


def stored_fields() -> dict[str, set[str]]:
    """The init fields of each stored class (what :data:`STORED` must name)."""
    return {component: {f.name for f in dataclasses.fields(cls) if f.init} for component, (cls, _) in STORED.items()}
