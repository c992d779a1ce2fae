"""``uncac-qa ask``: answer one question, or a stream of questions (JSONL in, JSONL out).

Examples::

    uncac-qa ask "工作组关于资产申报提出了什么建议？"            # plain text, citations listed
    uncac-qa ask "Who chaired the 2020 meeting?" --json          # AnswerResult.to_json(), one object
    uncac-qa ask "资产申报" --doc wg4-report-2017 --k 5           # filters: --doc/--body/--year
    uncac-qa ask --jsonl < questions.jsonl > answers.jsonl

Batch mode reads one ``{"id": ..., "question": ...}`` object per line (optional ``"doc_ids"``: list of
document ids, ``"k"``: int) and writes one line per input line, in input order: the result's
``to_json()`` plus ``"id"``, or ``{"id": ..., "line": N, "error": "..."}`` for a line that cannot be
answered (not UTF-8, not JSON or nested past Python's recursion limit, an id that is not a string or
number, no question, unknown document...). A bad line never stops the run; the exit status is 1 when
any line failed, else 0. Output is UTF-8 JSON; a line whose id or error holds a lone surrogate (input
can carry ``"\\ud800"``) is written ASCII-escaped, so it reads back as the same string.

The model and the index load once per process (:func:`rag.engine.shared_engine`); questions go through
``Engine.ask_batch`` in batches of :data:`rag.engine.BATCH_SIZE` (:func:`rag.engine.answer_in_batches`), the very path the
evaluation runner uses, so measured quality is the quality this command serves.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Iterable, Iterator, Sequence
from typing import IO, Any

from rag.answer.render import format_text
from rag.cli import command, json_line
from rag.config import Settings
from rag.errors import IndexStateError, QueryError, UncacQAError
from rag.fsutil import decode_problem
from rag.engine import BATCH_SIZE, answer_in_batches, shared_engine
from rag.request import AskRequest, Filters

# --- batch mode -------------------------------------------------------------------------------------


def _valid_id(item_id: object) -> bool:
    """An id is echoed in the output: a string, a finite number or null, never a nested structure."""
    if item_id is None or isinstance(item_id, str):
        return True
    if isinstance(item_id, bool) or not isinstance(item_id, (int, float)):
        return False
    return math.isfinite(item_id)


def _parse_line(engine, line: str | bytes, lineno: int, defaults: Filters,
                default_k: int | None) -> tuple[Any, AskRequest | str]:
    """``(id, request)`` for a good line, ``(id, error message)`` for a bad one."""
    if isinstance(line, bytes):
        try:
            line = line.decode("utf-8-sig")  # -sig: a BOM at the start of the stream is no question
        except UnicodeDecodeError as e:
            return None, f"line {lineno} is not UTF-8 text ({decode_problem(e)})"
    try:
        obj = json.loads(line)
    except json.JSONDecodeError as e:
        return None, f"line {lineno} is not valid JSON ({e.msg} at column {e.colno})"
    except ValueError as e:  # e.g. an integer longer than Python converts (4300 digits)
        return None, f"line {lineno} is not valid JSON ({e})"
    except RecursionError:
        return None, f"line {lineno} is nested too deeply to be a question (JSON arrays/objects within each other)"
    if not isinstance(obj, dict):
        return None, f"line {lineno} must be a JSON object with a \"question\", got {type(obj).__name__}"
    item_id = obj.get("id")
    if not _valid_id(item_id):
        return None, f"line {lineno}: \"id\" must be a string or a number, got {type(item_id).__name__}"
    if "question" not in obj:
        return item_id, f"line {lineno} has no \"question\" field"
    doc_ids = obj.get("doc_ids") or list(defaults.doc_ids)
    if isinstance(doc_ids, str):
        doc_ids = [doc_ids]
    if not isinstance(doc_ids, list) or not all(isinstance(d, str) for d in doc_ids):
        return item_id, f"\"doc_ids\" must be a list of document ids, got {obj.get('doc_ids')!r}"
    k = obj.get("k", default_k)
    if k is not None and (isinstance(k, bool) or not isinstance(k, int)):
        return item_id, f"\"k\" must be an integer, got {k!r}"
    try:
        filters = Filters(doc_ids=tuple(doc_ids), bodies=defaults.bodies, years=defaults.years)
        req = engine.request(obj["question"], filters=filters, k=k,
                             id=None if item_id is None else str(item_id))
    except UncacQAError as e:
        return item_id, str(e)
    return item_id, req


def run_jsonl(engine, lines: Iterable[str | bytes], out: IO[str], batch_size: int = BATCH_SIZE,
              defaults: Filters = Filters(), default_k: int | None = None) -> tuple[int, int]:
    """Answer JSONL questions from ``lines`` and write one JSON line per non-blank input line to ``out``.

    ``lines`` may be bytes (stdin's buffer): each line is then decoded on its own, so a line that is
    not UTF-8 costs only its own answer.

    ``defaults`` and ``default_k`` (the command's ``--doc/--body/--year`` and ``--k``) apply to lines
    that give no ``doc_ids`` / ``k`` of their own. Returns ``(answered, failed)``. Output order is
    input order; each batch is flushed as soon as it is answered, so a long run can be followed with
    ``tail -f``.
    """
    answered = failed = 0
    pending: list[tuple[int, Any, AskRequest | str]] = []  # (line, id, request or error), in order

    def flush() -> None:
        nonlocal answered, failed
        reqs = [r for _, _, r in pending if isinstance(r, AskRequest)]
        results = iter(answer_in_batches(engine, reqs, batch_size))
        for lineno, item_id, r in pending:
            res = next(results) if isinstance(r, AskRequest) else r
            if isinstance(res, (str, UncacQAError)):
                obj = {"id": item_id, "line": lineno, "error": str(res)}
                failed += 1
            else:
                obj = res.to_json() | {"id": item_id}
                answered += 1
            out.write(json_line(obj))
        out.flush()
        pending.clear()

    n_reqs = 0
    for lineno, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        item_id, r = _parse_line(engine, line, lineno, defaults, default_k)
        pending.append((lineno, item_id, r))
        n_reqs += isinstance(r, AskRequest)
        if n_reqs >= batch_size:
            flush()
            n_reqs = 0
    if pending:
        flush()
    return answered, failed


# --- single question --------------------------------------------------------------------------------


def filters_of(args: argparse.Namespace) -> Filters:
    return Filters(doc_ids=tuple(getattr(args, "doc", ())), bodies=tuple(getattr(args, "body", ())),
                   years=tuple(getattr(args, "year", ())))


def run_ask(engine, args: argparse.Namespace, out: IO[str], err: IO[str] | None = None,
            stdin: IO[str] | None = None) -> int:
    """The command's work with an already loaded engine (tests call this with the session engine)."""
    err = err or sys.stderr
    if getattr(args, "jsonl", False):
        if getattr(args, "question", None) is not None:
            raise QueryError("--jsonl reads the questions from stdin; give no question argument with it")
        lines = stdin or getattr(sys.stdin, "buffer", sys.stdin)  # bytes: decoded line by line
        answered, failed = run_jsonl(engine, lines, out, getattr(args, "batch_size", BATCH_SIZE),
                                     filters_of(args), args.k)
        err.write(f"uncac-qa: {answered} answered, {failed} failed\n")
        return 1 if failed else 0
    req = engine.request(args.question, filters=filters_of(args), k=getattr(args, "k", None))
    result = engine.ask_batch([req])[0]
    if getattr(args, "json", False):
        out.write(json_line(result.to_json()))
    else:
        out.write(format_text(result) + "\n")
        if result.notice:
            err.write(f"note: {result.notice}\n")
    return 0


def _args(p: argparse.ArgumentParser) -> None:
    p.add_argument("question", nargs="?", help="the question, in Chinese or English (omit with --jsonl)")
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--json", action="store_true", help="print the result as one JSON object")
    mode.add_argument("--jsonl", action="store_true",
                      help='batch: read {"id", "question"[, "doc_ids", "k"]} lines from stdin, write one result per line')
    p.add_argument("--k", type=int, default=None, metavar="N", help="chunks to retrieve (default: retrieval.k)")
    p.add_argument("--doc", action="append", default=[], metavar="DOC_ID", help="only this document (repeatable)")
    p.add_argument("--body", action="append", default=[], metavar="B", help="only documents of this body: CoSP, WG.4 (repeatable)")
    p.add_argument("--year", action="append", default=[], type=int, metavar="Y", help="only documents of this year (repeatable)")
    p.add_argument("--batch-size", type=int, default=BATCH_SIZE, metavar="N", help=f"--jsonl questions per batch (default {BATCH_SIZE})")


@command("ask", "answer a question with UN-style citations (or a JSONL stream of questions)")(_args)
def _ask(args: argparse.Namespace, settings: Settings) -> int:
    if not args.jsonl and (args.question is None or not args.question.strip()):
        raise QueryError("give a question (uncac-qa ask \"…\"), or --jsonl to read questions from stdin")
    if args.batch_size < 1:
        raise QueryError(f"--batch-size must be at least 1, got {args.batch_size}")
    if args.doc:  # fail before the model loads (~10 s) when a document id is mistyped
        from rag.corpus.loader import load_corpus

        load_corpus(settings, extra=_indexed_additions(settings)).check_doc_ids(args.doc)
    return run_ask(shared_engine(settings), args, sys.stdout)


def _indexed_additions(settings: Settings) -> list[str]:
    """The files an earlier ``uncac-qa ingest --add`` put in the index (their documents are ``--doc``
    ids too); none when there is no readable index, which the engine then reports."""
    from rag.index_backend import read_manifest

    try:
        manifest = read_manifest(settings) or {}
    except IndexStateError:
        return []
    return list((manifest.get("meta") or {}).get("added_files") or [])
