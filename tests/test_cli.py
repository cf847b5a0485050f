import contextlib
import csv
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

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
    real = batch.score_texts

    def flaky(texts, model, *policy):
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt
        return real(texts, model, *policy)

    monkeypatch.setattr(batch, "score_texts", flaky)
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


# --- input and output as people have them ---------------------------------------------


def _tonecheck(*args, input=None, timeout=300, **kw):
    """Run ``python -m tonecheck`` as a person would, in a subprocess."""
    return subprocess.run([sys.executable, "-m", "tonecheck", *map(str, args)], input=input,
                          capture_output=True, timeout=timeout, **kw)


@pytest.mark.slow
def test_python_m_tonecheck_reads_standard_input_and_writes_standard_output(tiny_model_dir):
    data = "id;Texte\n1;Café offert aux soignants\n2;Soldes d'été -30 %\n".encode("cp1252")
    done = _tonecheck("score", "-", "--text-column", "texte", "--model", tiny_model_dir, input=data)
    assert done.returncode == 0, done.stderr
    out = done.stdout.decode("utf-8").splitlines()
    assert out[0].startswith("id;Texte;label;") and out[1].startswith("1;Café offert aux soignants;")
    assert done.stderr.decode().count("read as cp1252") == 1


@pytest.mark.slow
def test_closed_pipe_ends_quietly(tiny_model_dir, tmp_path):
    src = _write_csv(tmp_path / "in.csv", ["text"], [[f"Merci aux soignants n°{i}"] for i in range(3000)])
    done = subprocess.run(f"'{sys.executable}' -m tonecheck score '{src}' --model '{tiny_model_dir}' | head -1",
                          shell=True, capture_output=True, timeout=300, executable="/bin/bash")
    assert done.stdout.decode().startswith("text,label,")
    assert done.stderr == b""  # no BrokenPipeError traceback, no "Exception ignored"
    done = subprocess.run(f"set -o pipefail; '{sys.executable}' -m tonecheck score '{src}' --model '{tiny_model_dir}' | head -1",
                          shell=True, capture_output=True, timeout=300, executable="/bin/bash")
    assert done.returncode == 141  # like any Unix tool whose reader went away


def test_score_reads_xlsx_and_writes_xlsx(tmp_path, model_arg):
    import openpyxl

    book = openpyxl.Workbook()
    book.active.title = "Brouillons"
    for row in (["ID", "Légende"], [1, "Merci aux soignants ❤️"], [2, None], [3, "Lavez-vous les mains"]):
        book.active.append(row)
    book.save(tmp_path / "in.xlsx")
    out = tmp_path / "out.xlsx"
    assert cli.main(["score", str(tmp_path / "in.xlsx"), "-o", str(out), "--text-column", "légende", *model_arg]) == 1
    rows = list(openpyxl.load_workbook(out).active.values)
    assert [r[:2] for r in rows] == [
        ("ID", "Légende"), ("1", "Merci aux soignants ❤️"), ("2", None), ("3", "Lavez-vous les mains")]
    assert rows[1][2] and rows[2][-1] == "row 3 is empty or only white space; there is nothing to assess"


def test_missing_column_says_did_you_mean(tmp_path, capsys, model_arg):
    src = _write_csv(tmp_path / "in.csv", ["id", "texte"], [["1", "Merci"]])
    assert cli.main(["score", str(src), "--text-column", "text", *model_arg]) == 2
    assert "did you mean 'texte'?" in capsys.readouterr().err


@pytest.mark.parametrize("output, message", [
    ("folder", "is a folder"),
    ("file.csv/o.csv", "is a file, not a folder"),
    ("/dev/full", "No space left on device"),
])
def test_unwritable_output_exits_3_before_scoring(tmp_path, capsys, monkeypatch, model_arg, output, message):
    import tonecheck.batch as batch

    (tmp_path / "folder").mkdir()
    (tmp_path / "file.csv").write_text("x")
    src = _write_csv(tmp_path / "in.csv", ["text"], [["Merci"]])
    monkeypatch.setattr(batch, "score_texts", lambda *a: pytest.fail("scored before the output was checked"))
    assert cli.main(["score", str(src), "-o", str(tmp_path / output), *model_arg]) == 3
    assert message in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file.csv", "folder", "in.csv"]


