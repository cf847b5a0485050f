"""Reading tables as people have them, and writing them safely (tonecheck.tables)."""

import codecs
import json
import os
import stat

import pytest

from tonecheck.table_columns import match_column, similar_column
from tonecheck.table_csv import FIELD_SIZE_LIMIT
from tonecheck.table_formulas import neutralise_formula, restore_formula
from tonecheck.table_input import open_table
from tonecheck.table_output import open_writer
from tonecheck.tables import InputError, OutputError


def _read(path, **kw):
    notes = []
    with open_table(path, on_note=notes.append, **kw) as table:
        records = list(table.records)
        return table, records, notes


# --- encodings and delimiters -------------------------------------------------------


def test_cp1252_with_semicolons_is_read_and_said_once(tmp_path):
    """What Excel's "CSV (séparateur : point-virgule)" writes on a French Windows."""
    p = tmp_path / "excel.csv"
    p.write_bytes('id;texte\n1;Café offert aux soignants, merci\n2;"Été : -30 % ; profitez"\n'.encode("cp1252"))
    table, records, notes = _read(p)
    assert (table.delimiter, table.encoding) == (";", "cp1252")
    assert table.header == ["id", "texte"]
    assert [r.values["texte"] for r in records] == ["Café offert aux soignants, merci", "Été : -30 % ; profitez"]
    assert len(notes) == 1 and "not UTF-8 (line 2); read as cp1252" in notes[0]


def test_utf8_bom_is_not_part_of_the_first_column_name(tmp_path):
    p = tmp_path / "bom.csv"
    p.write_bytes(codecs.BOM_UTF8 + "text,id\nMerci ❤️,1\n".encode())
    table, records, notes = _read(p)
    assert table.header == ["text", "id"] and table.encoding == "utf-8-sig" and notes == []
    assert records[0].values == {"text": "Merci ❤️", "id": "1"}


def test_forced_utf8_on_a_bom_file_still_gives_clean_names(tmp_path):
    p = tmp_path / "bom.csv"
    p.write_bytes(codecs.BOM_UTF8 + b"text\nok\n")
    table, _, _ = _read(p, encoding="utf-8")
    assert table.header == ["text"]


def test_utf16_with_bom_and_tabs(tmp_path):
    """Excel's "Unicode text" export: UTF-16 with a BOM, tab-separated."""
    p = tmp_path / "unicode.txt"
    p.write_text("id\ttext\n1\tRestez chez vous 🏠\n", encoding="utf-16")
    table, records, _ = _read(p)
    assert table.delimiter == "\t" and table.encoding.startswith("utf-16")
    assert records[0].values["text"] == "Restez chez vous 🏠"


def test_utf16_without_bom_is_refused_with_the_fix(tmp_path):
    p = tmp_path / "u16.csv"
    p.write_bytes("text\nMerci\n".encode("utf-16-le"))
    with pytest.raises(InputError, match=r"NUL bytes.*--encoding utf-16-le"):
        _read(p)
    _, records, _ = _read(p, encoding="utf-16-le")
    assert records[0].values == {"text": "Merci"}


def test_bytes_neither_utf8_nor_cp1252_are_refused_naming_the_line(tmp_path):
    p = tmp_path / "bad.csv"
    p.write_bytes(b"text\nok\ncaf\xe9 \x81\n")
    with pytest.raises(InputError, match=r"neither UTF-8 \(line 3\) nor cp1252 \(line 3\); pass --encoding"):
        _read(p)
    _, records, _ = _read(p, encoding="latin-1")
    assert records[1].values["text"] == "café \x81"


@pytest.mark.parametrize("header, expected", [
    ("a,b;c", ","), ("id;text", ";"), ("id\ttext;x\tz", "\t"), ('"a;b",c', ","), ("text", ","),
])
def test_delimiter_is_the_one_the_header_uses_most_outside_quotes(tmp_path, header, expected):
    p = tmp_path / "d.csv"
    p.write_text(header + "\n", encoding="utf-8")
    assert _read(p)[0].delimiter == expected


def test_delimiter_can_be_forced(tmp_path):
    p = tmp_path / "d.csv"
    p.write_text("id|text\n1|a, b; c\n", encoding="utf-8")
    _, records, _ = _read(p, delimiter="|")
    assert records[0].values == {"id": "1", "text": "a, b; c"}
    with pytest.raises(InputError, match="one character"):
        _read(p, delimiter=";;")


