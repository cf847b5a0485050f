"""tonecheck.pages.review: the self-contained HTML review report, and its commands."""

import csv
import json
import os
import re
import time

import pytest

import tonecheck
from tonecheck import cli
from tonecheck.pages.review import render_report, rows_from_assessments, write_report
from tonecheck.pages.scored import ScoredRow

HOSTILE = [
    '</script><script>alert("pwned")</script>',
    '<img src=x onerror=alert(1)> Restez chez vous et profitez de -30 % avec le code RESTEZCHEZVOUS',
    "@@DATA@@ @@TITLE@@ <!-- &amp; &lt; ]]> \u2028 fin",
]


def _data(page: str) -> dict:
    m = re.search(r'<script type="application/json" id="tc-data">(.*?)</script>', page, re.S)
    assert m, "no data block"
    return json.loads(m.group(1))


def _row(text="Merci aux soignants", label="supportive", review=False, reasons=(), **columns) -> ScoredRow:
    scores = {"supportive": (0.9, 0.04, 0.03, 0.03), "tone-deaf": (0.02, 0.1, 0.85, 0.03)}.get(label, (0.25, 0.25, 0.25, 0.25))
    return ScoredRow(line=2, text=text, label=label, scores=scores if label else None, needs_review=review,
                     review_reasons=tuple(reasons), evidence=(), error="" if label else "text is empty", columns=columns)


@pytest.fixture(scope="module")
def hostile_report():
    texts = [*HOSTILE, "Un immense merci à tous les soignants ❤️"]
    results = list(tonecheck.assess_many(texts))
    columns = [{"id": str(k), "channel": '"><script>alert(2)</script>'} for k in range(len(texts))]
    rows = rows_from_assessments(texts, results, columns)
    return texts, rows, render_report(rows, ["id", "channel"], title="<b>titre</b>", source="<drafts>.csv")


def test_hostile_text_never_reaches_the_page_as_html(hostile_report):
    _, _, page = hostile_report
    for needle in ['<script>alert("pwned")', "<img src=x", "<script>alert(2)", "<b>titre</b>", "<drafts>"]:
        assert needle not in page
    # exactly our own four script elements (texts, data, two inline scripts)
    assert len(re.findall(r"<script\b", page)) == 4
    assert "&lt;b&gt;titre&lt;/b&gt;" in page


def test_the_embedded_data_gives_back_every_text_and_column(hostile_report):
    texts, _, page = hostile_report
    data = _data(page)
    assert [r[5] for r in data["rows"]] == texts
    assert data["meta"]["columns"] == ["id", "channel"]
    assert data["meta"]["score_order"] == ["supportive", "promotional", "tone-deaf", "preventive"]
    assert all(r[8][1] == '"><script>alert(2)</script>' for r in data["rows"])
    # markers inside a post are left as they are
    assert data["rows"][2][5].startswith("@@DATA@@ @@TITLE@@")


def test_evidence_offsets_point_at_their_words(hostile_report):
    texts, _rows, page = hostile_report
    data = _data(page)
    tone_deaf = data["rows"][1]
    assert tone_deaf[1] == "tone-deaf"
    words = [texts[1][s:e] for s, e, _ in tone_deaf[6]]
    assert "-30" in words and "code" in words


def test_the_file_loads_nothing_from_the_network(hostile_report):
    _, _, page = hostile_report
    assert "default-src 'none'" in page  # the Content-Security-Policy forbids any fetch
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:|//)""", page, re.I)
    assert "@import" not in page and not re.search(r"url\((?!data:)", page)
    assert "fetch(" not in page and "XMLHttpRequest" not in page


def test_summary_counts_labels_and_review_reasons():
    rows = [
        _row(label="tone-deaf"), _row(label="tone-deaf", review=True, reasons=("unsure",)),
        _row(), _row(review=True, reasons=("out-of-scope", "unsure")), _row(text="", label=None, review=True),
    ]
    page = render_report(rows, metadata={"review_threshold": 0.36})
    assert 'data-filter-label="tone-deaf"' in page and "2 · 40,0 %" in page
    assert 'data-filter-label="error"' in page  # the row not assessed has its bar
    reasons = dict(re.findall(r'data-filter-reason="([\w-]+)".*?<td class="n">(\d+)</td>', page))
    assert reasons == {"unsure": "2", "out-of-scope": "1", "error": "1"}
    assert "seuil « unsure » 36 %" in page
    assert "<b>5</b><span>brouillons</span>" in page


def test_interface_text_is_french_with_the_guide_label_names():
    page = render_report([_row()])
    assert '<html lang="fr">' in page
    for text in ["Guide des étiquettes", "Rechercher", "risque d'abord", "À revoir", "Étiquettes"]:
        assert text in page
    for label in ["supportive", "promotional", "tone-deaf", "preventive"]:
        assert f'<option value="{label}">{label}</option>' in page


