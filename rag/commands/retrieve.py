"""``uncac-qa retrieve "question" -k 10 [--json]``: the ranked chunks, with scores and citations.

What the answer chain sees before it answers: useful to see why an answer cites what it cites, and to
compare retrieval settings (``--set retrieval.route=dense``).
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import IO

from rag.cli import command
from rag.commands.ask import filters_of
from rag.engine import shared_engine
from rag.config import Settings
from rag.request import clean_question
from rag.retrieval.searcher import Hit
from rag.text import script_of


def hit_to_json(rank: int, h: Hit) -> dict:
    c = h.chunk
    return {
        "rank": rank, "doc_id": c.doc_id, "para": c.para, "part": c.part, "n_parts": c.n_parts,
        "label_en": c.label_en, "label_zh": c.label_zh, "score": round(h.score, 6), "dense": round(h.dense, 4),
        "sources": list(h.sources), "chunk_id": c.id, "text": c.text,
    }


def run_retrieve(engine, args: argparse.Namespace, out: IO[str]) -> int:
    q = clean_question(args.question, engine.settings.answer.max_question_chars)
    hits = engine.searcher.search([q], filters_of(args), args.k)[0]
    if args.json:
        out.write(json.dumps({"question": q, "hits": [hit_to_json(i + 1, h) for i, h in enumerate(hits)]}, ensure_ascii=False) + "\n")
        return 0
    for i, h in enumerate(hits, 1):
        label = h.chunk.label_zh if script_of(q) == "zh" else h.chunk.label_en
        out.write(f"{i:2d}. {h.dense:.3f} [{'+'.join(h.sources)}] {label}\n    {h.chunk.text[:120]}\n")
    return 0


def _args(p: argparse.ArgumentParser) -> None:
    p.add_argument("question", help="the question, in Chinese or English")
    p.add_argument("-k", "--k", type=int, default=10, metavar="N", help="chunks to return (default 10)")
    p.add_argument("--json", action="store_true", help="print one JSON object with the ranked hits")
    p.add_argument("--doc", action="append", default=[], metavar="DOC_ID", help="only this document (repeatable)")
    p.add_argument("--body", action="append", default=[], metavar="B", help="only this body: CoSP, WG.4 (repeatable)")
    p.add_argument("--year", action="append", default=[], type=int, metavar="Y", help="only this year (repeatable)")


@command("retrieve", "show the ranked chunks a question retrieves, with scores and citations")(_args)
def _retrieve(args: argparse.Namespace, settings: Settings) -> int:
    if not 1 <= args.k <= 200:
        from rag.errors import QueryError

        raise QueryError(f"-k {args.k} is out of range; allowed: 1 to 200")
    return run_retrieve(shared_engine(settings), args, sys.stdout)
