"""tonecheck.cli: `score`'s option checks, its verbose summary and how failures inside a command end."""

from __future__ import annotations

import pytest

from tonecheck import cli


@pytest.fixture
def drafts(tmp_path):
    path = tmp_path / "in.csv"
    path.write_text("text\nMerci aux soignants\nNouveau drop ce soir 🔥\n", encoding="utf-8")
    return path


@pytest.mark.parametrize("extra, message", [
    (["--batch-size", "0"], "--batch-size must be at least 1, not 0"),
    (["--jobs", "0"], "--jobs must be at least 1, not 0"),
    (["--table", "-o", "-"], "--table prints on standard output; give -o FILE to also write the scored rows"),
    (["-o", "out.XLS"], "out.XLS: old Excel .xls workbooks are not written; give -o NAME.xlsx"),
    (["--excel", "-o", "out.jsonl"], "--excel writes CSV for Excel; drop it to write another format"),
    (["--excel", "--output-format", "xlsx"], "--excel writes CSV for Excel; drop it to write another format"),
])
def test_score_refuses_options_that_do_not_go_together(drafts, capsys, extra, message):
    assert cli.main(["score", str(drafts), *extra]) == cli.EXIT_USAGE
    err = capsys.readouterr().err
    assert err.startswith("tonecheck: error: ") and message in err


def test_score_does_not_write_a_workbook_to_a_terminal(drafts, capsys, monkeypatch):
    monkeypatch.setattr("sys.stdout.isatty", lambda: True)
    assert cli.main(["score", str(drafts), "--output-format", "xlsx"]) == cli.EXIT_USAGE
    assert "an .xlsx workbook is not for a terminal" in capsys.readouterr().err


def test_score_verbose_says_what_was_read_and_written(drafts, tmp_path, capsys, tiny_model_dir):
    out = tmp_path / "out.tsv"
    assert cli.main(["score", str(drafts), "-o", str(out), "--model", str(tiny_model_dir), "--verbose"]) == cli.EXIT_OK
    err = capsys.readouterr().err
    assert f"tonecheck: read {drafts} (csv, utf-8, delimiter ','), texts from column 'text'; wrote csv to {out}" in err
    assert "tonecheck: 2 rows in " in err and " rows/s)" in err
    assert out.read_text(encoding="utf-8").splitlines()[0].split("\t")[0] == "text"


def _failing_score_file(error: BaseException):
    def score_file(*args, **kwargs):
        raise error

    return score_file


@pytest.mark.parametrize("error, code, message", [
    (RuntimeError("boom"), cli.EXIT_INTERNAL,
     "tonecheck: internal error: RuntimeError: boom (run again with --debug for the traceback)"),
    (KeyboardInterrupt(), 128 + 2, "tonecheck: stopped by SIGINT; {out} was not written (an existing file is left"),
])
def test_a_failure_inside_score_ends_in_one_line(drafts, tmp_path, capsys, monkeypatch, error, code, message):
    monkeypatch.setattr("tonecheck.batch.score_file", _failing_score_file(error))
    out = tmp_path / "out.csv"
    assert cli.main(["score", str(drafts), "-o", str(out)]) == code
    err = capsys.readouterr().err
    assert message.format(out=out) in err and "Traceback" not in err


def test_a_dead_worker_is_an_internal_error_and_debug_shows_the_traceback(drafts, capsys, monkeypatch):
    from tonecheck.batch import WorkerError

    monkeypatch.setattr("tonecheck.batch.score_file", _failing_score_file(WorkerError("a worker process died")))
    assert cli.main(["score", str(drafts), "--debug"]) == cli.EXIT_INTERNAL
    err = capsys.readouterr().err
    assert "Traceback" in err
    assert "tonecheck: error: a worker process died; the output on standard output is incomplete" in err
