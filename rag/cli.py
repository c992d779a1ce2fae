"""The ``uncac-qa`` command line. Every subcommand loads the typed config once; ``--config`` picks
another file and ``--set section.key=value`` overrides single fields.

Errors the user can fix (bad config, unknown document, missing index...) print one clear line and exit
with status 2, never a traceback; so does an operating-system error nothing more specific caught (a
path that cannot be read or written), naming the path. Warnings of the project's modules (a skipped
file, a repaired cache) print one ``uncac-qa: warning: ...`` line each on stderr.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from collections.abc import Callable

from rag.config import Settings, load_settings, parse_override
from rag.errors import QueryError, UncacQAError
from rag.request import SURROGATE

Handler = Callable[[argparse.Namespace, Settings], int]
_COMMANDS: dict[str, tuple[Handler, Callable[[argparse.ArgumentParser], None], str]] = {}


def command(name: str, help: str):
    """Register a subcommand: decorate ``handler(args, settings) -> exit code`` and give it ``add_args``."""

    def deco(add_args: Callable[[argparse.ArgumentParser], None]):
        def wrap(handler: Handler) -> Handler:
            _COMMANDS[name] = (handler, add_args, help)
            return handler

        return wrap

    return deco


def json_line(obj: object) -> str:
    """``obj`` as one line of JSON, newline included, that a UTF-8 writer always accepts: Chinese stays
    readable, but a line holding a lone surrogate (JSON input can carry ``"\\ud800"``) is written
    ASCII-escaped, so a JSON reader gets the very same string back."""
    text = json.dumps(obj, ensure_ascii=False)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        text = json.dumps(obj, ensure_ascii=True)
    return text + "\n"


def printable(text: str) -> str:
    """``text`` with any lone surrogate written as its escape (``\\udced``), safe for every writer."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def _out(obj: object) -> None:
    sys.stdout.write(json_line(obj))


# --- paragraphs -------------------------------------------------------------------------------------

def _paragraphs_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--doc", action="append", default=[], metavar="DOC_ID", help="only this document (repeatable)")
    p.add_argument("--jsonl", action="store_true", help="one JSON object per paragraph (default: readable text)")
    p.add_argument("--add", action="append", default=[], metavar="FILE_OR_DIR",
                   help="also parse this user .txt/.md/.pdf/.docx document, or folder of them (repeatable)")


@command("paragraphs", "print the parsed paragraphs with their citations (indexed added documents included)")(_paragraphs_args)
def _paragraphs(args: argparse.Namespace, settings: Settings) -> int:
    from rag.commands.ingest import indexed_additions
    from rag.corpus.loader import check_added, load_corpus

    # What the index holds (the documents `ingest --add` added, as `ask --doc` sees them), then --add.
    added = indexed_additions(settings) + check_added(args.add)
    corpus = load_corpus(settings, extra=list(dict.fromkeys(added)))
    corpus.check_doc_ids(args.doc)
    for p in corpus.paragraphs:
        if args.doc and p.doc_id not in args.doc:
            continue
        if args.jsonl:
            _out(p.to_json())
        else:
            sys.stdout.write(f"[{p.label_en}] {p.section_path}\n{p.text}\n\n")
    return 0


# --- entry point ------------------------------------------------------------------------------------

#: Entry-point group of subcommand modules (pyproject.toml ``[project.entry-points."uncac_qa.commands"]``):
#: each module registers its subcommands with :func:`command` when imported, so this shell knows no
#: front end (``serve`` lives in ``ui``, ``eval`` in ``eval``), as Flask and pytest plugins do.
COMMAND_GROUP = "uncac_qa.commands"


def _load_commands() -> None:
    """Import every module of the entry-point group (kept out of start-up until a parser is built)."""
    from importlib.metadata import entry_points

    for ep in entry_points(group=COMMAND_GROUP):
        ep.load()


def build_parser() -> argparse.ArgumentParser:
    _load_commands()
    parser = argparse.ArgumentParser(prog="uncac-qa", description=__doc__.splitlines()[0])
    parser.add_argument("--config", default=None, help="config file (default: the project's config.yaml)")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="override a config field, e.g. retrieval.k=20")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, (_h, add_args, help) in _COMMANDS.items():
        add_args(sub.add_parser(name, help=help, description=help))
    return parser


# A lone surrogate (rag.request.SURROGATE) is what Python makes of argv bytes that are not UTF-8
# (surrogateescape), or a caller's "\ud800". No file, question or setting of this project is such a
# string, and every UTF-8 writer (the tokenizer, JSON files, the index manifest) refuses it, so it is
# refused at the door.


def _check_argv(argv: list[str]) -> None:
    """QueryError naming the first argument that is not text."""
    for arg in argv:
        if m := SURROGATE.search(arg):
            code = ord(m.group())
            what = (f"undecodable byte 0x{code - 0xDC00:02x}" if 0xDC80 <= code <= 0xDCFF
                    else f"lone surrogate U+{code:04X}")
            shown = printable(arg if len(arg) <= 60 else arg[:57] + "...")
            raise QueryError(f"argument '{shown}' is not UTF-8 text ({what}); retype it, or run in a UTF-8 "
                             f"locale (e.g. LANG=C.UTF-8)", key="control_char", code=f"U+{code:04X}")


class _WarningLines(logging.Handler):
    """Each warning of the project's loggers as one ``uncac-qa: warning: ...`` line on the current
    ``sys.stderr`` (looked up when written, so redirection and test capture see it)."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)

    def emit(self, record: logging.LogRecord) -> None:
        try:
            sys.stderr.write(f"uncac-qa: warning: {printable(' '.join(record.getMessage().split()))}\n")
        except Exception:  # noqa: BLE001 - logging must never take the command down
            self.handleError(record)


_LOGGERS = ("rag", "embeddings")


def _os_error(e: OSError) -> str:
    """One line for an OSError no command caught: the path(s) and the system's reason."""
    paths = [os.fsdecode(p) for p in (e.filename, e.filename2) if p is not None]
    where = " -> ".join(repr(printable(p)) for p in paths)
    reason = e.strerror or str(e)
    return f"{where}: {reason}" if where else reason


def main(argv: list[str] | None = None) -> int:
    handler = _WarningLines()
    loggers = [logging.getLogger(name) for name in _LOGGERS]
    for lg in loggers:
        lg.addHandler(handler)
    try:
        return _main(sys.argv[1:] if argv is None else list(argv))
    finally:
        for lg in loggers:
            lg.removeHandler(handler)


def _main(argv: list[str]) -> int:
    try:
        _check_argv(argv)  # before argparse, whose own messages would echo the argument
    except UncacQAError as e:
        print(f"uncac-qa: error: {e}", file=sys.stderr)
        return 2
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        settings = load_settings(args.config, dict(parse_override(s) for s in args.set))
        return _COMMANDS[args.command][0](args, settings)
    except UncacQAError as e:
        print(f"uncac-qa: error: {printable(str(e))}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # `uncac-qa paragraphs | head`
        return 0
    except KeyboardInterrupt:
        return 130
    except OSError as e:  # last resort: the specific cases raise UncacQAError saying what to do
        print(f"uncac-qa: error: {_os_error(e)}", file=sys.stderr)
        return 2
