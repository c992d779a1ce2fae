"""``uncac-qa feedback export [--out FILE]``: the delegates' thumbs-up/down as evaluation-set JSONL.

See ``ui.feedback`` for the store and the exact mapping.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from rag.cli import command, json_line
from rag.config import Settings
from rag.errors import QueryError, UncacQAError

DESCRIPTION = """\
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


def _args(p: argparse.ArgumentParser) -> None:
    p.formatter_class = argparse.RawDescriptionHelpFormatter
    p.description = DESCRIPTION
    sub = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    e = sub.add_parser(
        "export", help="write the ratings as evaluation-set JSONL",
        description=DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    e.add_argument("--out", default=None, metavar="FILE", help="output file (default: standard output)")


def _check_out(out: Path) -> None:
    """QueryError before anything is read when ``--out`` cannot become a file."""
    if out.is_dir():
        raise QueryError(f"--out {str(out)!r} is a folder; give a file name, e.g. --out {str(out / 'feedback.jsonl')!r}",
                         key="bad_path")
    if not out.parent.is_dir():
        raise QueryError(f"--out {str(out)!r}: the folder {str(out.parent)!r} does not exist; create it first "
                         f"(mkdir -p) or choose another path", key="bad_path")


@command("feedback", "export delegates' thumbs-up/down ratings as evaluation-set JSONL")(_args)
def _feedback(args: argparse.Namespace, settings: Settings) -> int:
    import sqlite3

    from rag.fsutil import write_atomic
    from ui.feedback import FeedbackStore

    out = Path(args.out) if args.out else None
    if out is not None:
        _check_out(out)
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