def test_lone_surrogates_still_give_a_valid_utf8_file(tmp_path):
    stats = write_report([_row(text="\ud83d seul \udc00 Merci")], tmp_path / "r.html")
    text = (tmp_path / "r.html").read_bytes().decode("utf-8")  # strict: raises if invalid
    assert _data(text)["rows"][0][5] == "\ufffd seul \ufffd Merci"
    assert stats.bytes == (tmp_path / "r.html").stat().st_size


def test_report_of_20000_rows_is_quick_and_compact(tmp_path):
    with open("data/authored.csv", encoding="utf-8") as f:
        base = [r["text"] for r in csv.DictReader(f)][:400]
    rows = []
    for k in range(20_000):
        r = _row(text=f"{base[k % len(base)]} #Jour{k}", label=("tone-deaf", "supportive")[k % 2], review=k % 7 == 0,
                 reasons=("unsure",) if k % 7 == 0 else (), id=str(k), date="2020-03-20", channel="instagram")
        r.evidence = ((r.text[:3], 0, 3, 1.5),)
        rows.append(r)
    t0 = time.perf_counter()
    stats = write_report(rows, tmp_path / "big.html", ["id", "date", "channel"])
    seconds = time.perf_counter() - t0
    print(f"20,000 rows: {seconds:.2f} s, {stats.bytes / 1e6:.1f} MB")
    assert seconds < 10
    assert stats.bytes < 25_000_000
    assert len(_data((tmp_path / "big.html").read_text(encoding="utf-8"))["rows"]) == 20_000


# --- the commands --------------------------------------------------------------------------

