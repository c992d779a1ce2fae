"""The web app's subcommands, ``uncac-qa serve`` and ``uncac-qa feedback export``.

Registered with :func:`rag.cli.command` when this module is imported, which the shell does through the
entry-point group ``uncac_qa.commands`` (pyproject.toml: ``ui = "ui.commands"``): the shell in ``rag``
knows no front end, so ``rag`` never imports ``ui``.

Examples::

    uncac-qa serve                          # 127.0.0.1:7860 (ui.host / ui.port in config.yaml)
    uncac-qa serve --host 0.0.0.0 --port 8000
    uncac-qa feedback export --out feedback.jsonl

A missing or stale index is reported as one line naming ``uncac-qa ingest`` (exit status 2), and so is
``ui.upload`` on an address other than 127.0.0.1/localhost with no upload token in the environment
variable ``ui.upload_token_env``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from rag.cli import command, json_line
from rag.config import Settings
from rag.errors import ConfigError, QueryError, UncacQAError

# --- serve ------------------------------------------------------------------------------------------


def _serve_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--host", default=None, help="address to bind (default: ui.host, 127.0.0.1)")
    p.add_argument("--port", type=int, default=None, help="port to listen on (default: ui.port, 7860)")


@command("serve", "serve the chat, the widget, the source viewer and the HTTP API")(_serve_args)
def _serve(args: argparse.Namespace, settings: Settings) -> int:
    # Heavy imports (uvicorn, gradio, the engine) wait until the command runs: `--help` stays fast.
    import uvicorn

    from rag.engine import Engine
    from ui.app import create_app
    from ui.server import check_bindable, server_config
    from ui.upload import upload_token

    host = args.host or settings.ui.host
    port = args.port if args.port is not None else settings.ui.port
    # The app reads the address it is served on from the settings (the upload token depends on it).
    settings = settings.model_copy(update={"ui": settings.ui.model_copy(update={"host": host, "port": port})})
    upload_token(settings)  # ui.upload on a non-local address needs its token: one line, before anything loads
    check_bindable(host, port)  # a bad or busy port is one line, before the model loads
    print("uncac-qa: loading the model and the index…", file=sys.stderr)
    engine = Engine(settings).load()  # raises IndexStateError ("… uncac-qa ingest") before serving anything
    app = create_app(engine)
    server = uvicorn.Server(server_config(app, settings, host, port))
    check_bindable(host, port)  # taken while the model loaded?
    print(f"uncac-qa: serving on http://{host}:{port}/  (widget: /widget, API: POST /api/ask)", file=sys.stderr)
    server.run()
    if not server.started:  # uvicorn logs the bind error itself and returns
        raise ConfigError(f"could not listen on {host}:{port}; see the message above")
    return 0


# --- feedback export --------------------------------------------------------------------------------

FEEDBACK_DESCRIPTION = """\
Export the ratings stored by the web app (<ui.data_dir>/feedback.sqlite3) as JSON Lines in the
evaluation-set format of eval/data/qa.jsonl, one item per rating, oldest first:

  {"id": "feedback-000001", "lang": "zh"|"en", "type": "fact"|"unanswerable", "question": "...",
   "gold": [{"doc_id": "...", "para": N}, ...], "answer": "...", "key_facts": []}

  - thumbs up on an answer:  type "fact", gold = the paragraphs it cited (in citation order)
  - thumbs up on a refusal:  type "unanswerable", gold = [] (the refusal was right)
  - thumbs down:             gold = [] and an extra field for the reviewer, who writes the right
                             gold (and key_facts), then deletes the field:
                             "feedback": {"rating": -1, "comment": "...", "cited": [{"doc_id", "para"}]}
  - type is "unanswerable" when the app refused, else "fact"; a thumbs up on an answer with no
    citation also gets the "feedback" field, as it cannot be a gold item as it stands.

Items carrying "feedback" are rejected by the dataset loader until reviewed, on purpose.
"""


def _feedback_args(p: argparse.ArgumentParser) -> None:
    p.formatter_class = argparse.RawDescriptionHelpFormatter
    p.description = FEEDBACK_DESCRIPTION
    sub = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    e = sub.add_parser(
        "export", help="write the ratings as evaluation-set JSONL",
        description=FEEDBACK_DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    e.add_argument("--out", default=None, metavar="FILE", help="output file (default: standard output)")


def check_out(out: Path) -> None:
    """QueryError before anything is read when ``--out`` cannot become a file.

    >>> check_out(Path("/"))
    Traceback (most recent call last):
    ...
    rag.errors.QueryError: --out '/' is a folder; give a file name, e.g. --out '/feedback.jsonl'
    """
    if out.is_dir():
        raise QueryError(f"--out {str(out)!r} is a folder; give a file name, e.g. --out {str(out / 'feedback.jsonl')!r}",
                         key="bad_path")
    if not out.parent.is_dir():
        raise QueryError(f"--out {str(out)!r}: the folder {str(out.parent)!r} does not exist; create it first "
                         f"(mkdir -p) or choose another path", key="bad_path")


@command("feedback", "export delegates' thumbs-up/down ratings as evaluation-set JSONL")(_feedback_args)
def _feedback(args: argparse.Namespace, settings: Settings) -> int:
    import sqlite3

    from rag.fsutil import write_atomic
    from ui.feedback import FeedbackStore

    out = Path(args.out) if args.out else None
    if out is not None:
        check_out(out)
    store = FeedbackStore.for_settings(settings)
    try:
        items = store.export_items()
    except sqlite3.Error as e:
        raise UncacQAError(f"the feedback store {str(store.path)!r} cannot be read ({e}); "
                           f"is it a feedback.sqlite3 written by `uncac-qa serve`?") from None
    text = "".join(json_line(item) for item in items)
    if out is None:
        sys.stdout.write(text)
        return 0
    try:  # through a temporary file: a failed export leaves an existing --out file as it was
        write_atomic(out, lambda f: f.write(text.encode("utf-8")))
    except OSError as e:
        raise QueryError(f"cannot write --out {str(out)!r} ({e.strerror or e}); choose another path",
                         key="bad_path") from None
    print(f"uncac-qa: wrote {len(items)} item(s) from {store.path} to {out}", file=sys.stderr)
    return 0
