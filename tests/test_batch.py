"""Scoring files through tonecheck.batch.score_file: rows in, the same rows out, faults per row."""

import csv
import json

import pytest

from tonecheck.batch import OUTPUT_COLUMNS, PREFIX, InputError, score_file


def _csv_rows(path, **kw):
    with open(path, encoding=kw.pop("encoding", "utf-8"), newline="") as f:
        return list(csv.DictReader(f, **kw))


def _jsonl(path):
    # strict: NaN or Infinity in the output fails here
    return [json.loads(line, parse_constant=lambda c: pytest.fail(f"{c} in the output"))
            for line in path.read_text(encoding="utf-8").splitlines()]


def test_output_columns_are_the_keys_of_to_record(tiny_model):
    from tonecheck import assess

    assert tuple(assess("Merci aux soignants", model=tiny_model).to_record()) == OUTPUT_COLUMNS


def test_csv_and_jsonl_outputs_carry_the_same_fields(tmp_path, tiny_model):
    """One result-to-fields function: the same values in both formats (CSV as text)."""
    src = tmp_path / "in.csv"
    src.write_text('id,text\n1,Merci aux soignants ❤️\n2,""\n3,Nouveau drop ce soir 🔥\n', encoding="utf-8")
    score_file(src, tmp_path / "o.csv", model=tiny_model)
    score_file(src, tmp_path / "o.jsonl", model=tiny_model)
    as_csv, as_json = _csv_rows(tmp_path / "o.csv"), _jsonl(tmp_path / "o.jsonl")
    assert [r["id"] for r in as_json] == ["1", "2", "3"]
    for c, j in zip(as_csv, as_json, strict=True):
        assert list(j) == ["id", "text", *OUTPUT_COLUMNS]
        assert c["label"] == (j["label"] or "")
        assert c["needs_review"] == ("" if j["needs_review"] is None else str(j["needs_review"]).lower())
        assert json.loads(c["evidence"]) == j["evidence"] and json.loads(c["review_reasons"]) == j["review_reasons"]
        for col in OUTPUT_COLUMNS:
            if col.startswith("score_"):
                assert (float(c[col]) if c[col] else None) == j[col]
    assert as_json[1]["error"] == "line 3 is empty or only white space; there is nothing to assess"


def test_user_columns_named_like_internal_keys_are_kept(tmp_path, tiny_model):
    """The row's result and extra fields are kept beside the row, never in the user's columns."""
    src = tmp_path / "in.csv"
    src.write_text("text,__result,_extra_fields\nMerci aux soignants,a,b\n", encoding="utf-8")
    score_file(src, tmp_path / "o.csv", model=tiny_model)
    row = _csv_rows(tmp_path / "o.csv")[0]
    assert (row["__result"], row["_extra_fields"]) == ("a", "b") and row["label"]
    src = tmp_path / "in.jsonl"
    src.write_text('{"text": "Merci", "__result": 1, "_extra_fields": [2]}\n', encoding="utf-8")
    score_file(src, tmp_path / "o.jsonl", model=tiny_model)
    row = _jsonl(tmp_path / "o.jsonl")[0]
    assert (row["__result"], row["_extra_fields"]) == (1, [2]) and row["label"]


def test_jsonl_fields_that_clash_with_the_added_ones_are_prefixed_like_csv(tmp_path, tiny_model):
    src = tmp_path / "in.jsonl"
    lines = [json.dumps({"text": f"Merci n°{i}"}) for i in range(5)]
    lines.append(json.dumps({"text": "Soldes !", "label": "promo (mine)", "error": "none"}))  # only on a later row
    src.write_text("\n".join(lines) + "\n", encoding="utf-8")
    summary = score_file(src, tmp_path / "o.jsonl", model=tiny_model, batch_size=2)
    assert summary.columns_renamed
    got = _jsonl(tmp_path / "o.jsonl")
    assert all(set(r) >= {PREFIX + c for c in OUTPUT_COLUMNS} for r in got)
    assert (got[5]["label"], got[5]["error"]) == ("promo (mine)", "none") and got[5][PREFIX + "label"]


def test_nan_and_infinity_in_jsonl_become_null_and_the_row_is_scored(tmp_path, tiny_model):
    src = tmp_path / "in.jsonl"
    src.write_text('{"text": "Merci aux soignants", "reach": NaN, "ratio": Infinity}\n', encoding="utf-8")
    notes = []
    summary = score_file(src, tmp_path / "o.jsonl", model=tiny_model, on_note=notes.append)
    [row] = _jsonl(tmp_path / "o.jsonl")
    assert row["reach"] is None and row["ratio"] is None and row["label"] and summary.errors == 0
    assert len(notes) == 1 and "read as null" in notes[0]


def test_jsonl_faults_are_row_errors_and_the_job_goes_on(tmp_path, tiny_model):
    src = tmp_path / "in.jsonl"
    src.write_text("\n".join([
        '{"id": 1, "text": "Merci aux soignants \\ud83d"}',
        '{"id": 2, "text": "x", "n": ' + "9" * 4301 + "}",
        '{"id": 3, "text": "y", "d": ' + "[" * 50_000 + "]" * 50_000 + "}",
        '{"id": 4, "text": "Lavez-vous les mains"}',
    ]) + "\n", encoding="utf-8")
    summary = score_file(src, tmp_path / "o.jsonl", model=tiny_model)
    got = _jsonl(tmp_path / "o.jsonl")
    assert summary.rows == 4 and summary.errors == 2
    assert got[0]["text"] == "Merci aux soignants \ud83d" and got[0]["label"]  # scored, written back as \ud83d
    assert got[1]["error"] == "line 2: not valid JSON here: an integer has too many digits"
    assert got[2]["error"] == "line 3: not valid JSON here: nested too deeply to read"
    assert got[3]["id"] == 4 and got[3]["label"]
    score_file(src, tmp_path / "o.csv", model=tiny_model)  # CSV has no escape: U+FFFD in its place
    assert _csv_rows(tmp_path / "o.csv")[0]["text"] == "Merci aux soignants \ufffd"


