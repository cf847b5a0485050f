"""The command-line side of the pages: ``tonecheck report``, ``tonecheck serve`` and
``tonecheck score --html``. ``tonecheck.cli`` registers them with a few lines; everything
else lives here, so the two modules change independently.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

__all__ = ["add_commands", "add_score_options", "score_with_html", "cmd_report", "cmd_serve"]

EXIT_OK, EXIT_ROW_ERRORS, EXIT_USAGE = 0, 1, 2


def add_commands(sub: Any) -> None:
    """Add the ``report`` and ``serve`` subcommands to ``tonecheck``'s subparsers."""
    p = sub.add_parser("report", help="write the HTML review report of a file already scored")
    p.add_argument("input", help="a CSV or JSONL file written by `tonecheck score`")
    p.add_argument("-o", "--output", help="the HTML file to write (default: the input's name with .html)")
    p.add_argument("--text-column", default="text", help="column holding the post (default: text)")
    p.add_argument("--format", choices=["csv", "jsonl"], help="input format (default: by extension)")
    p.add_argument("--title", help="title of the report (default: from the file name)")
    p.add_argument("--model", help="the model that scored the file, for its review threshold (default: none drawn)")
    p.set_defaults(handler=cmd_report)

    p = sub.add_parser("serve", help="a local web page that assesses drafts as you type, and a JSON API")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1, this machine only)")
    p.add_argument("--port", type=int, default=0, help="port (default: 0, a free one; the URL is printed)")
    p.add_argument("--model", help="a model saved by `tonecheck train` (default: the shipped one)")
    p.set_defaults(handler=cmd_serve)


def add_score_options(p: argparse.ArgumentParser) -> None:
    """Add ``--html PATH`` to ``tonecheck score``."""
    p.add_argument("--html", metavar="PATH", help="also write the HTML review report of the scored rows to PATH")


def _error(message: str) -> int:
    print(f"tonecheck: error: {message}", file=sys.stderr)
    return EXIT_USAGE


def _size(n: int) -> str:
    return f"{n / 1e6:.1f} Mo" if n >= 100_000 else f"{n / 1e3:.0f} ko"


def _metadata(model_path: str | None) -> dict[str, Any] | None:
    from tonecheck import load_model

    return load_model(model_path).metadata


def cmd_report(args: argparse.Namespace) -> int:
    from tonecheck.pages.review import write_report_from_scored
    from tonecheck.pages.scored import ScoredFileError

    output = args.output or str(Path(args.input).with_suffix(".html"))
    if Path(output).resolve() == Path(args.input).resolve():
        return _error(f"the report would overwrite its input {args.input}; give another --output")
    metadata = _metadata(args.model) if args.model else None
    try:
        stats = write_report_from_scored(
            args.input, output, text_column=args.text_column, fmt=args.format, title=args.title, metadata=metadata
        )
    except ScoredFileError as e:
        return _error(str(e))
    except OSError as e:
        return _error(f"cannot write {output}: {e.strerror or e}")
    print(f"tonecheck: rapport de {stats.rows:,} brouillons écrit dans {stats.path} "
          f"({_size(stats.bytes)}, {stats.seconds:.1f} s)", file=sys.stderr)
    return EXIT_OK


def score_with_html(args: argparse.Namespace, score: Callable[[argparse.Namespace], int]) -> int:
    """Run ``tonecheck score`` (``score(args)``), then write the report of what it scored.

    The report is built from the scored file itself. Without ``-o`` (or with ``-o -``) the
    rows are scored into a temporary file: ``-o -`` still prints them, no ``-o`` prints
    nothing but what ``--table`` asks for.
    """
    from tonecheck.pages.review import write_report_from_scored
    from tonecheck.pages.scored import ScoredFileError, scored_format

    html_path = args.html
    fmt = scored_format(args.input, getattr(args, "format", None))
    output = getattr(args, "output", None)
    tmp_dir = None
    if not output or output == "-":
        tmp_dir = tempfile.mkdtemp(prefix="tonecheck-report-")
        args.output = os.path.join(tmp_dir, "scored." + fmt)
        args.requested_output = output  # what score says it wrote to: not the file deleted below
    try:
        code = score(args)
        if code not in (EXIT_OK, EXIT_ROW_ERRORS) or not Path(args.output).is_file():
            return code
        if output == "-":
            with open(args.output, encoding="utf-8", newline="") as f:
                shutil.copyfileobj(f, sys.stdout)
        model = getattr(args, "model", None)
        try:
            stats = write_report_from_scored(
                args.output, html_path, text_column=getattr(args, "text_column", "text"), fmt=fmt,
                source=str(args.input) if tmp_dir is not None else None, metadata=_metadata(model),
            )
        except ScoredFileError as e:
            return _error(str(e))
        except OSError as e:
            return _error(f"cannot write {html_path}: {e.strerror or e}")
        print(f"tonecheck: rapport de revue écrit dans {stats.path} ({stats.rows:,} brouillons)", file=sys.stderr)
        return code
    finally:
        args.output = output
        vars(args).pop("requested_output", None)
        if tmp_dir is not None:
            shutil.rmtree(tmp_dir, ignore_errors=True)


def cmd_serve(args: argparse.Namespace) -> int:
    try:
        import fastapi  # noqa: F401
        import uvicorn  # noqa: F401
    except ImportError as e:
        return _error(f"`tonecheck serve` needs the serve extra ({e.name} is missing): pip install 'tonecheck[serve]'")
    from tonecheck import load_model
    from tonecheck.pages.server import serve

    if not 0 <= args.port <= 65535:
        return _error(f"--port must be between 0 and 65535, not {args.port}")
    try:
        serve(args.host, args.port, model=load_model(args.model) if args.model else None)
    except OSError as e:
        return _error(f"cannot listen on {args.host}:{args.port}: {e.strerror or e}")
    except KeyboardInterrupt:
        pass
    return EXIT_OK
