import csv
import json
import os
import shutil
import subprocess
import sys

import pytest

from tonecheck import cli
from tonecheck.batch import OUTPUT_COLUMNS


@pytest.fixture
def model_arg(tiny_model_dir):
    return ["--model", str(tiny_model_dir)]


def _write_csv(path, header, rows):
    with open(path, "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(header)
        w.writerows(rows)
    return path


def _read_csv(path):
    with open(path, encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def test_assess_prints_label_and_scores(capsys, model_arg):
    assert cli.main(["assess", "Lavez-vous les mains et gardez vos distances", *model_arg]) == 0
    out = capsys.readouterr().out
    assert out.startswith("label: ")
    for label in ("supportive", "promotional", "tone-deaf", "preventive"):
        assert label in out


def test_assess_json(capsys, model_arg):
    assert cli.main(["assess", "Merci aux pompiers 🚒", "--json", *model_arg]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["label"] in d["scores"]
    assert sum(d["scores"].values()) == pytest.approx(1.0, abs=1e-4)


def test_assess_empty_text_is_a_usage_error(capsys, model_arg):
    assert cli.main(["assess", "   ", *model_arg]) == 2
    assert "empty" in capsys.readouterr().err


def test_unknown_command_is_a_usage_error(capsys):
    assert cli.main(["frobnicate"]) == 2


def test_score_csv_keeps_every_row_order_and_column(tmp_path, model_arg):
    rows = [
        ["1", "ig", "Nouveau drop ce soir 20h 🔥 lien en bio", "x"],
        ["2", "x", "", "y"],  # empty text: error, no label
        ["3", "fb", "Merci aux soignants ❤️", "z"],
        ["4", "fb", "   ", "w"],  # white space only
        ["5", "li", "Restez chez vous, lavez-vous les mains", "v"],
    ]
    src = _write_csv(tmp_path / "in.csv", ["id", "platform", "caption", "extra"], rows)
    out = tmp_path / "out.csv"
    code = cli.main(["score", str(src), "-o", str(out), "--text-column", "caption", "--batch-size", "2", *model_arg])
    assert code == 1  # some rows in error
    got = _read_csv(out)
    assert [r["id"] for r in got] == ["1", "2", "3", "4", "5"]
    assert list(got[0]) == ["id", "platform", "caption", "extra", *OUTPUT_COLUMNS]
    assert [r["extra"] for r in got] == ["x", "y", "z", "w", "v"]
    for r in got:
        if r["id"] in ("2", "4"):
            assert r["label"] == "" and "empty" in r["error"]
        else:
            assert r["label"] in ("supportive", "promotional", "tone-deaf", "preventive") and r["error"] == ""
            scores = [float(r[c]) for c in OUTPUT_COLUMNS if c.startswith("score_")]
            assert sum(scores) == pytest.approx(1.0, abs=1e-3)


def test_score_all_good_rows_exits_0(tmp_path, model_arg):
    src = _write_csv(tmp_path / "in.csv", ["text"], [["Merci aux soignants"], ["Soldes d'hiver : -40 % en magasin"]])
    assert cli.main(["score", str(src), "-o", str(tmp_path / "o.csv"), *model_arg]) == 0


def test_score_reports_row_errors_on_stderr(tmp_path, capsys, model_arg):
    src = _write_csv(tmp_path / "in.csv", ["text"], [["ok merci"], [""]])
    assert cli.main(["score", str(src), "-o", str(tmp_path / "o.csv"), *model_arg]) == 1
    err = capsys.readouterr().err
    assert "1 of 2 rows not scored" in err


def test_score_malformed_csv_line_is_reported_with_its_line_number(tmp_path, model_arg):
    src = tmp_path / "in.csv"
    src.write_text('id,text\n1,"Merci aux soignants"\n2,trop,de,champs\n3,"Restez chez vous"\n', encoding="utf-8")
    out = tmp_path / "o.csv"
    assert cli.main(["score", str(src), "-o", str(out), *model_arg]) == 1
    got = _read_csv(out)
    assert [r["id"] for r in got] == ["1", "2", "3"]
    assert "line 3" in got[1]["error"] and got[1]["label"] == ""
    assert got[0]["label"] and got[2]["label"]


def test_score_unterminated_quote_fails_without_writing(tmp_path, capsys, model_arg):
    src = tmp_path / "in.csv"
    src.write_text('id,text\n1,"ok"\n2,"jamais fermé\n', encoding="utf-8")
    out = tmp_path / "o.csv"
    assert cli.main(["score", str(src), "-o", str(out), *model_arg]) == 2
    assert "malformed CSV" in capsys.readouterr().err
    assert not out.exists()
    assert list(tmp_path.glob(".o.csv.*")) == []


def test_score_missing_text_column_is_a_usage_error(tmp_path, capsys, model_arg):
    src = _write_csv(tmp_path / "in.csv", ["caption"], [["hello"]])
    assert cli.main(["score", str(src), "-o", str(tmp_path / "o.csv"), *model_arg]) == 2
    assert "no column 'text'" in capsys.readouterr().err


def test_score_unreadable_input_is_a_usage_error(tmp_path, capsys, model_arg):
    assert cli.main(["score", str(tmp_path / "nope.csv"), *model_arg]) == 2
    assert "No such file" in capsys.readouterr().err
    bad = tmp_path / "binary.csv"
    bad.write_bytes(b"text\ncaf\xe9 \x81\x8d\n")  # not UTF-8, and 0x81 is no cp1252 character either
    assert cli.main(["score", str(bad), "-o", str(tmp_path / "o.csv"), *model_arg]) == 2
    assert "neither UTF-8 (line 2) nor cp1252" in capsys.readouterr().err
    assert not (tmp_path / "o.csv").exists()


def test_score_jsonl_with_bad_lines(tmp_path, model_arg):
    src = tmp_path / "in.jsonl"
    src.write_text(
        "\n".join([
            json.dumps({"id": 1, "text": "Merci aux pompiers", "meta": {"a": 1}}),
            "{pas du json",
            json.dumps({"id": 3, "text": 42}),
            json.dumps({"id": 4}),
            json.dumps(["a list"]),
            json.dumps({"id": 6, "text": "Lavez-vous les mains"}),
        ]) + "\n",
        encoding="utf-8",
    )
    out = tmp_path / "out.jsonl"
    assert cli.main(["score", str(src), "-o", str(out), *model_arg]) == 1
    got = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert len(got) == 6
    assert got[0]["id"] == 1 and got[0]["meta"] == {"a": 1} and got[0]["label"] and got[0]["error"] is None
    assert "line 2" in got[1]["error"] and got[1]["label"] is None
    assert "not a string" in got[2]["error"]
    assert "no 'text' field" in got[3]["error"]
    assert "not an object" in got[4]["error"]
    assert got[5]["id"] == 6 and got[5]["label"]


def test_score_renames_added_columns_when_input_has_them(tmp_path, model_arg):
    src = _write_csv(tmp_path / "in.csv", ["text", "label"], [["Merci aux soignants", "supportive"]])
    out = tmp_path / "o.csv"
    assert cli.main(["score", str(src), "-o", str(out), *model_arg]) == 0
    row = _read_csv(out)[0]
    assert row["label"] == "supportive" and row["tonecheck_label"]


def test_interrupted_score_leaves_no_file_that_looks_finished(tmp_path, monkeypatch, model_arg):
    import tonecheck.batch as batch

    src = _write_csv(tmp_path / "in.csv", ["text"], [[f"Merci aux soignants n°{i}"] for i in range(50)])
    out = tmp_path / "o.csv"
    calls = {"n": 0}
    real = batch._assess_checked

    def flaky(texts, model):
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt
        return real(texts, model)

    monkeypatch.setattr(batch, "_assess_checked", flaky)
    assert cli.main(["score", str(src), "-o", str(out), "--batch-size", "10", *model_arg]) == 130
    assert not out.exists()
    assert [p.name for p in tmp_path.iterdir()] == ["in.csv"]


def test_score_works_batch_by_batch(tmp_path, model_arg):
    """Rows are scored and written batch by batch (memory is measured in the benchmark)."""
    import tonecheck.batch as batch

    src = _write_csv(tmp_path / "in.csv", ["text"], [[f"Nouveau drop n°{i} 🔥"] for i in range(30)])
    seen = []
    summary = batch.score_file(src, tmp_path / "o.csv", batch_size=10, model=_load(model_arg),
                               on_batch=lambda n: seen.append(n))
    assert seen == [10, 10, 10] and summary.rows == 30 and summary.errors == 0


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_score_with_two_jobs_writes_what_one_job_writes(tmp_path, model_arg, fmt):
    """Worker processes change the speed, never the output: same rows, order, errors and values."""
    import json

    texts = [f"Merci aux soignants n°{i} ❤️" if i % 7 else "   " for i in range(45)]
    texts[10] = "Code CONFINEMENT20 : -30 % sur tout le site !"
    if fmt == "csv":
        src = _write_csv(tmp_path / "in.csv", ["id", "text"], [[i, t] for i, t in enumerate(texts)])
    else:
        src = tmp_path / "in.jsonl"
        lines = [json.dumps({"id": i, "text": t}, ensure_ascii=False) for i, t in enumerate(texts)]
        lines[3] = '{"id": 3, "text": 42}'
        lines[4] = "not json"
        src.write_text("\n".join(lines) + "\n", encoding="utf-8")
    one, two = tmp_path / f"one.{fmt}", tmp_path / f"two.{fmt}"
    assert cli.main(["score", str(src), "-o", str(one), "--batch-size", "4", *model_arg]) == 1
    assert cli.main(["score", str(src), "-o", str(two), "--batch-size", "4", "--jobs", "2", *model_arg]) == 1
    assert one.read_bytes() == two.read_bytes()
    assert len(one.read_text(encoding="utf-8").splitlines()) == 45 + (fmt == "csv")


def test_score_jobs_must_be_positive(tmp_path, capsys, model_arg):
    src = _write_csv(tmp_path / "in.csv", ["text"], [["Merci"]])
    assert cli.main(["score", str(src), "--jobs", "0", *model_arg]) == 2
    assert "--jobs" in capsys.readouterr().err


def _load(model_arg):
    from tonecheck import load_model

    return load_model(model_arg[1])


def test_evaluate_prints_per_label_metrics_and_confusion(tmp_path, capsys, model_arg):
    rows = [["Merci aux soignants ❤️", "supportive"], ["Lavez-vous les mains", "preventive"],
            ["Nouveau drop 🔥 lien en bio", "promotional"], ["Code CONFINEMENT -30 % profitez-en", "tone-deaf"],
            ["Il pleut à Brest", "none"]]
    src = _write_csv(tmp_path / "e.csv", ["text", "label"], rows)
    assert cli.main(["evaluate", str(src), *model_arg]) == 0
    out = capsys.readouterr().out
    assert "macro-F1" in out and "confusion matrix" in out and "needs_review" in out


def test_train_refuses_to_overwrite_without_force(tmp_path, tiny_model_dir, capsys):
    d = tmp_path / "m"
    shutil.copytree(tiny_model_dir, d)
    assert cli.main(["train", "--output", str(d), "--folds", "0", "--real-labels", ""]) == 2
    assert "pass --force" in capsys.readouterr().err


def test_train_writes_a_loadable_model(tmp_path, tiny_posts, capsys):
    src = tmp_path / "posts.jsonl"
    src.write_text("\n".join(json.dumps({"text": p.text, "label": p.label}) for p in tiny_posts), encoding="utf-8")
    out = tmp_path / "model"
    assert cli.main(["train", "--data", str(src), "--real-labels", "", "--output", str(out), "--folds", "0"]) == 0
    from tonecheck import assess, load_model

    m = load_model(out)
    assert assess("Merci aux soignants", model=m).label.value in ("supportive", "promotional", "tone-deaf", "preventive")
    assert "model written to" in capsys.readouterr().out


def test_train_rejects_bad_data_listing_rows(tmp_path, capsys):
    src = tmp_path / "bad.csv"
    _write_csv(src, ["text", "label"], [["ok", "supportive"], ["", "promotional"], ["x", "happy"]])
    assert cli.main(["train", "--data", str(src), "--real-labels", "", "--output", str(tmp_path / "m")]) == 2
    err = capsys.readouterr().err
    assert "happy" in err and "bad.csv:3" in err and "bad.csv:4" in err


@pytest.mark.slow
def test_installed_console_script(tmp_path, tiny_model_dir):
    exe = shutil.which("tonecheck", path=os.path.dirname(sys.executable))
    assert exe, "the tonecheck console script is not installed"
    done = subprocess.run([exe, "assess", "Merci aux soignants", "--json", "--model", str(tiny_model_dir)],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["label"]
    done = subprocess.run([exe, "--version"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and done.stdout.startswith("tonecheck ")
