"""tonecheck.pages.scored: reading back what `tonecheck score` wrote."""

import json

import pytest

from tonecheck import cli
from tonecheck.pages.scored import ScoredFileError, read_scored

DRAFTS = [
    ["1", "2020-03-20", "instagram", "Restez chez vous et profitez de -30 % avec le code RESTEZCHEZVOUS"],
    ["2", "2020-03-21", "x", "Un immense merci à tous les soignants ❤️"],
    ["3", "2020-03-22", "facebook", ""],
    ["4", "2020-03-23", "x", "🦠🦠 Lavez-vous les mains et gardez vos distances"],
]


@pytest.fixture(scope="module")
def scored_files(tmp_path_factory):
    """The drafts scored by `tonecheck score` (shipped model), as CSV and as JSONL."""
    folder = tmp_path_factory.mktemp("scored")
    src = folder / "drafts.csv"
    import csv

    with open(src, "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(["id", "date", "channel", "text"])
        w.writerows(DRAFTS)
    with open(folder / "drafts.jsonl", "w", encoding="utf-8") as f:
        for row in DRAFTS:
            f.write(json.dumps(dict(zip(["id", "date", "channel", "text"], row, strict=True)), ensure_ascii=False) + "\n")
    assert cli.main(["score", str(src), "-o", str(folder / "scored.csv")]) == 1  # row 3 is empty
    assert cli.main(["score", str(folder / "drafts.jsonl"), "-o", str(folder / "scored.jsonl")]) == 1
    return folder


@pytest.mark.parametrize("name", ["scored.csv", "scored.jsonl"])
def test_rows_come_back_with_results_and_own_columns(scored_files, name):
    columns, rows = read_scored(scored_files / name)
    assert columns == ["id", "date", "channel"]
    assert [r.columns["id"] for r in rows] == ["1", "2", "3", "4"]
    assert [r.label for r in rows] == ["tone-deaf", "supportive", None, "preventive"]
    assert rows[0].scores is not None and sum(rows[0].scores) == pytest.approx(1.0, abs=1e-3)
    assert rows[2].scores is None and "empty" in rows[2].error and rows[2].needs_review
    for r in rows:
        for word, start, end, weight in r.evidence:
            assert r.text[start:end] == word and weight > 0
    assert "-30" in [e[0] for e in rows[0].evidence]
    # offsets count code points: the two emoji before "Lavez" are one each
    assert any(w == "Lavez" and s == 3 for w, s, _, _ in rows[3].evidence)


def test_csv_and_jsonl_give_the_same_rows(scored_files):
    _, a = read_scored(scored_files / "scored.csv")
    _, b = read_scored(scored_files / "scored.jsonl")
    assert [(r.label, r.text, r.needs_review, r.review_reasons, [e[:3] for e in r.evidence]) for r in a] == [
        (r.label, r.text, r.needs_review, r.review_reasons, [e[:3] for e in r.evidence]) for r in b
    ]


def test_prefixed_result_columns_are_read(tmp_path):
    src = tmp_path / "in.csv"
    src.write_text("id,label,text\n1,mine,Merci aux soignants\n", encoding="utf-8")
    out = tmp_path / "out.csv"
    assert cli.main(["score", str(src), "-o", str(out)]) == 0
    columns, rows = read_scored(out)
    assert columns == ["id", "label"]  # the input's own 'label' is just a column
    assert rows[0].columns["label"] == "mine" and rows[0].label == "supportive"


def test_evidence_that_does_not_point_at_its_word_is_dropped(tmp_path):
    path = tmp_path / "s.jsonl"
    record = {"text": "Merci aux soignants", "label": "supportive", "score_supportive": 0.9, "score_promotional": 0.05,
              "score_tone_deaf": 0.03, "score_preventive": 0.02, "needs_review": False, "review_reasons": [],
              "evidence": [["Merci", 0, 5, 1.0], ["soignants", 0, 9, 0.5], ["x", 40, 41, 0.1], {"text": "aux", "start": 6, "end": 9, "weight": 0.2}],
              "error": None}
    path.write_text(json.dumps(record) + "\n", encoding="utf-8")
    _, rows = read_scored(path)
    assert [e[0] for e in rows[0].evidence] == ["Merci", "aux"]


@pytest.mark.parametrize(
    "content, expected",
    [
        ("", "empty"),
        ("id,text\n1,Merci\n", "not a file written by `tonecheck score`"),
        ('id,text,label\n1,"unterminated\n', "no score_supportive"),
    ],
)
def test_files_that_are_not_scored_are_refused_naming_why(tmp_path, content, expected):
    path = tmp_path / "x.csv"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ScoredFileError, match=expected):
        read_scored(path)


def test_missing_text_column_names_the_option(scored_files):
    with pytest.raises(ScoredFileError, match=r"no column 'caption'.*--text-column"):
        read_scored(scored_files / "scored.csv", text_column="caption")