def test_internal_error_is_one_line_exit_4_traceback_only_with_debug(tmp_path, capsys, monkeypatch, model_arg):
    import tonecheck.batch as batch

    def broken(texts, model, *policy):
        raise ZeroDivisionError("boom")

    monkeypatch.setattr(batch, "score_texts", broken)
    src = _write_csv(tmp_path / "in.csv", ["text"], [["Merci"]])
    assert cli.main(["score", str(src), "-o", str(tmp_path / "o.csv"), *model_arg]) == 4
    err = capsys.readouterr().err
    assert err == "tonecheck: internal error: ZeroDivisionError: boom (run again with --debug for the traceback)\n"
    assert cli.main(["score", str(src), "-o", str(tmp_path / "o.csv"), "--debug", *model_arg]) == 4
    assert "Traceback" in capsys.readouterr().err
    assert not (tmp_path / "o.csv").exists()


def test_quiet_and_verbose(tmp_path, capsys, model_arg):
    src = tmp_path / "in.csv"
    src.write_bytes("text\nCafé\n\"\"\n".encode("cp1252"))
    assert cli.main(["score", str(src), "-o", str(tmp_path / "o.csv"), "--quiet", *model_arg]) == 1
    assert capsys.readouterr().err == ""
    assert cli.main(["score", str(src), "-o", str(tmp_path / "o.csv"), "-v", *model_arg]) == 1
    err = capsys.readouterr().err
    assert "read as cp1252" in err and "(csv, cp1252, delimiter ',')" in err and "rows/s" in err


def test_output_file_respects_the_umask(tmp_path, model_arg):
    src = _write_csv(tmp_path / "in.csv", ["text"], [["Merci"]])
    old = os.umask(0o077)
    try:
        assert cli.main(["score", str(src), "-o", str(tmp_path / "o.csv"), *model_arg]) == 0
        assert cli.main(["score", str(src), "-o", str(tmp_path / "o.jsonl"), *model_arg]) == 0
        os.umask(0o002)
        assert cli.main(["score", str(src), "-o", str(tmp_path / "o.xlsx"), *model_arg]) == 0
    finally:
        os.umask(old)
    assert (tmp_path / "o.csv").stat().st_mode & 0o777 == 0o600
    assert (tmp_path / "o.jsonl").stat().st_mode & 0o777 == 0o600
    assert (tmp_path / "o.xlsx").stat().st_mode & 0o777 == 0o664


def test_table_escapes_control_characters_and_aligns_emoji(tmp_path, capsys, model_arg):
    from wcwidth import wcswidth

    rows = [["Merci aux soignants ❤️👩‍⚕️🇫🇷"], ["\x1b[2J\x1b[31mPromo\x1b[0m ‮txet"], ["Lavez-vous les mains, restez chez vous"]]
    src = _write_csv(tmp_path / "in.csv", ["text"], rows)
    assert cli.main(["score", str(src), "--table", *model_arg]) == 0
    out = capsys.readouterr().out
    assert "\x1b" not in out and "\u202e" not in out
    assert "\\x1b[2J\\x1b[31mPromo\\x1b[0m \\u202etxet" in out
    lines = out.splitlines()
    assert lines[0].startswith("conf: the model's probability for the label it gives")
    header = lines[1]
    label_at = wcswidth(header[: header.index("label")])
    body = lines[3:6]
    for line in body:
        label = next(lab for lab in ("supportive", "promotional", "tone-deaf", "preventive") if lab in line)
        assert wcswidth(line[: line.index(label)]) == label_at, line


# --- signals, workers -----------------------------------------------------------------


