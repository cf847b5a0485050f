"""The ``tonecheck`` command: its parser, ``main``, and how a command ends (exit codes, one-line
errors, signals). The commands themselves: ``score`` in :mod:`tonecheck.cli_score`; ``assess``,
``info``, ``train`` and ``evaluate`` in :mod:`tonecheck.cli_commands`; ``report`` and
``serve`` in :mod:`tonecheck.pages.commands`; the options they share in
:mod:`tonecheck.cli_options`.

Exit codes (``tonecheck --help`` and the README list them too):

====  ==================================================================================
0     success; for ``score``, every row scored
1     ``score`` finished, but some rows are in error (a summary is printed on standard error)
2     usage error or unreadable input (nothing is written)
3     the output cannot be written (a folder, no such folder, no permission, disk full)
4     internal error (a bug, or a worker process that died); ``--debug`` shows the traceback
128+n stopped by signal n: 130 SIGINT (Ctrl-C), 143 SIGTERM, 129 SIGHUP; 141 the reader of
      standard output went away (``| head``)
====  ==================================================================================
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
import traceback
from collections.abc import Callable, Sequence
from typing import Any

from tonecheck.cli_options import add_input_options, add_review_options

__all__ = ["main"]

EXIT_OK = 0
EXIT_ROW_ERRORS = 1
EXIT_USAGE = 2
EXIT_OUTPUT = 3
EXIT_INTERNAL = 4
EXIT_BROKEN_PIPE = 128 + 13

DEFAULT_AUTHORED = "data/authored.csv"
DEFAULT_REAL_LABELS = "data/real_labels.csv"
DEFAULT_REAL_TEXTS = "../shared/data/real"

EXIT_CODES_HELP = (
    "exit codes: 0 ok; 1 some rows of `score` in error; 2 usage or unreadable input; "
    "3 output not writable; 4 internal error; 128+n stopped by signal n (130 Ctrl-C, 143 SIGTERM)"
)


def _common() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    # SUPPRESS: given before or after the command, the option is not reset by the other parser.
    common.add_argument("-q", "--quiet", action="store_true", default=argparse.SUPPRESS,
                        help="print only errors (no progress bar, notes or row-error list)")
    common.add_argument("-v", "--verbose", action="store_true", default=argparse.SUPPRESS,
                        help="also say what was detected (format, encoding, delimiter, column) and how long it took")
    common.add_argument("--debug", action="store_true", default=argparse.SUPPRESS,
                        help="show the traceback of an error")
    return common


def _parser() -> argparse.ArgumentParser:
    from tonecheck import __version__

    common = _common()
    parser = argparse.ArgumentParser(
        prog="tonecheck",
        description="Is a French crisis-time post supportive, promotional, tone-deaf or preventive?",
        epilog=EXIT_CODES_HELP,
        parents=[common],
    )
    parser.add_argument("--version", action="version", version=f"tonecheck {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("assess", help="assess one post", parents=[common])
    p.add_argument("text", help="the post; '-' reads it from standard input")
    p.add_argument("--json", action="store_true", help="print the full result as JSON")
    p.add_argument("--model", help="a model saved by `tonecheck train` (default: the shipped one)")
    add_review_options(p)

    p = sub.add_parser("score", help="score a table of posts (CSV, JSON Lines, xlsx)", parents=[common],
                       epilog=EXIT_CODES_HELP)
    p.add_argument("input", help="CSV (with a header), JSON Lines or .xlsx file; '-' for standard input")
    p.add_argument("-o", "--output",
                   help="output file; its extension (.csv, .tsv, .jsonl, .xlsx) sets the format "
                        "(default: standard output)")
    p.add_argument("--text-column", default="text",
                   help="column holding the post (default: text; case does not matter)")
    add_input_options(p)
    p.add_argument("--output-format", choices=["csv", "jsonl", "xlsx"],
                   help="output format (default: from -o's extension, else the input's)")
    p.add_argument("--excel", action="store_true", help="write CSV for Excel: ';' between fields and a UTF-8 BOM")
    p.add_argument("--batch-size", type=int, default=512, help="posts scored at a time (default: 512)")
    p.add_argument("--jobs", type=int, default=1, help="processes scoring batches side by side (default: 1)")
    p.add_argument("--table", action="store_true", help="print a readable table of the results")
    p.add_argument("--model", help="a model saved by `tonecheck train`")
    p.add_argument("--no-progress", action="store_true", help="never show a progress bar")
    add_review_options(p)
    from tonecheck.pages.commands import (  # pages: report, serve, score --html
        add_commands,
        add_score_options,
    )

    add_score_options(p)

    p = sub.add_parser("info", help="the model: path, versions, labels, thresholds, training data", parents=[common])
    p.add_argument("--model", help="a model saved by `tonecheck train` (default: the shipped one)")
    p.add_argument("--json", action="store_true", help="print it as JSON")

    p = sub.add_parser("train", help="train a model on labelled posts", parents=[common])
    p.add_argument("--data", action="append",
                   help=f"CSV/JSONL/xlsx with text,label[,split] (repeatable; default: {DEFAULT_AUTHORED})")
    p.add_argument("--with-bundled", action="store_true",
                   help="train on the corpus shipped with tonecheck (authored posts, and the real posts' labels "
                        "joined with their texts from --real-texts), plus the --data files if given")
    p.add_argument("--real-labels", default=DEFAULT_REAL_LABELS,
                   help="id,label[,split] file of real posts ('' to skip)")
    p.add_argument("--real-texts", default=DEFAULT_REAL_TEXTS,
                   help="folder of id,text files (or one file) the real labels are joined with")
    p.add_argument("--output", default="tonecheck-model",
                   help="folder to write the model into (tonecheck.json and the two data files it names)")
    p.add_argument("--force", action="store_true", help="overwrite an existing model there")
    p.add_argument("--all-splits", action="store_true", help="train on train and test splits (default: train only)")
    p.add_argument("--allow-less-data", action="store_true",
                   help="replace the shipped model even when this run has fewer posts than it was trained on")
    p.add_argument("--folds", type=int, default=5, help="cross-validation folds for the report (0: skip)")
    add_input_options(p, what="the --data files")

    p = sub.add_parser("evaluate", help="evaluate a model on labelled data, or write the full report", parents=[common])
    p.add_argument("data", nargs="?", help="CSV/JSONL/xlsx with text,label columns; without it, the full report")
    p.add_argument("--model", help="a model saved by `tonecheck train`")
    p.add_argument("--text-column", default="text")
    p.add_argument("--label-column", default="label")
    p.add_argument("--report", default="reports", help="folder of the full report (default: reports)")
    p.add_argument("--real-texts", default=DEFAULT_REAL_TEXTS)
    p.add_argument("--split", default="test",
                   help="with DATA: the rows of this split value only (default: test; 'all': every row)")
    p.add_argument("--quick", action="store_true", help="full report with fewer model candidates")
    add_input_options(p, what="DATA")
    add_commands(sub)
    return parser


class _Stopped(KeyboardInterrupt):
    """SIGTERM or SIGHUP, handled as Ctrl-C is (a KeyboardInterrupt stops the same way)."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