def test_a_field_over_the_text_limit_is_a_row_error_not_a_refused_file(tmp_path, tiny_model):
    src = tmp_path / "in.csv"
    src.write_text(f'id,text\n1,"{"Merci " * 30_000}"\n2,Merci aux soignants\n', encoding="utf-8")
    summary = score_file(src, tmp_path / "o.csv", model=tiny_model)
    got = _csv_rows(tmp_path / "o.csv")
    assert summary.errors == 1 and "line 2 has 180,000 characters; the maximum is 50,000" in got[0]["error"]
    assert got[1]["label"]


def test_text_after_a_closing_quote_is_a_row_error(tmp_path, tiny_model):
    src = tmp_path / "in.csv"
    src.write_text('id,text\n1,"Merci"x\n2,Lavez-vous les mains\n', encoding="utf-8")
    summary = score_file(src, tmp_path / "o.csv", model=tiny_model)
    got = _csv_rows(tmp_path / "o.csv")
    assert summary.errors == 1 and got[0]["error"].startswith("line 2: malformed CSV") and got[1]["label"]


def test_output_format_follows_the_extension(tmp_path, tiny_model):
    import openpyxl

    src = tmp_path / "in.csv"
    src.write_text("id;texte\n1;Merci aux soignants\n2;=1+1 promo\n", encoding="utf-8")
    summary = score_file(src, tmp_path / "o.xlsx", text_column="Texte", model=tiny_model)
    assert (summary.input_format, summary.output_format, summary.delimiter, summary.text_column) == (
        "csv", "xlsx", ";", "texte")
    rows = list(openpyxl.load_workbook(tmp_path / "o.xlsx").active.values)
    assert rows[0] == ("id", "texte", *OUTPUT_COLUMNS)
    assert rows[2][1] == "=1+1 promo" and isinstance(rows[1][3], float) and rows[1][7] in (True, False)
    score_file(src, tmp_path / "o.tsv", text_column="texte", model=tiny_model)
    assert (tmp_path / "o.tsv").read_text(encoding="utf-8").startswith("id\ttexte\tlabel\t")


def test_input_delimiter_is_kept_and_excel_writes_semicolons_and_a_bom(tmp_path, tiny_model):
    src = tmp_path / "in.csv"
    src.write_text("id\ttext\n1\tMerci, vraiment\n", encoding="utf-8")
    score_file(src, tmp_path / "same.csv", model=tiny_model)
    assert _csv_rows(tmp_path / "same.csv", delimiter="\t")[0]["text"] == "Merci, vraiment"
    score_file(src, tmp_path / "excel.csv", excel=True, model=tiny_model)
    raw = (tmp_path / "excel.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbfid;text;label;")
    assert _csv_rows(tmp_path / "excel.csv", delimiter=";", encoding="utf-8-sig")[0]["label"]


def test_jsonl_without_the_text_field_is_refused_with_did_you_mean(tmp_path, tiny_model):
    src = tmp_path / "in.jsonl"
    src.write_text('{"id": 1, "txt": "Merci"}\n', encoding="utf-8")
    with pytest.raises(InputError, match=r"no field 'text' in the input; did you mean 'txt'\?"):
        score_file(src, tmp_path / "o.jsonl", model=tiny_model)
    assert not (tmp_path / "o.jsonl").exists()


def test_jsonl_text_field_matches_ignoring_case(tmp_path, tiny_model):
    src = tmp_path / "in.jsonl"
    src.write_text('{"Text": "Merci aux soignants"}\n', encoding="utf-8")
    summary = score_file(src, tmp_path / "o.jsonl", model=tiny_model)
    assert summary.errors == 0 and summary.text_column == "Text"


def test_jsonl_to_csv_uses_the_first_rows_keys(tmp_path, tiny_model):
    src = tmp_path / "in.jsonl"
    src.write_text('{"id": 1, "text": "Merci", "tags": ["a", "b"]}\n{"id": 2, "text": "Soldes", "new": 1}\n', encoding="utf-8")
    notes = []
    score_file(src, tmp_path / "o.csv", model=tiny_model, batch_size=1, on_note=notes.append)
    got = _csv_rows(tmp_path / "o.csv")
    assert list(got[0])[:3] == ["id", "text", "tags"] and got[0]["tags"] == '["a", "b"]'
    assert len(notes) == 1 and "'new'" in notes[0]


def test_jsonl_from_a_pipe_with_a_late_clashing_key_keeps_that_row_as_it_is(tmp_path, tiny_model):
    """A pipe cannot be read twice: the first batch decides the added names."""
    import os
    import threading

    fifo = tmp_path / "in.jsonl"
    os.mkfifo(fifo)
    lines = [json.dumps({"text": "Merci aux soignants"}), json.dumps({"text": "Soldes !", "label": "mine"})]

    def feed():
        with open(fifo, "w", encoding="utf-8") as f:
            f.write("\n".join(lines) + "\n")

    feeder = threading.Thread(target=feed)
    feeder.start()
    summary = score_file(fifo, tmp_path / "o.jsonl", model=tiny_model, batch_size=1)
    feeder.join()
    got = _jsonl(tmp_path / "o.jsonl")
    assert not summary.columns_renamed and summary.errors == 1
    assert got[0]["label"] and got[1]["label"] == "mine"
    assert "has the field(s) ['label']" in got[1]["error"]
