"""The ``uncac-qa`` command line. Every subcommand loads the typed config once; ``--config`` picks
another file and ``--set section.key=value`` overrides single fields.

Errors the user can fix (bad config, unknown document, missing index...) print one clear line and exit
with status 2, never a traceback.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable

from rag.config import Settings, load_settings, parse_override
from rag.errors import UncacQAError

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


def _out(obj: object) -> None:
    sys.stdout.write(json.dumps(obj, ensure_ascii=False) + "\n")


# --- paragraphs -------------------------------------------------------------------------------------

def _paragraphs_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--doc", action="append", default=[], metavar="DOC_ID", help="only this document (repeatable)")
    p.add_argument("--jsonl", action="store_true", help="one JSON object per paragraph (default: readable text)")
    p.add_argument("--add", action="append", default=[], metavar="FILE", help="also parse this user .txt/.md document")


@command("paragraphs", "print the parsed paragraphs with their citations")(_paragraphs_args)
def _paragraphs(args: argparse.Namespace, settings: Settings) -> int:
    from rag.corpus.loader import load_corpus

    corpus = load_corpus(settings, extra=args.add)
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

def _load_commands() -> None:
    """Import the modules that register the other subcommands (kept out of start-up until needed)."""
    import importlib

    for mod in ("rag.commands",):
        try:
            importlib.import_module(mod)
        except ModuleNotFoundError as e:
            if e.name != mod:
                raise


def build_parser() -> argparse.ArgumentParser:
    _load_commands()
    parser = argparse.ArgumentParser(prog="uncac-qa", description=__doc__.splitlines()[0])
    parser.add_argument("--config", default=None, help="config file (default: the project's config.yaml)")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="override a config field, e.g. retrieval.k=20")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, (_h, add_args, help) in _COMMANDS.items():
        add_args(sub.add_parser(name, help=help, description=help))
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        settings = load_settings(args.config, dict(parse_override(s) for s in args.set))
        return _COMMANDS[args.command][0](args, settings)
    except UncacQAError as e:
        print(f"uncac-qa: error: {e}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # `uncac-qa paragraphs | head`
        return 0
    except KeyboardInterrupt:
        return 130