def test_unknown_encoding_is_named(tmp_path):
    p = tmp_path / "d.csv"
    p.write_text("text\n", encoding="utf-8")
    with pytest.raises(InputError, match="unknown encoding 'klingon'"):
        _read(p, encoding="klingon")


# --- CSV faults -----------------------------------------------------------------------


def test_field_longer_than_the_csv_default_limit_is_read(tmp_path):
    """csv refuses fields over 131,072 characters by default; the text limit is checked later."""
    p = tmp_path / "long.csv"
    p.write_text(f'id,text\n1,"{"a" * 200_000}"\n2,ok\n', encoding="utf-8")
    _, records, _ = _read(p)
    assert len(records[0].values["text"]) == 200_000 and records[1].values["text"] == "ok"
    assert FIELD_SIZE_LIMIT >= 200_000


def test_text_after_a_closing_quote_is_a_row_error_and_reading_goes_on(tmp_path):
    p = tmp_path / "q.csv"
    p.write_text('id,text\n1,"Merci"x\n2,"multi\nligne"oops\n3,ok\n', encoding="utf-8")
    _, records, _ = _read(p)
    assert [r.line for r in records] == [2, 3, 5]
    assert "malformed CSV" in records[0].error and "'1,\"Merci\"x'" in records[0].error
    assert records[1].error and records[2].values == {"id": "3", "text": "ok"} and records[2].error is None


def test_text_after_a_closing_quote_with_a_quote_left_open_is_refused_with_its_line(tmp_path):
    p = tmp_path / "q.csv"
    p.write_text('id,text\n1,ok\n2,"Merci" x "jamais\nfermé,3\n4,ok\n', encoding="utf-8")
    table = open_table(p)
    with pytest.raises(InputError, match=r"malformed CSV at line 3.*quote left open"):
        list(table.records)
    table.close()


def test_wrong_number_of_fields_is_a_row_error_naming_the_extras(tmp_path):
    p = tmp_path / "n.csv"
    p.write_text("id,text\n1,a,b,c\n2\n", encoding="utf-8")
    _, records, _ = _read(p)
    assert records[0].error == 'malformed CSV: expected 2 fields, got 4 (extra fields: ["b", "c"])'
    assert records[1].error == "malformed CSV: expected 2 fields, got 1"


def test_empty_file_and_duplicate_names_are_refused(tmp_path):
    p = tmp_path / "e.csv"
    p.write_text("", encoding="utf-8")
    with pytest.raises(InputError, match="empty"):
        _read(p)
    p.write_text("text,text\n", encoding="utf-8")
    with pytest.raises(InputError, match="duplicate column names"):
        _read(p)


# --- JSON Lines faults ----------------------------------------------------------------


def test_jsonl_faults_are_row_errors(tmp_path):
    p = tmp_path / "f.jsonl"
    p.write_text("\n".join([
        '{"text": "Merci \\ud83d"}',            # a lone surrogate: parses, kept as is
        '{"text": "a", "n": ' + "1" * 5000 + "}",  # over Python's 4,300-digit limit
        '{"text": "b", "d": ' + "[" * 100_000 + "]" * 100_000 + "}",  # RecursionError
        '{"text": "c", "x": NaN, "y": -Infinity}',
        "[1, 2]",
        "{oops",
    ]) + "\n", encoding="utf-8")
    _, records, notes = _read(p)
    assert records[0].values["text"] == "Merci \ud83d" and records[0].error is None
    assert records[1].error == "not valid JSON here: an integer has too many digits"
    assert records[2].error == "not valid JSON here: nested too deeply to read"
    assert records[3].values == {"text": "c", "x": None, "y": None} and records[3].error is None
    assert notes == [f"{p}: NaN on line 4 is not JSON; such values are read as null"]
    assert records[4].error == "a JSON list, not an object"
    assert records[5].error.startswith("not valid JSON (Expecting property name")


def test_a_json_array_is_refused_with_the_fix(tmp_path):
    p = tmp_path / "posts.json"
    p.write_text('[{"text": "Merci"},\n {"text": "Soldes"}]\n', encoding="utf-8")
    with pytest.raises(InputError, match=r"a JSON array, not JSON Lines.*jq -c"):
        _read(p)


# --- xlsx -------------------------------------------------------------------------------


