"""Speed benchmark (``python -m eval.bench``, what ``make bench`` runs). Not a test: nothing is asserted.

Loads the engine once and prints one table:

- index build: a full rebuild of the index into a temporary directory with the already loaded encoder
  (``reuse=False``: every chunk is encoded), so it measures encoding + FAISS + BM25 + writing;
- the searcher's pieces per query, timed separately on the dataset's questions one at a time:
  ``encoder.encode_queries`` on one query, ``index.search_dense``, ``index.search_bm25`` and
  ``rag.retrieval.fusion.rrf`` over the two candidate lists;
- ``engine.ask()`` per question, whole (retrieval, context, answer, citation guard);
- batch: the same questions through ``engine.ask_batch`` in batches of 16 (the ``ask --jsonl`` path),
  per question;
- ``uncac-qa ask --jsonl`` as a real process over those questions, end to end (start-up and model
  load included), total and per question;
- readers: ingest throughput of the PDF and Word readers on the generated test documents (reader +
  parser, pages/s and paragraphs/s; :func:`eval.bench_readers.bench_readers`);
- load: the scenarios of :mod:`eval.bench_load` against ``uncac-qa serve`` started as its own
  process (50 users back to back for 60 s, 100 for 30 s, 50 paced every 5 s for 60 s), printed beside
  the hardening issue's targets as PASS/MISS; like everything here they are not asserted (a shared CI
  machine is noisy).

Percentiles are nearest-rank (``eval.metrics.percentile``). Example::

    python -m eval.bench                   # everything (~6 min on 2 cores: the rebuild and the load)
    python -m eval.bench --skip-build -n 40
    python -m eval.bench --load-only --load-seconds 10          # a quick look at the load figures
    BENCH_LOAD_SECONDS=10 make bench
    python -m eval.bench --load-only --load-url http://127.0.0.1:7860   # an already running server
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from eval.bench_load import print_load
from eval.dataset import load_dataset
from eval.metrics import latency_summary
from eval.report.render import render_text
from rag.config import ROOT, Settings, load_settings, parse_override


def _timed(fn: Callable[[], Any]) -> tuple[Any, float]:
    t = time.perf_counter()
    out = fn()
    return out, (time.perf_counter() - t) * 1000


def bench_build(engine) -> dict[str, Any]:
    """Rebuild the index from scratch into a temp dir with the loaded encoder; BuildReport facts."""
    import torch

    from embeddings.encoders.sentence_transformer import set_threads
    from embeddings.store import build_index
    from rag.corpus.chunker import chunk_corpus

    s: Settings = engine.settings
    t0 = time.perf_counter()
    chunks = chunk_corpus(engine.corpus, s)
    chunk_s = time.perf_counter() - t0
    threads = torch.get_num_threads()
    set_threads(s.embeddings.index_threads)
    try:
        with tempfile.TemporaryDirectory(prefix="uncac-qa-bench-") as tmp:
            report = build_index(chunks, engine.encoder, s.index, s.embeddings, directory=Path(tmp) / "index",
                                 chunking=s.chunking.model_dump(mode="json"), reuse=False)
    finally:
        set_threads(s.embeddings.query_threads)
        torch.set_num_threads(threads)
    return {"chunks": report.chunks, "seconds": report.seconds + chunk_s, "encode_seconds": report.encode_seconds,
            "chunk_seconds": chunk_s, "kind": report.kind}


def bench_pieces(engine, questions: list[str]) -> dict[str, list[float]]:
    """Per-question milliseconds of each searcher piece and of the whole ``ask()``."""
    from rag.retrieval.fusion import rrf

    enc, index, rs = engine.encoder, engine.index, engine.settings.retrieval
    kc = rs.candidates
    times: dict[str, list[float]] = {"encode": [], "dense": [], "bm25": [], "fusion": [], "ask": [], "answer": []}
    engine.ask(questions[0])  # warm-up: jieba dictionary, first torch call
    for q in questions:
        qv, t = _timed(lambda: enc.encode_queries([q]))
        times["encode"].append(t)
        dense, t = _timed(lambda: index.search_dense(qv, kc))
        times["dense"].append(t)
        bm25, t = _timed(lambda: index.search_bm25([q], kc))
        times["bm25"].append(t)
        _, t = _timed(lambda: rrf([[r for r, _ in dense[0]], [r for r, _ in bm25[0]]], k=rs.rrf_k))
        times["fusion"].append(t)
        res, t = _timed(lambda: engine.ask(q))
        times["ask"].append(t)
        # the answer step after retrieval: promotion, refusal, question analysis, reader, guard, render
        times["answer"].append(res.timings_ms["answer"])
    return times


def bench_batch(engine, questions: list[str]) -> float:
    """Total milliseconds for ``questions`` through the ``ask --jsonl`` batch path."""
    from rag.engine import answer_in_batches

    reqs = [engine.request(q, id=str(i)) for i, q in enumerate(questions)]
    _, t = _timed(lambda: list(answer_in_batches(engine, reqs)))
    return t


def bench_cli(questions: list[str], cli_args: list[str]) -> tuple[float, int]:
    """Wall milliseconds of ``uncac-qa ask --jsonl`` as a fresh process, and the lines it answered."""
    payload = "".join(json.dumps({"id": f"q{i}", "question": q}, ensure_ascii=False) + "\n" for i, q in enumerate(questions))
    env = dict(os.environ, HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", TOKENIZERS_PARALLELISM="false")
    cmd = [sys.executable, "-m", "rag", *cli_args, "ask", "--jsonl"]
    t = time.perf_counter()
    r = subprocess.run(cmd, input=payload, capture_output=True, text=True, cwd=ROOT, env=env)
    wall = (time.perf_counter() - t) * 1000
    if r.returncode != 0:
        print(f"warning: `{' '.join(cmd[1:])}` exited {r.returncode}: {r.stderr.strip()[-500:]}", file=sys.stderr)
    answered = sum(1 for line in r.stdout.splitlines() if line.strip() and "error" not in json.loads(line))
    return wall, answered


def _row(name: str, xs: list[float], note: str = "") -> list[str]:
    s = latency_summary(xs)
    return [name, str(s["n"]), f"{s['p50']:.1f}", f"{s['p95']:.1f}", f"{s['mean']:.1f}", note]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m eval.bench", description=__doc__.splitlines()[0])
    p.add_argument("--config", default=None, help="config file (default: the project's config.yaml)")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="override a config field")
    p.add_argument("-n", "--questions", type=int, default=80, help="questions from the dataset (default 80)")
    p.add_argument("--skip-build", action="store_true", help="skip the index rebuild (the slowest part)")
    p.add_argument("--skip-cli", action="store_true", help="skip the `ask --jsonl` subprocess")
    p.add_argument("--skip-load", action="store_true", help="skip the load scenarios against `uncac-qa serve`")
    p.add_argument("--skip-readers", action="store_true", help="skip the PDF/Word reader throughput table")
    p.add_argument("--load-only", action="store_true", help="only the load scenarios (no engine in this process)")
    p.add_argument("--load-seconds", type=float, default=float(os.environ.get("BENCH_LOAD_SECONDS") or 0) or None,
                   help="duration of every load scenario (default: 60/30/60 s; env BENCH_LOAD_SECONDS)")
    p.add_argument("--load-url", default=None, help="load an already running server instead of starting one")
    p.add_argument("--load-json", metavar="PATH", help="also write the load reports as JSON here")
    args = p.parse_args(argv)
    cli_args = ([f"--config={args.config}"] if args.config else []) + [f"--set={x}" for x in args.set]
    if args.load_only:
        return print_load(cli_args, url=args.load_url, seconds=args.load_seconds, json_path=args.load_json)

    from rag.engine import Engine

    settings = load_settings(args.config, dict(parse_override(x) for x in args.set))
    items = load_dataset(settings.path(settings.eval.dataset))
    questions = [it.question for it in items][: max(1, args.questions)]
    print(f"loading the engine ({settings.embeddings.model}, index {settings.index.dir}) ...", file=sys.stderr)
    engine, load_ms = _timed(lambda: Engine(settings).load())

    rows = [["what", "n", "p50 ms", "p95 ms", "mean ms", "note"]]
    rows.append(["engine load", "1", f"{load_ms:.0f}", "–", "–", f"{load_ms / 1000:.1f} s: model + index + unit vectors"])
    if not args.skip_build:
        print("rebuilding the index into a temp dir (every chunk encoded) ...", file=sys.stderr)
        b = bench_build(engine)
        rows.append(["index build (full)", "1", f"{b['seconds'] * 1000:.0f}", "–", "–",
                     f"{b['seconds']:.1f} s: {b['chunks']} chunks, encoding {b['encode_seconds']:.1f} s, {b['kind']} index"])
    print(f"timing the searcher pieces and ask() on {len(questions)} questions ...", file=sys.stderr)
    t = bench_pieces(engine, questions)
    rows.append(_row("encode 1 query", t["encode"], "encoder.encode_queries([q])"))
    rows.append(_row("dense search", t["dense"], f"index.search_dense, {settings.retrieval.candidates} candidates"))
    rows.append(_row("BM25 search", t["bm25"], "index.search_bm25"))
    rows.append(_row("RRF fusion", t["fusion"], "rag.retrieval.fusion.rrf"))
    rows.append(_row("answer step", t["answer"], "after retrieval: refusal, question analysis, reader, guard (target <= 5 ms)"))
    rows.append(_row("ask() whole", t["ask"], "retrieve + context + answer + guard"))
    batch_ms = bench_batch(engine, questions)
    rows.append(["ask_batch per question", str(len(questions)), f"{batch_ms / len(questions):.1f}", "–", "–",
                 f"total {batch_ms / 1000:.1f} s, batches of 16"])
    if not args.skip_cli:
        print(f"running `uncac-qa ask --jsonl` on {len(questions)} questions in a fresh process ...", file=sys.stderr)
        wall, answered = bench_cli(questions, cli_args)
        rows.append(["ask --jsonl process", str(len(questions)), f"{wall / len(questions):.1f}", "–", "–",
                     f"end to end {wall / 1000:.1f} s incl. start-up + load; {answered} answered"])
    print(render_text(rows))
    if not args.skip_readers:
        from eval.bench_readers import bench_readers

        print()
        print(render_text(bench_readers(settings.corpus)))
    if not args.skip_load:
        print()
        return print_load(cli_args, url=args.load_url, seconds=args.load_seconds, json_path=args.load_json)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
