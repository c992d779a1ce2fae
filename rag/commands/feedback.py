"""``uncac-qa feedback export [--out FILE]``: the delegates' thumbs-up/down as evaluation-set JSONL.

See ``ui.feedback`` for the store and the exact mapping.
"""

from __future__ import annotations

import argparse
import sys

from rag.cli import command
from rag.config import Settings

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


@command("feedback", "export delegates' thumbs-up/down ratings as evaluation-set JSONL")(_args)
def _feedback(args: argparse.Namespace, settings: Settings) -> int:
    import json

    from ui.feedback import FeedbackStore

    store = FeedbackStore.for_settings(settings)
    if args.out:
        n = store.export_jsonl(args.out)
        print(f"uncac-qa: wrote {n} item(s) from {store.path} to {args.out}", file=sys.stderr)
    else:
        for item in store.export_items():
            sys.stdout.write(json.dumps(item, ensure_ascii=False) + "\n")
    return 0
