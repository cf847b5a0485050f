"""Reading labelled posts for training and evaluation, with checks that name bad rows.

Training files are CSV or JSON Lines with at least ``text`` and ``label`` columns (``label``
one of the four labels or ``none``); an optional ``split`` column (``train``/``test``) and
any other columns are kept. Real tweets are stored as ``id,label,confidence,split`` and
joined with their texts from a separate file at load time.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from tonecheck.errors import TrainingDataError
from tonecheck.labels import LABELS, OUT_OF_SCOPE

__all__ = [
    "Post",
    "DATA_LABELS",
    "MIN_EXAMPLES_PER_LABEL",
    "bundled_corpus",
    "read_table",
    "read_posts",
    "read_real_posts",
    "validate_posts",
    "data_hash",
]

DATA_LABELS: tuple[str, ...] = (*LABELS, OUT_OF_SCOPE)
MIN_EXAMPLES_PER_LABEL = 10


@dataclass(frozen=True)
class Post:
    """One labelled post. ``source`` names the file and row, for error messages; ``group``
    keeps contrast pairs together in cross-validation; ``meta["origin"]`` is ``authored``
    or ``real``."""

    @property
    def is_real(self) -> bool:
        return self.meta.get("origin") == "real"

    text: str
    label: str
    split: str = "train"
    source: str = ""
    group: str = ""
    meta: dict[str, str] = field(default_factory=dict, compare=False)


def bundled_corpus() -> tuple[Path, Path]:
    """The corpus shipped with tonecheck: the authored posts (``authored.csv``) and the real
    posts' ids and labels (``real_labels.csv``; their texts are never shipped).

    Installed, they are package data (``tonecheck/_data``, from the project's ``data/``); run
    from a source checkout (``src/`` on the path, no install), the checkout's ``data/``.
    """
    from importlib.resources import files

    names = ("authored.csv", "real_labels.csv")
    candidates = []
    # ModuleNotFoundError, TypeError: not installed as a package: a source checkout
    with contextlib.suppress(ModuleNotFoundError, TypeError):
        # joinpath: tonecheck._data holds no __init__.py, and str() of a namespace package's
        # files() is no path
        candidates.append(Path(str(files("tonecheck._data").joinpath(names[0]))).parent)
    candidates.append(Path(__file__).resolve().parents[3] / "data")
    for folder in candidates:
        if all((folder / n).is_file() for n in names):
            return folder / names[0], folder / names[1]
    raise TrainingDataError(
        "the bundled corpus is missing: none of " + ", ".join(str(c) for c in candidates)
        + " holds authored.csv and real_labels.csv (reinstall tonecheck)"
    )


def read_table(
    path: str | os.PathLike[str], *, columns: Sequence[str] = (), fmt: str | None = None,
    encoding: str | None = None, delimiter: str | None = None, sheet: str | None = None,
) -> list[dict[str, str]]:
    """Rows of a CSV, JSON Lines or xlsx file (or ``-``: standard input) as dicts of strings.

    Read as ``tonecheck score`` reads its input (:func:`tonecheck.table_input.open_table`:
    format, delimiter and encoding detected unless ``fmt``, ``encoding`` or ``delimiter``
    force them; ``sheet`` names the xlsx sheet). Each name in ``columns`` is matched to the
    file's column ignoring case, white space and a BOM, and the row uses the name given. A
    row that cannot be read refuses the file (:class:`TrainingDataError` naming its line):
    training data must be read whole.
    """
    return _read_table_lines(path, columns=columns, fmt=fmt, encoding=encoding, delimiter=delimiter, sheet=sheet)[0]


def _read_table_lines(
    path: str | os.PathLike[str], *, columns: Sequence[str] = (), fmt: str | None = None,
    encoding: str | None = None, delimiter: str | None = None, sheet: str | None = None,
) -> tuple[list[dict[str, str]], list[int]]:
    """:func:`read_table`'s rows and the line (or sheet row) each starts on."""
    from tonecheck.table_columns import match_column
    from tonecheck.table_input import open_table
    from tonecheck.tables import InputError

    p = Path(path)
    if str(path) != "-" and not p.exists():
        raise TrainingDataError(f"data file not found: {p}")
    rows: list[dict[str, str]] = []
    lines: list[int] = []
    try:
        with open_table(path, fmt=fmt, encoding=encoding, delimiter=delimiter, sheet=sheet) as table:
            renamed: dict[str, str] = {}
            if table.header:
                for wanted in columns:
                    found = match_column(wanted, table.header)
                    if found is not None and found != wanted:
                        renamed[found] = wanted
            for record in table.records:
                if record.error is not None:
                    raise TrainingDataError(f"{table.name}:{record.line}: {record.error}")
                values = record.values
                if not table.header:  # JSON Lines: each row's own keys
                    for wanted in columns:
                        if wanted not in values:
                            found = match_column(wanted, list(values))
                            if found is not None:
                                renamed[found] = wanted
                rows.append({renamed.get(k, k): "" if v is None else str(v) for k, v in values.items()})
                lines.append(record.line)
    except InputError as e:
        raise TrainingDataError(str(e)) from e
    return rows, lines


def read_posts(
    path: str | os.PathLike[str], *, fmt: str | None = None, encoding: str | None = None,
    delimiter: str | None = None, sheet: str | None = None,
) -> list[Post]:
    """Labelled posts from a training file (read as :func:`read_table` reads it; the
    keywords force what is otherwise detected). :func:`validate_posts` checks them."""
    rows, lines = _read_table_lines(path, columns=("text", "label", "split", "pair_id"), fmt=fmt,
                                    encoding=encoding, delimiter=delimiter, sheet=sheet)
    missing = [c for c in ("text", "label") if rows and c not in rows[0]]
    if not rows:
        raise TrainingDataError(f"{path}: no rows")
    if missing:
        from tonecheck.table_columns import similar_column

        hints = [f"{c!r}: did you mean {h!r}?" for c in missing if (h := similar_column(c, list(rows[0])))]
        raise TrainingDataError(f"{path}: missing column(s) {missing}; found {sorted(rows[0])}"
                                + (f" ({'; '.join(hints)})" if hints else ""))
    posts = [
        Post(
            text=r.get("text") or "",
            label=(r.get("label") or "").strip(),
            split=(r.get("split") or "train").strip(),
            source=f"{path}:{lines[i]}",
            group=r.get("pair_id") or "",
            meta={"origin": "authored",
                  **{k: v for k, v in r.items()
                     if k not in ("text", "label", "split") and isinstance(k, str) and v is not None},
                  **({"extra_fields": "yes"} if None in r else {})},
        )
        for i, r in enumerate(rows)
    ]
    return posts


def read_real_posts(labels_path: str | os.PathLike[str], texts_path: str | os.PathLike[str]) -> list[Post]:
    """Real posts: our ``id,label[,confidence,split,source,crisis]`` file joined with the
    ``id,text`` file, or with every ``*.csv`` of a folder of such files (``../shared/data/real``)."""
    labels = read_table(labels_path)
    where = Path(texts_path)
    files = sorted(where.glob("*.csv")) if where.is_dir() else [where]
    texts: dict[str, str] = {}
    for file in files:
        texts.update((r["id"], r["text"]) for r in read_table(file) if "id" in r and "text" in r)
    missing = [r["id"] for r in labels if r["id"] not in texts]
    if missing:
        raise TrainingDataError(f"{labels_path}: {len(missing)} id(s) not in {texts_path}, e.g. {missing[:5]}")
    return [
        Post(
            text=texts[r["id"]],
            label=r["label"].strip(),
            split=(r.get("split") or "train").strip(),
            source=f"{labels_path}:{i + 2}",
            meta={"origin": "real", "id": r["id"], "confidence": r.get("confidence", ""),
                  "crisis": r.get("crisis") or "pandemic", "real_source": r.get("source") or "confinement_2020"},
        )
        for i, r in enumerate(labels)
    ]


def validate_posts(posts: Sequence[Post], *, min_per_label: int = MIN_EXAMPLES_PER_LABEL) -> None:
    """Raise :class:`TrainingDataError` listing every offending row.

    Checks: known labels, non-empty texts, no text with two labels, at least
    ``min_per_label`` examples of each of the four labels.
    """
    problems: list[str] = []
    bad_label = [p for p in posts if p.label not in DATA_LABELS]
    if bad_label:
        problems.append(
            f"unknown label(s) (allowed: {', '.join(DATA_LABELS)}): "
            + "; ".join(f"{p.source} {p.label!r}" for p in bad_label[:20])
            + (f" … and {len(bad_label) - 20} more" if len(bad_label) > 20 else "")
        )
    empty = [p for p in posts if not p.text.strip()]
    if empty:
        problems.append("empty text: " + ", ".join(p.source for p in empty[:20]))
    from tonecheck.assess import MAX_TEXT_LENGTH

    long = [p for p in posts if len(p.text) > MAX_TEXT_LENGTH]
    if long:
        problems.append(f"text over {MAX_TEXT_LENGTH:,} characters (assess() refuses them): "
                        + ", ".join(f"{p.source} ({len(p.text):,})" for p in long[:20]))
    extra = [p for p in posts if p.meta.get("extra_fields")]
    if extra:
        problems.append("more fields than the header has columns: " + ", ".join(p.source for p in extra[:20]))
    by_text: dict[str, list[Post]] = defaultdict(list)
    for p in posts:
        if p.text.strip():
            by_text[" ".join(p.text.split()).casefold()].append(p)
    clashes = [group for group in by_text.values() if len({p.label for p in group}) > 1]
    if clashes:
        problems.append(
            "the same text with different labels: "
            + "; ".join(" vs ".join(f"{p.source} {p.label}" for p in g) for g in clashes[:10])
        )
    counts = Counter(p.label for p in posts)
    few = {lab: counts.get(lab, 0) for lab in LABELS if counts.get(lab, 0) < min_per_label}
    if few:
        problems.append(f"fewer than {min_per_label} examples of: " + ", ".join(f"{k} ({v})" for k, v in few.items()))
    if problems:
        raise TrainingDataError("training data rejected:\n  - " + "\n  - ".join(problems))


def without_duplicates(posts: Sequence[Post]) -> tuple[list[Post], int]:
    """The posts with each (text, label) kept once (the first), and how many were dropped:
    copies of a post would sit in both sides of a cross-validation split and flatter it."""
    seen: set[tuple[str, str]] = set()
    kept = []
    for p in posts:
        key = (" ".join(p.text.split()).casefold(), p.label)
        if key not in seen:
            seen.add(key)
            kept.append(p)
    return kept, len(posts) - len(kept)


def data_hash(posts: Iterable[Post]) -> str:
    """SHA-256 over (text, label, split) of the posts, in order."""
    h = hashlib.sha256()
    for p in posts:
        h.update(json.dumps([p.text, p.label, p.split], ensure_ascii=False).encode())
    return h.hexdigest()


def near_duplicates(
    texts: Sequence[str], groups: Sequence[str], *, threshold: float = 0.85
) -> list[tuple[int, int, float]]:
    """Pairs of texts whose character 3–5-gram TF-IDF cosine is at least ``threshold``.

    Pairs inside one declared group (a contrast pair, same non-empty ``groups`` value) are
    allowed and left out.
    """
    from sklearn.feature_extraction.text import TfidfVectorizer

    X = TfidfVectorizer(analyzer="char", ngram_range=(3, 5), lowercase=True).fit_transform(list(texts))
    S = (X @ X.T).tocoo()
    out = []
    for i, j, v in zip(S.row.tolist(), S.col.tolist(), S.data.tolist(), strict=True):
        if i < j and v >= threshold and not (groups[i] and groups[i] == groups[j]):
            out.append((i, j, v))
    return out


def near_duplicate_rate(texts: Sequence[str], groups: Sequence[str], *, threshold: float = 0.85) -> float:
    """Share of texts that have a near-duplicate neighbour outside their declared pair."""
    flagged = {k for i, j, _ in near_duplicates(texts, groups, threshold=threshold) for k in (i, j)}
    return len(flagged) / max(len(texts), 1)
