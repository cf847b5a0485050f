"""The review report: one self-contained HTML file of a scored batch.

The summary (figures, label mix, review reasons, confidence) is drawn here as inline SVG;
the drafts are embedded as JSON and rendered a page at a time by the report's JavaScript,
so a 20,000-row report opens quickly. Nothing in the file loads anything from the network
(its Content-Security-Policy forbids it), so it opens from a shared drive or an e-mail.
Every piece of post text reaches the page through JSON and ``textContent``, never as HTML.
"""

from __future__ import annotations

import datetime as _dt
import html
import json
import os
import re
import tempfile
import time
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tonecheck.labels import LABELS
from tonecheck.pages.guide import LABEL_GUIDE, REASONS, guide_html, page_texts
from tonecheck.pages.scored import ScoredRow, read_scored

if TYPE_CHECKING:
    from tonecheck.assess import Assessment

__all__ = ["ReportStats", "render_report", "write_report", "write_report_from_scored", "rows_from_assessments"]

_GUIDE_ORDER = tuple(item["label"] for item in LABEL_GUIDE)
_COLOURS = {item["label"]: item["colour"] for item in LABEL_GUIDE}
_ERROR_COLOUR = "#616161"
_SURROGATE = re.compile("[\ud800-\udfff]")
_MARKER = re.compile("@@[A-Z_]+@@")


@dataclass(frozen=True)
class ReportStats:
    """What writing a report did: rows, file size in bytes, seconds spent rendering and writing."""

    rows: int
    bytes: int
    seconds: float
    path: Path


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _asset(name: str) -> str:
    return resources.files("tonecheck.pages").joinpath("static").joinpath(name).read_text(encoding="utf-8")


def rows_from_assessments(
    texts: Sequence[str], results: Iterable[Assessment], columns: Sequence[Mapping[str, Any]] | None = None
) -> list[ScoredRow]:
    """Report rows from ``assess_many`` results (``errors="mark"`` ones included).

    ``columns``, one mapping per text, holds each row's own columns (id, date, channel…).
    """
    rows = []
    for k, (text, result) in enumerate(zip(texts, results, strict=True)):
        rec = result.to_record()
        scores = (
            None if rec["label"] is None else tuple(round(rec[f"score_{lab.replace('-', '_')}"], 4) for lab in LABELS)
        )
        own = {str(key): "" if v is None else str(v) for key, v in (columns[k] if columns else {}).items()}
        rows.append(
            ScoredRow(
                line=k + 2,
                text=text if isinstance(text, str) else "",
                label=rec["label"],
                scores=scores,
                needs_review=bool(rec["needs_review"]) or rec["label"] is None,
                review_reasons=tuple(rec["review_reasons"]),
                evidence=tuple((e[0], e[1], e[2], round(e[3], 3)) for e in rec["evidence"]),
                error=rec["error"] or "",
                columns=own,
            )
        )
    return rows


def _payload(rows: Sequence[ScoredRow], columns: Sequence[str], text_column: str) -> dict[str, Any]:
    # Scores and weights come already rounded (4 and 3 decimals in scored files, see
    # rows_from_assessments): rounding them again here cost a third of a 20,000-row report.
    out = [
        [
            i,
            r.label,
            None if r.scores is None else list(r.scores),
            1 if r.needs_review else 0,
            list(r.review_reasons),
            r.text,
            [[s, e, w] for _, s, e, w in r.evidence],
            r.error,
            [r.columns.get(c, "") for c in columns],
        ]
        for i, r in enumerate(rows)
    ]
    return {"meta": {"columns": list(columns), "score_order": list(LABELS), "text_column": text_column}, "rows": out}