def _on_signal(signum: int, frame: Any) -> None:
    # Once: a second signal while the first one's cleanup runs (removing the partial file,
    # stopping the workers) must not cut that cleanup short.
    for s in _STOP_SIGNALS:
        signal.signal(s, signal.SIG_IGN)
    raise _Stopped(signum)


_STOP_SIGNALS = tuple(s for s in (getattr(signal, "SIGTERM", None), getattr(signal, "SIGHUP", None)) if s is not None)


def _install_signal_handlers() -> dict[int, Any] | None:
    if threading.current_thread() is not threading.main_thread():
        return None
    return {s: signal.signal(s, _on_signal) for s in _STOP_SIGNALS}


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    parser = _parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as e:  # argparse exits 2 on usage errors, 0 on --help/--version
        return int(e.code or 0)
    for flag in ("quiet", "verbose", "debug"):
        setattr(args, flag, getattr(args, flag, False))
    from tonecheck.cli_commands import cmd_assess, cmd_evaluate, cmd_info, cmd_train
    from tonecheck.cli_score import cmd_score

    handler = getattr(args, "handler", None) or {"assess": cmd_assess, "score": cmd_score, "info": cmd_info,
                                                 "train": cmd_train, "evaluate": cmd_evaluate}[args.command]
    if args.command == "score" and getattr(args, "html", None):
        from functools import partial

        from tonecheck.pages.commands import score_with_html

        handler = partial(score_with_html, score=cmd_score)
    previous = _install_signal_handlers()
    try:
        return _run(handler, args)
    finally:
        if previous is not None:
            for s, h in previous.items():
                signal.signal(s, h)


def _run(handler: Callable[[argparse.Namespace], int], args: argparse.Namespace) -> int:
    from tonecheck.errors import ToneCheckError
    from tonecheck.tables import OutputError

    def fail(message: str, code: int) -> int:
        if args.debug:
            traceback.print_exc()
        print(f"tonecheck: {message}", file=sys.stderr)
        return code

    try:
        return handler(args)
    except BrokenPipeError:
        _silence_stdout()
        return EXIT_BROKEN_PIPE
    except OutputError as e:
        return fail(f"error: {e}", EXIT_OUTPUT)
    except ToneCheckError as e:
        return fail(f"error: {e}", EXIT_USAGE)
    except KeyboardInterrupt as e:
        signum = getattr(e, "signum", signal.SIGINT)
        return fail(f"stopped by {signal.Signals(signum).name}; {_unfinished(args)}", 128 + signum)
    except Exception as e:  # noqa: BLE001 - the last resort: one line, not a traceback
        from tonecheck.batch import WorkerError

        if isinstance(e, WorkerError):
            return fail(f"error: {e}; {_unfinished(args)}", EXIT_INTERNAL)
        hint = "" if args.debug else " (run again with --debug for the traceback)"
        return fail(f"internal error: {type(e).__name__}: {e}{hint}", EXIT_INTERNAL)


def _unfinished(args: argparse.Namespace) -> str:
    output = getattr(args, "output", None)
    if args.command != "score":
        return "nothing was saved"
    if output is None and getattr(args, "html", None):
        return f"the report {args.html} was not written"
    if output in (None, "-"):
        return "the output on standard output is incomplete"
    return f"{output} was not written (an existing file is left as it was)"


def _silence_stdout() -> None:
    """The reader of standard output has gone: point it at /dev/null, so that the flush at
    exit does not fail again with a traceback."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):  # no real file descriptor (tests, notebooks)
        pass


def note(args: argparse.Namespace) -> Callable[[str], None]:
    """What a command calls to say a note on standard error (nothing with ``--quiet``)."""

    def say(message: str) -> None:
        if not args.quiet:
            print(f"tonecheck: note: {message}", file=sys.stderr)

    return say


def usage(message: str) -> int:
    """Say a usage error on standard error; returns its exit code."""
    print(f"tonecheck: error: {message}", file=sys.stderr)
    return EXIT_USAGE


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