def _workbook(path):
    import openpyxl

    book = openpyxl.Workbook()
    book.active.title = "Lisez-moi"
    book.active.append(["ce classeur contient les posts"])
    ws = book.create_sheet("Posts")
    ws.append(["ID", "Texte", None])
    ws.append([1, "Merci aux soignants ❤️"])
    ws.append([2, 2020])
    ws.append([])
    ws.append([4, "Soldes -30 %", None, "en trop"])
    book.save(path)
    return path


def test_xlsx_first_sheet_or_the_one_named(tmp_path):
    p = _workbook(tmp_path / "posts.xlsx")
    table, records, _ = _read(p)
    assert table.sheet == "Lisez-moi" and table.header == ["ce classeur contient les posts"]
    table, records, _ = _read(p, sheet="posts")
    assert table.format == "xlsx" and table.sheet == "Posts" and table.header == ["ID", "Texte"]
    assert [(r.line, r.values.get("Texte")) for r in records] == [(2, "Merci aux soignants ❤️"), (3, "2020"), (5, "Soldes -30 %")]
    assert records[0].values["ID"] == "1" and records[2].error == """cells beyond the header's 2 columns: ["", "en trop"]"""


def test_xlsx_unknown_sheet_says_did_you_mean(tmp_path):
    p = _workbook(tmp_path / "posts.xlsx")
    with pytest.raises(InputError, match=r"no sheet 'Post'; did you mean 'Posts'\?"):
        _read(p, sheet="Post")


def test_not_a_workbook_and_old_xls_are_refused(tmp_path):
    p = tmp_path / "fake.xlsx"
    p.write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(InputError, match=r"cannot read .* as an Excel workbook"):
        _read(p)
    old = tmp_path / "old.xls"
    old.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100)
    with pytest.raises(InputError, match=r"\.xls workbooks are not read"):
        _read(old)
    old.rename(tmp_path / "old.bin")
    with pytest.raises(InputError, match=r"an old Excel \.xls or an encrypted workbook"):
        _read(tmp_path / "old.bin")


# --- column names -----------------------------------------------------------------------


@pytest.mark.parametrize("wanted, names, expected", [
    ("text", ["id", "text"], "text"),
    ("text", ["id", "Text"], "Text"),
    ("texte", ["\ufeffTEXTE "], "\ufeffTEXTE "),
    ("Légende", ["Le\u0301gende"], "Le\u0301gende"),  # NFD in the file, NFC typed
    ("text", ["caption"], None),
])
def test_column_names_match_ignoring_case_space_bom_and_normalisation(wanted, names, expected):
    assert match_column(wanted, names) == expected


def test_two_names_that_both_match_are_ambiguous():
    with pytest.raises(InputError, match="ambiguous"):
        match_column("text", ["Text", "TEXT"])


def test_did_you_mean():
    assert similar_column("txt", ["id", "Text", "date"]) == "Text"
    assert similar_column("zzz", ["id", "Text"]) is None


# --- writing ----------------------------------------------------------------------------


def test_output_file_gets_the_umask_permissions_not_mkstemps(tmp_path):
    old = os.umask(0o027)
    try:
        with open_writer(tmp_path / "o.csv", "csv", ["a"]) as w:
            w.write({"a": "x"})
            w.commit()
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "o.csv").stat().st_mode) == 0o640
    (tmp_path / "o.csv").chmod(0o600)  # an existing file keeps its own permissions
    with open_writer(tmp_path / "o.csv", "csv", ["a"]) as w:
        w.commit()
    assert stat.S_IMODE((tmp_path / "o.csv").stat().st_mode) == 0o600