def _children(pid):
    kids = []
    for stat in os.listdir("/proc"):
        if stat.isdigit():
            try:
                with open(f"/proc/{stat}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid and fields[0] != "Z":
                kids.append(int(stat))
    return kids


def _alive(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def _start_scoring_from_a_pipe(tmp_path, tiny_model_dir):
    """`tonecheck score - --jobs 2` reading from a pipe kept open: it waits for more rows with
    its workers running and its .partial file open."""
    import time

    proc = subprocess.Popen([sys.executable, "-m", "tonecheck", "score", "-", "-o", str(tmp_path / "o.csv"),
                             "--jobs", "2", "--batch-size", "1", "--model", str(tiny_model_dir)],
                            stdin=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.stdin.write(b"id,text\n" + b"".join(f"{i},Merci aux soignants {i}\n".encode() for i in range(20)))
    proc.stdin.flush()
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        partial = list(tmp_path.glob(".o.csv.*.partial"))
        if partial and partial[0].stat().st_size > 100 and len(_children(proc.pid)) >= 2:
            return proc, _children(proc.pid)
        time.sleep(0.05)
    proc.kill()
    pytest.fail("scoring did not start")


@pytest.mark.slow
@pytest.mark.skipif(not os.path.exists("/proc/self/stat"), reason="needs /proc")
@pytest.mark.parametrize("signame", ["SIGTERM", "SIGHUP", "SIGINT"])
def test_signals_remove_the_partial_file_and_stop_the_workers(tmp_path, tiny_model_dir, signame):
    import signal
    import time

    proc, workers = _start_scoring_from_a_pipe(tmp_path, tiny_model_dir)
    signum = getattr(signal, signame)
    proc.send_signal(signum)
    assert proc.wait(timeout=60) == 128 + signum
    assert f"stopped by {signame}" in proc.stderr.read().decode()
    assert list(tmp_path.iterdir()) == []
    deadline = time.monotonic() + 10
    while any(_alive(w) for w in workers) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(_alive(w) for w in workers)


@pytest.mark.slow
@pytest.mark.skipif(not os.path.exists("/proc/self/stat"), reason="needs /proc")
def test_a_killed_worker_is_an_error_not_a_hang(tmp_path, tiny_model_dir):
    import signal
    import time

    proc, workers = _start_scoring_from_a_pipe(tmp_path, tiny_model_dir)
    os.kill(workers[0], signal.SIGKILL)
    time.sleep(0.2)
    with contextlib.suppress(BrokenPipeError):  # the job may have stopped already: that is the point
        proc.stdin.write(b"".join(f"{i},Lavez-vous les mains {i}\n".encode() for i in range(20)))
        proc.stdin.close()
    assert proc.wait(timeout=60) == 4
    assert "a worker process stopped" in proc.stderr.read().decode()
    assert list(tmp_path.iterdir()) == []


@pytest.mark.slow
@pytest.mark.skipif(not os.path.exists("/proc/self/stat"), reason="needs /proc")
def test_workers_can_be_terminated_and_leave_ctrl_c_to_the_parent(tmp_path, tiny_model_dir):
    # The pool ends the workers of a broken pool with SIGTERM: workers forked with it blocked
    # waited for ever on a queue lock that a killed worker held (an intermittent hang).
    import signal

    proc, workers = _start_scoring_from_a_pipe(tmp_path, tiny_model_dir)
    status = Path(f"/proc/{workers[1]}/status").read_text()
    fields = {k: int(v, 16) for k, v in (line.split(":\t") for line in status.splitlines() if line[:6] in ("SigBlk", "SigIgn"))}
    assert fields["SigBlk"] & (1 << (signal.SIGTERM - 1)) == 0
    assert fields["SigIgn"] & (1 << (signal.SIGINT - 1))
    os.kill(workers[0], signal.SIGTERM)
    with contextlib.suppress(BrokenPipeError):
        proc.stdin.close()
    assert proc.wait(timeout=60) == 4
    assert "a worker process stopped" in proc.stderr.read().decode()
    assert list(tmp_path.iterdir()) == []


# --- info, train and evaluate on rejected files -----------------------------------------


def test_info_names_the_model_and_what_it_was_trained_on(capsys, tiny_model_dir, model_arg):
    assert cli.main(["info", *model_arg]) == 0
    out = capsys.readouterr().out
    assert f"model: {tiny_model_dir}" in out and "labels: supportive, promotional, tone-deaf, preventive" in out
    assert "thresholds: needs review below" in out and "scikit-learn" in out
    assert cli.main(["info", "--json", *model_arg]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["model"]["labels"] == ["supportive", "promotional", "tone-deaf", "preventive"]
    assert {"review_threshold", "scope_threshold", "versions"} <= set(info["model"]) and info["installed"]["spacy"]


@pytest.mark.slow
def test_info_of_the_shipped_model_says_what_it_was_trained_on():
    done = _tonecheck("info")
    assert done.returncode == 0, done.stderr
    assert "trained on: " in done.stdout.decode() and "data/authored.csv" in done.stdout.decode()


def _rejected_files(tmp_path):
    """Files `score` refuses or reads with row errors; training must refuse them cleanly."""
    files = {}
    files["extra-field"] = tmp_path / "extra.csv"
    files["extra-field"].write_text("text,label\nMerci,supportive,en trop\n", encoding="utf-8")
    files["open-quote"] = tmp_path / "quote.csv"
    files["open-quote"].write_text('text,label\n"Merci,supportive\n', encoding="utf-8")
    files["binary"] = tmp_path / "binary.csv"
    files["binary"].write_bytes(b"text,label\n\x81\x8d,none\n")
    files["empty"] = tmp_path / "empty.csv"
    files["empty"].write_text("", encoding="utf-8")
    files["big-int"] = tmp_path / "big.jsonl"
    files["big-int"].write_text('{"text": "a", "label": "none", "n": ' + "1" * 5000 + "}\n", encoding="utf-8")
    return files


@pytest.mark.parametrize("kind", ["extra-field", "open-quote", "binary", "empty", "big-int"])
def test_train_and_evaluate_refuse_what_score_rejects_without_a_traceback(tmp_path, capsys, model_arg, kind):
    path = _rejected_files(tmp_path)[kind]
    assert cli.main(["train", "--data", str(path), "--real-labels", "", "--output", str(tmp_path / "m")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("tonecheck: error: ") and "Traceback" not in err and str(path.name) in err
    assert cli.main(["evaluate", str(path), *model_arg]) == 2
    err = capsys.readouterr().err
    assert err.startswith("tonecheck: error: ") and "Traceback" not in err


def test_train_reads_semicolons_cp1252_and_column_names_in_any_case(tmp_path, tiny_posts, capsys):
    src = tmp_path / "excel.csv"
    with open(src, "w", encoding="cp1252", errors="replace", newline="") as f:
        w = csv.writer(f, delimiter=";")
        w.writerow(["Text", "Label"])
        w.writerows([[p.text, p.label] for p in tiny_posts])
    assert cli.main(["train", "--data", str(src), "--real-labels", "", "--output", str(tmp_path / "m"), "--folds", "0"]) == 0
    assert "model written to" in capsys.readouterr().out


# --- formulas: neutralised for Excel, left alone for programs ---------------------------

_FORMULA_POSTS = ['=HYPERLINK("http://x","Profitez") -30 % code CONFINEMENT', "-30 % sur tout ce week-end",
                  "+ de masques pour tous", "@mairie merci aux soignants", "Merci aux soignants ❤️"]


def test_score_neutralises_formulas_for_excel_only(tmp_path, model_arg):
    import openpyxl

    src = _write_csv(tmp_path / "in.csv", ["=id", "text"], [[f"={i}+1", t] for i, t in enumerate(_FORMULA_POSTS)])
    for name, extra in (("excel.csv", ["--excel"]), ("plain.csv", []), ("rows.jsonl", []), ("book.xlsx", [])):
        assert cli.main(["score", str(src), "-o", str(tmp_path / name), *extra, *model_arg]) == 0

    raw = (tmp_path / "excel.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf'=id;text;label;")
    with open(tmp_path / "excel.csv", encoding="utf-8-sig", newline="") as f:
        excel = list(csv.DictReader(f, delimiter=";"))
    assert [r["text"] for r in excel] == ["'" + t for t in _FORMULA_POSTS[:4]] + [_FORMULA_POSTS[4]]
    assert [r["'=id"] for r in excel] == [f"'={i}+1" for i in range(5)]
    assert all(float(r["score_tone_deaf"]) >= 0 and r["evidence"].startswith("[") for r in excel)

    plain = _read_csv(tmp_path / "plain.csv")  # for programs: the values as they are
    assert [r["text"] for r in plain] == _FORMULA_POSTS and plain[0]["=id"] == "=0+1"
    rows = [json.loads(line) for line in (tmp_path / "rows.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [r["text"] for r in rows] == _FORMULA_POSTS

    ws = openpyxl.load_workbook(tmp_path / "book.xlsx").active
    header = [c.value for c in ws[1]]
    text = [ws.cell(row=i + 2, column=header.index("text") + 1) for i in range(5)]
    assert [c.value for c in text] == _FORMULA_POSTS and all(c.data_type == "s" for c in text)
    assert [bool(c.quotePrefix) for c in text] == [True, True, True, True, False]
    assert ws["A1"].value == "=id" and ws["A1"].quotePrefix and ws["A2"].value == "=0+1" and ws["A2"].data_type == "s"


# --- train and evaluate read their files as score does: --encoding, --delimiter, --sheet --


# Commas outnumber semicolons in this header, so the delimiter detected is ',': only
# --delimiter ';' reads the file as the spreadsheet that wrote it meant.
_AMBIGUOUS_HEADER = ["text", "label", "lieu, date, heure, auteur"]


def _write_cp1252_semicolons(path, posts):
    with open(path, "w", encoding="cp1252", errors="replace", newline="") as f:
        w = csv.writer(f, delimiter=";")
        w.writerow(_AMBIGUOUS_HEADER)
        w.writerows([[p.text, p.label, "Brest"] for p in posts])
    return path


def _write_two_sheets(path, posts):
    import openpyxl

    book = openpyxl.Workbook()
    notes = book.active
    notes.title = "Notes"
    notes.append(["à lire", "avant tout"])
    notes.append(["export du 20 mars", ""])
    sheet = book.create_sheet("Posts")
    sheet.append(["text", "label"])
    for p in posts:
        sheet.append([p.text, p.label])
    book.save(path)
    return path


def test_train_and_evaluate_accept_encoding_and_delimiter(tmp_path, tiny_posts, capsys):
    from tonecheck import load_model
    from tonecheck.training.evaluation import text_key, trained_on

    src = _write_cp1252_semicolons(tmp_path / "export.csv", tiny_posts)
    train = ["train", "--data", str(src), "--real-labels", "", "--folds", "0"]
    assert cli.main([*train, "--output", str(tmp_path / "m0")]) == 2  # read with the ',' detected
    assert "export.csv:2: malformed CSV: expected 4 fields" in capsys.readouterr().err
    # Forcing UTF-8 is obeyed: the cp1252 bytes are refused, naming the line.
    assert cli.main([*train, "--output", str(tmp_path / "m0"), "--delimiter", ";", "--encoding", "utf-8"]) == 2
    assert "export.csv" in capsys.readouterr().err and not (tmp_path / "m0" / "tonecheck.json").exists()

    out = tmp_path / "m"
    assert cli.main([*train, "--output", str(out), "--delimiter", ";", "--encoding", "cp1252"]) == 0
    capsys.readouterr()
    written = {text_key(p.text.encode("cp1252", errors="replace").decode("cp1252")) for p in tiny_posts}
    assert trained_on(load_model(out).metadata) == written  # every accent read back as written

    assert cli.main(["evaluate", str(src), "--model", str(out), "--split", "all",
                     "--encoding", "cp1252", "--delimiter", ";"]) == 0
    report = capsys.readouterr().out
    n = len(tiny_posts)
    assert f"{n} of {n} evaluated texts were in the model's training data" in report  # same texts, same keys
    assert f"(n={sum(p.label != 'none' for p in tiny_posts)})" in report and "confusion matrix" in report
    assert cli.main(["evaluate", str(src), "--model", str(out), "--split", "all", "--delimiter", "tab"]) == 2
    assert "export.csv:" in capsys.readouterr().err  # read with tabs, as asked: the file is refused


def test_train_and_evaluate_read_the_sheet_they_are_given(tmp_path, tiny_posts, tiny_model_dir, capsys):
    from tonecheck import load_model

    book = _write_two_sheets(tmp_path / "export.xlsx", tiny_posts)
    train = ["train", "--data", str(book), "--real-labels", "", "--folds", "0"]
    assert cli.main([*train, "--output", str(tmp_path / "m0")]) == 2  # the first sheet holds notes
    assert "missing column(s)" in capsys.readouterr().err
    assert cli.main([*train, "--output", str(tmp_path / "m0"), "--sheet", "Archive"]) == 2
    assert "no sheet 'Archive'" in capsys.readouterr().err

    out = tmp_path / "m"
    assert cli.main([*train, "--output", str(out), "--sheet", "Posts"]) == 0
    assert f"training on {len(tiny_posts)} posts" in capsys.readouterr().out
    assert load_model(out).metadata["trained_on"]["posts"] == len(tiny_posts)

    assert cli.main(["evaluate", str(book), "--model", str(tiny_model_dir), "--sheet", "posts"]) == 0  # any case
    assert f"(n={sum(p.label != 'none' for p in tiny_posts)})" in capsys.readouterr().out
    assert cli.main(["evaluate", "--sheet", "Posts"]) == 2  # the full report reads no DATA
    assert "--sheet say how to read DATA" in capsys.readouterr().err


# --- a real terminal --------------------------------------------------------------------


@pytest.mark.slow
def test_score_table_and_progress_bar_on_a_pseudo_terminal(tmp_path, tiny_model_dir):
    """`make demo` on a terminal: progress bar on stderr, the table sized to the terminal."""
    import fcntl
    import pty
    import struct
    import termios

    from wcwidth import wcswidth

    src = _write_csv(tmp_path / "in.csv", ["text"], [
        ["Un immense merci à tous les soignants ❤️👩‍⚕️ #MerciAuxSoignants, vous êtes formidables"],
        ["Nouveau drop ce soir 20h 🔥 lien en bio"],
        ["\x1b]0;pwned\x07Lavez-vous les mains"],
    ])
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
    pid, fd = pty.fork()
    if pid == 0:  # the child: a terminal of 90 columns
        fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 90, 0, 0))
        os.execve(sys.executable, [sys.executable, "-m", "tonecheck", "score", str(src), "--table",
                                   "--model", str(tiny_model_dir)], env)
    chunks = []
    while True:
        try:
            data = os.read(fd, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    _, status = os.waitpid(pid, 0)
    os.close(fd)
    out = b"".join(chunks).decode("utf-8", errors="replace")
    assert os.waitstatus_to_exitcode(status) == 0, out
    assert " posts" in out and "\r" in out  # tqdm drew its bar
    assert "\x1b]0;pwned" not in out and "\\x1b]0;pwned\\x07" in out
    lines = [line.split("\r")[-1] for line in out.replace("\r\n", "\n").split("\n")]
    header = next(line for line in lines if line.startswith("draft"))
    assert wcswidth(header) <= 90
    label_at = wcswidth(header[: header.index("label")])
    assert label_at == 52  # 90 columns: the draft column is 50 wide
    table = [line for line in lines if any(lab in line for lab in ("supportive", "promotional", "tone-deaf", "preventive"))
             and not line.startswith("conf")]
    assert len(table) == 3
    for line in table:  # the label starts at the same display column on every row, emoji or not
        start = next((i for i in range(len(line)) if wcswidth(line[:i]) == label_at), None)
        assert start is not None and line[start:].split()[0] in ("supportive", "promotional", "tone-deaf", "preventive"), line
        assert wcswidth(line) <= 90


@pytest.mark.parametrize("damage", ["not json", '{"schema_version": 2, "labels": "tone-deaf"}'])
def test_a_damaged_model_is_a_one_line_usage_error_not_exit_1(tmp_path, capsys, tiny_model_dir, damage):
    """A model folder whose metadata is malformed ends with exit 2 and one line naming the file:
    never 1 (which says "finished, some rows in error"), never a traceback."""
    import shutil

    folder = tmp_path / "model"
    shutil.copytree(tiny_model_dir, folder)
    (folder / "tonecheck.json").write_text(damage, encoding="utf-8")
    drafts = _write_csv(tmp_path / "d.csv", ["text"], [["Merci aux soignants"]])
    code = cli.main(["score", str(drafts), "-o", str(tmp_path / "o.csv"), "--model", str(folder)])
    err = capsys.readouterr().err
    assert code == cli.EXIT_USAGE
    assert err.count("\n") == 1 and "tonecheck.json" in err and "Traceback" not in err
    assert not (tmp_path / "o.csv").exists()


def test_a_disk_that_fills_up_mid_job_ends_in_exit_3_and_leaves_no_file(tmp_path, capsys, monkeypatch, model_arg):
    """Disk full after some rows were written (simulated: the third row's write fails with
    ENOSPC, as a full file system does): one line naming the output, exit 3 (not 1), and no
    partial file left where the output should be."""
    import errno

    from tonecheck import table_output as tables

    real_write = tables._CsvWriter.write
    calls = {"n": 0}

    def write_until_full(self, row):
        calls["n"] += 1
        if calls["n"] == 3:
            with tables._OutputFailure(self.name):
                raise OSError(errno.ENOSPC, "No space left on device")
        real_write(self, row)

    monkeypatch.setattr(tables._CsvWriter, "write", write_until_full)
    drafts = _write_csv(tmp_path / "d.csv", ["text"], [[f"Merci aux soignants, jour {i}"] for i in range(6)])
    out = tmp_path / "o.csv"
    code = cli.main(["score", str(drafts), "-o", str(out), *model_arg])
    err = capsys.readouterr().err
    assert code == cli.EXIT_OUTPUT
    assert "No space left on device" in err and "o.csv" in err and "Traceback" not in err
    assert list(tmp_path.iterdir()) == [drafts]  # neither o.csv nor a temporary file


def test_review_options_change_the_flag_never_the_label(tmp_path, capsys, model_arg):
    """--min-margin 1 makes every row a close call (or unsure); --label-threshold sends a label's
    verdicts below it to a person; the labels and scores stay those of the default run."""
    drafts = _write_csv(tmp_path / "d.csv", ["text"], [["Merci aux soignants ❤️"], ["Restez chez vous, lavez-vous les mains"]])
    assert cli.main(["score", str(drafts), "-o", str(tmp_path / "plain.csv"), *model_arg]) == 0
    assert cli.main(["score", str(drafts), "-o", str(tmp_path / "strict.csv"), "--min-margin", "1",
                     "--label-threshold", "supportive=0.999", *model_arg]) == 0
    plain, strict = _read_csv(tmp_path / "plain.csv"), _read_csv(tmp_path / "strict.csv")
    for a, b in zip(plain, strict, strict=True):
        assert (a["label"], a["score_supportive"]) == (b["label"], b["score_supportive"])
        assert b["needs_review"] == "true"
        assert {"close-call", "unsure"} & set(json.loads(b["review_reasons"]))
    capsys.readouterr()
    assert cli.main(["assess", "Merci aux soignants", "--min-confidence", "1", *model_arg]) == 0
    assert "needs review: unsure" in capsys.readouterr().out


@pytest.mark.parametrize("options, message", [
    (["--label-threshold", "tone-deaf"], r"--label-threshold takes LABEL=P"),
    (["--label-threshold", "sarcastic=0.5"], r"unknown label 'sarcastic'"),
    (["--min-margin", "2"], r"min_margin must be a number from 0 to 1"),
])
def test_bad_review_options_are_usage_errors(tmp_path, capsys, model_arg, options, message):
    drafts = _write_csv(tmp_path / "d.csv", ["text"], [["Merci aux soignants"]])
    assert cli.main(["score", str(drafts), "-o", str(tmp_path / "o.csv"), *options, *model_arg]) == cli.EXIT_USAGE
    assert re.search(message, capsys.readouterr().err)
    assert not (tmp_path / "o.csv").exists()