@pytest.fixture
def drafts(tmp_path):
    path = tmp_path / "drafts.csv"
    with open(path, "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(["id", "date", "channel", "text"])
        w.writerow(["a1", "2020-03-20", "instagram", "Restez chez vous et profitez de -30 % avec le code RESTEZCHEZVOUS"])
        w.writerow(["a2", "2020-03-21", "x", "Un immense merci à tous les soignants ❤️"])
        w.writerow(["a3", "2020-03-22", "x", "   "])
    return path


def test_score_html_writes_the_report_and_nothing_else(drafts, tmp_path, capsys):
    code = cli.main(["score", str(drafts), "--html", str(tmp_path / "review.html")])
    assert code == 1  # the blank row is in error, as without --html
    out = capsys.readouterr()
    assert out.out == ""
    assert "review.html" in out.err
    page = (tmp_path / "review.html").read_text(encoding="utf-8")
    data = _data(page)
    assert [r[8][0] for r in data["rows"]] == ["a1", "a2", "a3"]
    assert [r[1] for r in data["rows"]] == ["tone-deaf", "supportive", None]
    assert "drafts.csv" in page and "tonecheck-report-" not in page  # the source named, not the temp file
    assert sorted(p.name for p in tmp_path.iterdir()) == ["drafts.csv", "review.html"]
    mask = os.umask(0)
    os.umask(mask)
    assert (tmp_path / "review.html").stat().st_mode & 0o777 == 0o666 & ~mask


def test_score_html_with_output_keeps_the_scored_file(drafts, tmp_path):
    assert cli.main(["score", str(drafts), "-o", str(tmp_path / "s.csv"), "--html", str(tmp_path / "r.html")]) == 1
    assert (tmp_path / "s.csv").is_file() and (tmp_path / "r.html").is_file()


def test_score_html_to_stdout_still_prints_the_rows(drafts, tmp_path, capsys):
    assert cli.main(["score", str(drafts), "-o", "-", "--html", str(tmp_path / "r.html")]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("id,date,channel,text,label") and len(lines) == 4


def test_score_table_and_html_without_output_names_only_files_that_exist(
    drafts, tmp_path, tmp_path_factory, monkeypatch, capsys
):
    """`score --table --html` without -o once said "rows scored into /tmp/…/scored.csv", a
    temporary file deleted before the user could open it."""
    import tempfile

    temp = tmp_path_factory.mktemp("scratch")  # the temporary folder the command may use
    monkeypatch.setattr(tempfile, "tempdir", str(temp))
    code = cli.main(["score", str(drafts), "--table", "--html", str(tmp_path / "review.html"), "--verbose"])
    assert code == 1  # the blank row
    out = capsys.readouterr()
    assert "tonecheck-report-" not in out.out + out.err and str(temp) not in out.out + out.err
    assert out.out.rstrip().splitlines()[-1] == "3 rows scored"
    assert "tone-deaf" in out.out and "supportive" in out.out  # the table is printed
    assert "a temporary file for the --html report (-o FILE keeps the scored rows)" in out.err
    assert f"écrit dans {tmp_path / 'review.html'}" in out.err
    assert [r[1] for r in _data((tmp_path / "review.html").read_text(encoding="utf-8"))["rows"]] == \
        ["tone-deaf", "supportive", None]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["drafts.csv", "review.html"]
    assert list(temp.iterdir()) == []  # the temporary rows are gone

    assert cli.main(["score", str(drafts), "--table", "-o", str(tmp_path / "s.csv"), "--html", str(tmp_path / "r.html")]) == 1
    assert capsys.readouterr().out.rstrip().endswith(f"3 rows scored into {tmp_path / 's.csv'}")
    assert (tmp_path / "s.csv").is_file() and (tmp_path / "r.html").is_file()


def test_score_table_html_and_rows_to_stdout_is_refused(drafts, tmp_path, capsys):
    assert cli.main(["score", str(drafts), "--table", "-o", "-", "--html", str(tmp_path / "r.html")]) == 2
    out = capsys.readouterr()
    assert out.out == "" and "--table prints on standard output; give -o FILE" in out.err
    assert not (tmp_path / "r.html").exists()


def test_report_of_a_file_scored_for_excel_shows_the_texts_as_written(tmp_path, capsys):
    """`score --excel` puts a ' before a cell Excel would run; the report, built from that
    file, shows the post as it was written, its evidence words in place."""
    post = "-30 % avec le code RESTEZCHEZVOUS, profitez du confinement"
    src = tmp_path / "drafts.csv"
    with open(src, "w", encoding="utf-8", newline="") as f:
        csv.writer(f, delimiter=";").writerows([["id", "text"], ["=1+1", post], ["a2", "'Merci' aux soignants"]])
    assert cli.main(["score", str(src), "--excel", "-o", str(tmp_path / "x.csv"), "--html", str(tmp_path / "r.html")]) == 0
    assert "'-30 %" in (tmp_path / "x.csv").read_text(encoding="utf-8-sig")
    data = _data((tmp_path / "r.html").read_text(encoding="utf-8"))
    texts = [next(v for v in r if isinstance(v, str) and ("30 %" in v or "Merci" in v)) for r in data["rows"]]
    assert sorted(texts) == sorted([post, "'Merci' aux soignants"])
    assert "=1+1" in json.dumps(data["rows"], ensure_ascii=False) and "'=1+1" not in json.dumps(data["rows"])
    # tonecheck report reads it too, and a plain ';' file scored without --excel.
    assert cli.main(["report", str(tmp_path / "x.csv"), "-o", str(tmp_path / "r2.html")]) == 0
    assert cli.main(["score", str(src), "-o", str(tmp_path / "plain.csv")]) == 0
    assert (tmp_path / "plain.csv").read_text(encoding="utf-8").startswith("id;text;label;")
    assert cli.main(["report", str(tmp_path / "plain.csv"), "-o", str(tmp_path / "r3.html")]) == 0
    assert _data((tmp_path / "r3.html").read_text(encoding="utf-8"))["rows"] == data["rows"]


def test_report_of_a_scored_file(drafts, tmp_path, capsys):
    assert cli.main(["score", str(drafts), "-o", str(tmp_path / "scored.csv")]) == 1
    assert cli.main(["report", str(tmp_path / "scored.csv")]) == 0  # default: scored.html beside it
    data = _data((tmp_path / "scored.html").read_text(encoding="utf-8"))
    assert data["meta"]["columns"] == ["id", "date", "channel"]
    assert cli.main(["report", str(tmp_path / "scored.csv"), "-o", str(tmp_path / "x.html"), "--title", "Lundi"]) == 0
    assert "<title>Lundi</title>" in (tmp_path / "x.html").read_text(encoding="utf-8")


@pytest.mark.parametrize(
    "argv, message",
    [
        (["report", "{drafts}"], "not a file written by `tonecheck score`"),
        (["report", "{missing}"], "cannot read"),
        (["report", "{drafts}", "-o", "{drafts}"], "would overwrite its input"),
    ],
)
def test_report_usage_errors_exit_2_naming_the_problem(drafts, tmp_path, capsys, argv, message):
    argv = [a.format(drafts=drafts, missing=tmp_path / "missing.csv") for a in argv]
    assert cli.main(argv) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "drafts.html").exists()


def test_serve_without_the_serve_extra_says_how_to_install_it(monkeypatch, capsys):
    import sys

    monkeypatch.setitem(sys.modules, "fastapi", None)  # as if FastAPI were not installed
    assert cli.main(["serve"]) == 2
    assert "pip install 'tonecheck[serve]'" in capsys.readouterr().err


def test_help_lists_report_and_serve(capsys):
    assert cli.main(["--help"]) == 0
    out = capsys.readouterr().out
    assert "report" in out and "serve" in out
    assert cli.main(["score", "--help"]) == 0
    assert "--html PATH" in capsys.readouterr().out