def test_missing_file_and_bad_utf8(tmp_path):
    with pytest.raises(ScoredFileError, match="cannot read"):
        read_scored(tmp_path / "nope.csv")
    bad = tmp_path / "bad.csv"
    bad.write_bytes(b"text,label\n\xff\xfe,x\n")
    with pytest.raises(ScoredFileError, match="not UTF-8"):
        read_scored(bad)


def _record(**changes):
    record = {"id": "1", "text": "Merci aux soignants", "label": "supportive", "score_supportive": 0.9,
              "score_promotional": 0.05, "score_tone_deaf": 0.03, "score_preventive": 0.02, "needs_review": False,
              "review_reasons": [], "evidence": [], "error": None}
    record.update(changes)
    return record


def _read_jsonl(tmp_path, *records):
    path = tmp_path / "s.jsonl"
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records) + "\n", encoding="utf-8")
    return read_scored(path)


@pytest.mark.parametrize("reasons, expected", [
    ('["unsure", "close-call"]', ("unsure", "close-call")),  # CSV: a JSON list, as score writes it
    ('["unsure"', ()),                                       # a broken list: no reason
    ('{"a": 1}', ('{"a": 1}',)),                             # not a list: one reason, as written
    ("unsure;out-of-scope", ("unsure", "out-of-scope")),     # hand-edited: ;-separated
    (["not-french"], ("not-french",)),                       # JSONL: a list
    (None, ()),
])
def test_review_reasons_are_read_in_every_form(tmp_path, reasons, expected):
    _, rows = _read_jsonl(tmp_path, _record(review_reasons=reasons, needs_review="yes"))
    assert rows[0].review_reasons == expected and rows[0].needs_review


@pytest.mark.parametrize("evidence", ["", "  ", "not json", '{"text": "Merci"}', 3, [["Merci", 0, 5]],
                                      [["Merci", "0", 5, 1.0]]])
def test_unreadable_evidence_is_no_evidence(tmp_path, evidence):
    _, rows = _read_jsonl(tmp_path, _record(evidence=evidence))
    assert rows[0].evidence == ()


def test_evidence_written_as_a_json_string_is_read(tmp_path):
    _, rows = _read_jsonl(tmp_path, _record(evidence='[["soignants", 10, 19, 0.7]]'))
    assert rows[0].evidence == (("soignants", 10, 19, 0.7),)


def test_an_unknown_label_or_a_bad_score_is_a_row_needing_review(tmp_path):
    columns, rows = _read_jsonl(tmp_path, _record(label="angry"), _record(score_supportive="n/a"),
                                _record(id=2, extra={"a": [1]}, flag=True, empty=None))
    assert rows[0].label is None and rows[0].error == "unknown label 'angry'" and rows[0].needs_review
    assert rows[1].label == "supportive" and rows[1].scores is None
    assert columns == ["id", "extra", "flag", "empty"]  # in order of first appearance
    assert rows[2].columns == {"id": "2", "extra": '{"a": [1]}', "flag": "true", "empty": ""}


@pytest.mark.parametrize("content, message", [
    ("\n\n", "is empty: no scored row"),
    ("[1, 2]\n", "line 1 is a JSON list, not an object"),
    ("{not json\n", "line 1 is not JSON"),
])
def test_jsonl_that_cannot_be_read_names_the_line(tmp_path, content, message):
    path = tmp_path / "s.jsonl"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ScoredFileError, match=message):
        read_scored(path)


def test_malformed_csv_rows_and_blank_lines(tmp_path):
    header = "id,text,label,score_supportive,score_promotional,score_tone_deaf,score_preventive,needs_review,review_reasons,evidence,error\n"
    path = tmp_path / "s.csv"
    path.write_text(header + "\n1,Merci,supportive,0.9,0.05,0.03,0.02,true,[],[],\n", encoding="utf-8")
    columns, rows = read_scored(path)
    assert columns == ["id"] and len(rows) == 1 and rows[0].line == 3 and rows[0].needs_review
    path.write_text(header + '1,"Merci"x,supportive\n', encoding="utf-8")
    with pytest.raises(ScoredFileError, match="malformed CSV at line 2"):
        read_scored(path)
    path.write_text('"id,text\n', encoding="utf-8")
    with pytest.raises(ScoredFileError, match="malformed CSV header"):
        read_scored(path)


def test_the_format_is_csv_or_jsonl(tmp_path):
    from tonecheck.pages.scored import scored_format

    assert scored_format("a.NDJSON") == "jsonl" and scored_format("a.txt") == "csv"
    assert scored_format("a.csv", "jsonl") == "jsonl"
    with pytest.raises(ScoredFileError, match="format must be csv or jsonl, not 'xlsx'"):
        scored_format("a.csv", "xlsx")