def _script_json(value: Any) -> str:
    """JSON safe inside a <script> element (no '<' can close it or open a comment), and valid
    UTF-8: lone surrogates (possible from JSON input) become U+FFFD, one unit for one, so
    evidence offsets stay right."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":")).replace("<", "\\u003c")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        text = _SURROGATE.sub("\ufffd", text)
    return text


def _pct(n: int, total: int) -> str:
    return f"{100 * n / total:.1f} %".replace(".", ",") if total else "0 %"


def _num(n: int) -> str:
    return f"{n:,}".replace(",", "\u202f")


def _label_chart(counts: Counter[str | None], total: int) -> str:
    e = html.escape
    items = [(lab, counts.get(lab, 0), _COLOURS[lab]) for lab in _GUIDE_ORDER]
    if counts.get(None):
        items.append(("non évalué", counts[None], _ERROR_COLOUR))
    top = max((n for _, n, _ in items), default=0) or 1
    row_h, width, name_w, bar_w = 26, 300, 92, 128
    parts = [
        f'<svg class="chart" viewBox="0 0 {width} {row_h * len(items) + 4}" role="img" '
        'aria-label="Répartition des étiquettes">'
    ]
    for k, (lab, n, colour) in enumerate(items):
        y = k * row_h + 4
        w = max(1.0, bar_w * n / top) if n else 0
        value = "error" if lab == "non évalué" else lab
        parts.append(
            f'<g class="clickable" data-filter-label="{e(value)}" role="button" tabindex="0" '
            f'aria-label="{e(lab)} : {n} brouillons, afficher">'
            f'<title>{e(lab)} : {_num(n)} ({_pct(n, total)}) — cliquer pour filtrer</title>'
            f'<rect x="0" y="{y - 2}" width="{width}" height="{row_h - 2}" fill="transparent"/>'
            f'<text x="0" y="{y + 15}">{e(lab)}</text>'
            f'<rect class="bar" x="{name_w}" y="{y + 3}" width="{w:.1f}" height="{row_h - 12}" rx="3" fill="{colour}"/>'
            f'<text x="{name_w + w + 6:.1f}" y="{y + 15}">{_num(n)} · {_pct(n, total)}</text></g>'
        )
    parts.append("</svg>")
    return "".join(parts)


def _confidence_chart(rows: Sequence[ScoredRow], review_threshold: float | None) -> str:
    """Histogram of the top probability (0.2 to 1.0, bins of 0.1), stacked by label."""
    e = html.escape
    bins: list[Counter[str]] = [Counter() for _ in range(8)]
    for r in rows:
        if r.scores is None or r.label is None:
            continue
        p = max(r.scores)
        bins[min(7, max(0, int((p - 0.2) * 10 + 1e-9)))][r.label] += 1
    tallest = max((sum(b.values()) for b in bins), default=0) or 1
    width, height, left, bottom, top_pad = 300, 160, 16, 22, 16
    plot_h = height - bottom - top_pad
    bw = (width - 2 * left) / 8
    parts = [f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" aria-label="Distribution de la confiance">']
    for k, b in enumerate(bins):
        x = left + k * bw
        y: float = height - bottom
        total = sum(b.values())
        for lab in _GUIDE_ORDER:
            n = b.get(lab, 0)
            if not n:
                continue
            h = plot_h * n / tallest
            y -= h
            parts.append(
                f'<rect x="{x + 2:.1f}" y="{y:.1f}" width="{bw - 4:.1f}" height="{h:.1f}" fill="{_COLOURS[lab]}">'
                f"<title>{e(lab)} : {_num(n)} entre {20 + 10 * k} et {30 + 10 * k} %</title></rect>"
            )
        if total:
            parts.append(
                f'<text x="{x + bw / 2:.1f}" y="{y - 3:.1f}" text-anchor="middle" font-size="10">{_num(total)}</text>'
            )
    for k in range(0, 9, 2):
        x = left + k * bw
        parts.append(f'<text x="{x:.1f}" y="{height - 6}" text-anchor="middle" font-size="10">{20 + 10 * k} %</text>')
    parts.append(
        f'<line x1="{left}" x2="{width - left}" y1="{height - bottom}" y2="{height - bottom}" stroke="#8c959f"/>'
    )
    if review_threshold is not None and 0.2 <= review_threshold <= 1.0:
        x = left + (review_threshold - 0.2) * 10 * bw
        parts.append(
            f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{top_pad - 4}" y2="{height - bottom}" stroke="#9a6700" '
            'stroke-dasharray="4 3"/>'
            f'<text x="{x + 4:.1f}" y="{top_pad + 4}" font-size="10" fill="#9a6700">'
            f"seuil « unsure » {round(100 * review_threshold)} %</text>"
        )
    parts.append("</svg>")
    return "".join(parts)


def _summary(rows: Sequence[ScoredRow], metadata: Mapping[str, Any] | None) -> str:
    e = html.escape
    total = len(rows)
    labels = Counter(r.label for r in rows)
    review = sum(1 for r in rows if r.needs_review and r.label is not None)
    errors = labels.get(None, 0)
    reasons: Counter[str] = Counter()
    for r in rows:
        if r.label is None:
            reasons["error"] += 1
        elif r.needs_review:
            reasons.update(r.review_reasons)
    tops = sorted(max(r.scores) for r in rows if r.scores)
    median = tops[len(tops) // 2] if tops else None

    def figure(n: int, what: str, cls: str = "") -> str:
        return f'<div class="figure {cls}"><b>{_num(n)}</b><span>{e(what)}</span></div>'

    figures = [
        figure(total, "brouillons"),
        figure(labels.get("tone-deaf", 0), f"tone-deaf ({_pct(labels.get('tone-deaf', 0), total)})", "alert"),
        figure(review, f"à revoir ({_pct(review, total)})", "warn"),
    ]
    if errors:
        figures.append(figure(errors, "non évalués (erreur)"))
    reason_rows = "".join(
        f'<tr class="clickable" data-filter-reason="{e(code)}" tabindex="0" role="button">'
        f"<td><code>{e(code)}</code> — {e(REASONS.get(code, code))}</td><td class=\"n\">{_num(n)}</td></tr>"
        for code, n in reasons.most_common()
    ) or '<tr><td class="muted">Aucun brouillon à revoir.</td><td></td></tr>'
    threshold = metadata.get("review_threshold") if metadata else None
    conf_note = f"médiane {round(100 * median)} %" if median is not None else "aucun brouillon évalué"
    return (
        f'<div class="panel"><h3>En bref</h3><div class="figures">{"".join(figures)}</div>'
        f'<p class="muted small">Un brouillon peut être à revoir pour plusieurs raisons ; '
        f"les brouillons tone-deaf et à revoir sont en tête de liste.</p></div>"
        f'<div class="panel"><h3>Étiquettes <span class="small">(cliquer pour filtrer)</span></h3>'
        f"{_label_chart(labels, total)}</div>"
        f'<div class="panel"><h3>Pourquoi à revoir</h3><table class="reasons-table">{reason_rows}</table></div>'
        f'<div class="panel"><h3>Confiance de l\'étiquette retenue <span class="small">({e(conf_note)})</span></h3>'
        f"{_confidence_chart(rows, threshold if isinstance(threshold, (int, float)) else None)}</div>"
    )


def render_report(
    rows: Sequence[ScoredRow],
    columns: Sequence[str] = (),
    *,
    title: str | None = None,
    source: str | None = None,
    text_column: str = "text",
    metadata: Mapping[str, Any] | None = None,
) -> str:
    """The review report of ``rows`` as one HTML document.

    ``columns`` are the rows' own columns to show (id, date, channel…); ``metadata`` the
    model's (for the review threshold drawn on the confidence chart).
    """
    from tonecheck import __version__

    e = html.escape
    now = _dt.datetime.now().astimezone()
    title = title or ("Revue tonecheck — " + Path(source).name if source else "Revue tonecheck")
    subtitle = f"{_num(len(rows))} brouillon{'s' if len(rows) > 1 else ''} · généré le {now:%d/%m/%Y à %H:%M}"
    footer = f"Généré par tonecheck {e(__version__)} le {now:%d/%m/%Y à %H:%M}"
    if source:
        footer += f" à partir de {e(str(source))}"
    if metadata and isinstance(metadata.get("trained_on"), Mapping) and metadata["trained_on"].get("posts"):
        footer += f" · modèle entraîné sur {_num(int(metadata['trained_on']['posts']))} posts"
    footer += ". Fichier autonome : il ne charge rien depuis le réseau."
    label_options = "".join(f'<option value="{e(lab)}">{e(lab)}</option>' for lab in _GUIDE_ORDER)
    label_options += '<option value="error">non évalué (erreur)</option>'
    reason_options = "".join(f'<option value="{e(k)}">{e(k)}</option>' for k in REASONS)
    column_sorts = "".join(
        f'<option value="col:{k}:asc">{e(c)} (croissant)</option>'
        f'<option value="col:{k}:desc">{e(c)} (décroissant)</option>'
        for k, c in enumerate(columns)
    )
    fills = {
        "@@CSS@@": _asset("common.css") + _asset("report.css"),
        "@@COMMON_JS@@": _asset("common.js"),
        "@@REPORT_JS@@": _asset("report.js"),
        "@@TEXTS@@": _script_json(page_texts()),
        "@@GUIDE@@": guide_html(),
        "@@SUMMARY@@": _summary(rows, metadata),
        "@@LABEL_OPTIONS@@": label_options,
        "@@REASON_OPTIONS@@": reason_options,
        "@@COLUMN_SORTS@@": column_sorts,
        "@@TITLE@@": e(title),
        "@@SUBTITLE@@": e(subtitle),
        "@@FOOTER@@": footer,
        "@@VERSION@@": e(__version__),
        "@@DATA@@": _script_json(_payload(rows, columns, text_column)),
    }
    # One pass over the template: a value (a title, a post) is never scanned for markers.
    return _MARKER.sub(lambda m: fills[m.group(0)], _asset("report.html"))


def write_report(
    rows: Sequence[ScoredRow],
    dst: str | os.PathLike[str],
    columns: Sequence[str] = (),
    **options: Any,
) -> ReportStats:
    """Render the report of ``rows`` (see :func:`render_report`) into ``dst``, atomically."""
    t0 = time.perf_counter()
    data = render_report(rows, columns, **options).encode("utf-8", errors="replace")  # a lone surrogate in a file name
    target = Path(dst)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".partial")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes it private; a report is meant to be shared
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return ReportStats(len(rows), len(data), time.perf_counter() - t0, target)


def write_report_from_scored(
    src: str | os.PathLike[str],
    dst: str | os.PathLike[str],
    *,
    text_column: str = "text",
    fmt: str | None = None,
    title: str | None = None,
    source: str | None = None,
    metadata: Mapping[str, Any] | None = None,
) -> ReportStats:
    """Read a file written by ``tonecheck score`` and write its review report into ``dst``.

    ``source`` is the file name the report shows (default: ``src``). Raises
    :class:`tonecheck.pages.scored.ScoredFileError` if ``src`` is not such a file.
    """
    t0 = time.perf_counter()
    columns, rows = read_scored(src, text_column=text_column, fmt=fmt)
    stats = write_report(
        rows, dst, columns, title=title, source=source or str(src), text_column=text_column, metadata=metadata
    )
    return ReportStats(stats.rows, stats.bytes, time.perf_counter() - t0, stats.path)