def test_unfinished_output_leaves_nothing(tmp_path):
    with pytest.raises(RuntimeError), open_writer(tmp_path / "o.jsonl", "jsonl") as w:
        w.write({"a": 1})
        raise RuntimeError
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("where, message", [
    ("folder", "is a folder"),
    ("file/o.csv", "is a file, not a folder"),
])
def test_unwritable_destinations_fail_before_any_row(tmp_path, where, message):
    (tmp_path / "folder").mkdir()
    (tmp_path / "file").write_text("x")
    with pytest.raises(OutputError, match=message):
        open_writer(tmp_path / where, "csv", ["a"])


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="no /dev/full")
def test_full_disk_fails_on_the_header_before_any_row():
    with pytest.raises(OutputError, match="No space left on device"):
        open_writer("/dev/full", "csv", ["a"])


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes anywhere")
def test_folder_without_write_permission(tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        with pytest.raises(OutputError, match="Permission denied"):
            open_writer(locked / "o.csv", "csv", ["a"])
    finally:
        locked.chmod(0o700)


def test_jsonl_out_is_strict_json_and_keeps_lone_surrogates_as_escapes(tmp_path):
    p = tmp_path / "o.jsonl"
    with open_writer(p, "jsonl") as w:
        w.write({"text": "Merci \ud83d", "n": 1})
        w.write({"text": "ok ❤️"})
        w.commit()
    lines = p.read_text(encoding="utf-8").splitlines()
    assert json.loads(lines[0])["text"] == "Merci \ud83d" and lines[1] == '{"text": "ok ❤️"}'
    with open_writer(tmp_path / "n.jsonl", "jsonl") as w, pytest.raises(ValueError, match="cannot be written as JSON"):
            w.write({"x": float("nan")})


def test_excel_csv_has_a_bom_and_semicolons(tmp_path):
    p = tmp_path / "o.csv"
    with open_writer(p, "csv", ["a", "b"], delimiter=";", bom=True) as w:
        w.write({"a": "x;y", "b": 0.000048})
        w.commit()
    assert p.read_bytes() == codecs.BOM_UTF8 + b'a;b\n"x;y";0.000048\n'


# Cells a spreadsheet would run (OWASP's list of first characters), and neighbours it would not.
FORMULAS = ['=HYPERLINK("http://x","clic")', "+33 6 12 34 56 78", "-30 % ce soir", "@marque merci",
            "\tTAB", "\rCR", "'=déjà neutralisé", "'"]
HARMLESS = ["Merci ❤️", " =après une espace", "", "a=b"]


@pytest.mark.parametrize("text", FORMULAS + HARMLESS)
def test_neutralise_formula_is_undone_exactly(text):
    neutral = neutralise_formula(text)
    assert not neutral.startswith(("=", "+", "-", "@", "\t", "\r"))
    assert restore_formula(neutral) == text
    assert (neutral == text) == (text in HARMLESS)


def test_csv_for_excel_neutralises_formulas_plain_csv_and_jsonl_do_not(tmp_path):
    import csv

    rows = [{"=id": t, "text": t, "score": -0.5} for t in FORMULAS + HARMLESS]
    for name, fmt, kw in (("excel.csv", "csv", {"delimiter": ";", "bom": True, "neutralise_formulas": True}),
                          ("plain.csv", "csv", {}), ("rows.jsonl", "jsonl", {})):
        with open_writer(tmp_path / name, fmt, ["=id", "text", "score"], **kw) as w:
            for row in rows:
                w.write(row)
            w.commit()
    with open(tmp_path / "excel.csv", encoding="utf-8-sig", newline="") as f:
        excel = list(csv.reader(f, delimiter=";"))
    assert excel[0] == ["'=id", "text", "score"]
    assert [r[1] for r in excel[1:]] == [neutralise_formula(t) for t in FORMULAS + HARMLESS]
    assert excel[1][1] == "'=HYPERLINK(\"http://x\",\"clic\")" and excel[-1][1] == "a=b"
    assert {r[2] for r in excel[1:]} == {"-0.5"}  # numbers are numbers, not text to neutralise
    with open(tmp_path / "plain.csv", encoding="utf-8", newline="") as f:
        assert [r[1] for r in list(csv.reader(f))[1:]] == FORMULAS + HARMLESS
    lines = (tmp_path / "rows.jsonl").read_text(encoding="utf-8").splitlines()
    assert [json.loads(line)["text"] for line in lines] == FORMULAS + HARMLESS


def test_xlsx_cells_that_start_like_formulas_are_text_with_a_quote_prefix(tmp_path):
    import zipfile

    import openpyxl

    p = tmp_path / "o.xlsx"
    with open_writer(p, "xlsx", ["=id", "text"]) as w:
        for t in FORMULAS + HARMLESS:
            w.write({"=id": 1, "text": t})
        w.commit()
    ws = openpyxl.load_workbook(p).active
    assert ws["A1"].value == "=id" and ws["A1"].quotePrefix and ws["A1"].data_type == "s"
    cells = [ws.cell(row=i + 2, column=2) for i in range(len(FORMULAS + HARMLESS))]
    # The text itself, no ' (XML reads a carriage return back as a line feed).
    assert [c.value or "" for c in cells] == [t.replace("\r", "\n") for t in FORMULAS + HARMLESS]
    assert all(c.data_type == "s" for c in cells if c.value is not None)  # "" reads back as an empty cell
    assert [bool(c.quotePrefix) for c in cells] == [t.startswith(("=", "+", "-", "@", "\t", "\r")) for t in FORMULAS + HARMLESS]
    with zipfile.ZipFile(p) as z:
        assert "<f>" not in z.read("xl/worksheets/sheet1.xml").decode()  # no formula anywhere


def test_xlsx_out_never_writes_formulas_or_illegal_characters(tmp_path):
    import openpyxl

    p = tmp_path / "o.xlsx"
    with open_writer(p, "xlsx", ["text", "score", "flag", "reasons"]) as w:
        w.write({"text": "=HYPERLINK(\"http://x\")", "score": 0.5, "flag": True, "reasons": ["unsure"]})
        w.write({"text": "bip\x07 \x1b[31m"})
        w.commit()
    ws = openpyxl.load_workbook(p).active
    assert ws["A2"].value == '=HYPERLINK("http://x")' and ws["A2"].data_type == "s"
    assert (ws["B2"].value, ws["C2"].value, ws["D2"].value) == (0.5, True, '["unsure"]')
    assert ws["A3"].value == "bip\ufffd \ufffd[31m"


# --- edge cases of reading and writing ----------------------------------------------


def test_an_old_xls_name_or_an_unknown_format_is_refused(tmp_path):
    from tonecheck.tables import format_of_path

    assert format_of_path(None) is None and format_of_path("-") is None and format_of_path("a.TSV") == "csv"
    with pytest.raises(InputError, match=r"a\.xls: old Excel \.xls workbooks are not read"):
        format_of_path("a.xls")
    with pytest.raises(InputError, match=r"format must be one of .*, not 'xml'"):
        open_table(tmp_path / "a.csv", fmt="xml")
    with pytest.raises(InputError, match="is a folder, not a file"):
        open_table(tmp_path)


def test_delimiter_tab_may_be_spelled_out(tmp_path):
    p = tmp_path / "t.txt"
    p.write_text("id\ttext\n1\tMerci, vraiment\n", encoding="utf-8")
    table, records, _ = _read(p, delimiter="tab")
    assert table.header == ["id", "text"] and records[0].values["text"] == "Merci, vraiment"


def _workbook_of(path, rows):
    import openpyxl

    book = openpyxl.Workbook()
    for row in rows:
        book.active.append(row)
    book.save(path)
    return path


@pytest.mark.parametrize("rows, message", [
    ([[None, None], ["1", "Merci"]], "sheet 'Sheet' has no header row"),
    ([["text", "text"], ["a", "b"]], r"duplicate column names in the header of sheet 'Sheet': \['text'\]"),
])
def test_a_sheet_without_a_usable_header_is_refused(tmp_path, rows, message):
    with pytest.raises(InputError, match=message):
        open_table(_workbook_of(tmp_path / "b.xlsx", rows))


def test_writing_where_a_folder_or_a_file_is_in_the_way(tmp_path):
    with pytest.raises(OutputError, match="is a folder; give a file name for the output"):
        open_writer(tmp_path, "csv", ["a"])
    (tmp_path / "f").write_text("x", encoding="utf-8")
    with pytest.raises(OutputError, match=r"cannot write .*: .*f is a file, not a folder"):
        open_writer(tmp_path / "f" / "sub" / "o.csv", "csv", ["a"])


def test_writing_to_a_device_writes_in_place(tmp_path):
    with open_writer(os.devnull, "jsonl") as w:
        w.write({"text": "Merci"})
        w.commit()
    assert os.path.exists(os.devnull) and not os.path.isfile(os.devnull)  # not replaced by a file


def test_a_workbook_on_standard_output_is_spooled_then_copied(capsysbinary):
    with open_writer("-", "xlsx", ["text"]) as w:
        w.write({"text": "Merci"})
        w.commit()
    out = capsysbinary.readouterr().out
    assert out.startswith(b"PK")  # a zip: the whole workbook
    import io

    import openpyxl

    assert openpyxl.load_workbook(io.BytesIO(out)).active["A2"].value == "Merci"


def test_csv_on_standard_output(capfd):
    with open_writer("-", "csv", ["text", "n"]) as w:
        w.write({"text": "Merci, vraiment", "n": 2})
        w.commit()
    assert capfd.readouterr().out.splitlines() == ["text,n", '"Merci, vraiment",2']
