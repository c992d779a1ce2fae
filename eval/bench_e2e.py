"""End-to-end scale benchmark (issue 13): the product on ~50,000 generated paragraphs, per index backend.

Two steps, because encoding is what takes the time (~100,000 texts at ~11/s is hours on 2 cores):

``encode`` (run first, in the background) fills the passage-vector cache
(:class:`embeddings.store.vector_cache.VectorCache` at ``<index dir>.vectors``) with every text the
product will encode for the corpus of ``--config``, document batch by document batch in corpus order:
each chunk's ``embed_text``, each paragraph's own text and its answer units' texts. Shards are written
per 1,024 texts, so a killed run loses at most one shard, and re-running the same command resumes
(cached texts are skipped). Because the generated corpus is prefix-stable (:mod:`eval.synth_corpus`),
every finished document prefix is a benchmark size. Each batch appends one line (texts, encoded,
seconds) to ``<index dir>.vectors.progress.jsonl``: the measured encoding throughput.

``run`` then, for each backend and each size (paragraphs; ``max`` is the largest document prefix whose
texts are all cached), in this order:

- builds the index of that prefix with the product's own ingest functions
  (:func:`rag.commands.ingest.write_index`, :func:`rag.commands.ingest.answer_units`) and an encoder
  whose passage vectors come from the cache (:class:`CachedPassages`), timed: the build cost beside
  the encoding cost measured by ``encode``;
- in a fresh process (``measure``): cold start (``Engine(settings).load()``), resident memory
  (``VmRSS`` after the load and after the questions, ``VmHWM``), ``ask`` p50/p95 over the dev
  questions one at a time, BM25 p50 (``index.search_bm25``, one question, k = ``retrieval.candidates``);
- ``uncac-qa ingest --add`` of one new generated document, wall time of the whole command (the
  incremental path a user runs; its new texts are encoded by the real model), target <= 10 s.

A backend the settings do not know (``index.backend``), or that the engine does not serve yet, is
reported as skipped with the reason. Writes ``e2e.json`` (every measurement) and ``e2e.md`` (a table
per backend, targets met / not met with the measured reason) to ``--out``.

Example::

    nice -n 10 nohup python -m eval.bench_e2e encode --config eval/configs/scale.yaml \\
        > data/bench-scale/encode.log 2>&1 &
    python -m eval.bench_e2e run --config eval/configs/scale.yaml --sizes 1000,5000,10000,max
    python -m eval.bench_e2e run --render          # the .md again from e2e.json
"""

from __future__ import annotations

import argparse
import json
import re
import logging
import os
import platform
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import yaml
from pydantic import BaseModel, ConfigDict, Field

from embeddings.encoders.base import Encoder, Kind
from eval.metrics import percentile
from rag.config import ROOT, Settings, load_settings

log = logging.getLogger("eval.bench_e2e")

#: The issue's targets: the corpus size encoded by the real model, and the incremental add of one document.
TARGET_PARAGRAPHS = 50_000
TARGET_ADD_S = 10.0
#: Index of the first generated document ``run`` adds with ``ingest --add`` (one more per run): far beyond
#: any corpus prefix, so it is new to every index (and its symbol, CAC/COSP/SYN/2031/100001…, is in none).
ADD_INDEX = 100_000


class RunSettings(BaseModel):
    """What ``run`` measures."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    sizes: tuple[int | str, ...] = Field((1000, 5000, 10000, "max"), description="Corpus sizes in paragraphs (each rounded up to whole documents); 'max': every document whose texts are all cached.")
    backends: tuple[str, ...] = Field(("faiss", "milvus"), description="index.backend values measured, side by side; one the settings or the engine do not know is reported as skipped.")
    questions: Path = Field(ROOT / "eval/data/qa.jsonl", description="JSONL of the questions asked (their 'question' field), one at a time.")
    max_questions: int | None = Field(None, ge=1, description="Ask at most this many of them (None: all).")
    add_paragraphs: int = Field(100, ge=1, description="Paragraphs of the document added with ingest --add (generated documents have 60-140).")
    timeout_s: float = Field(3600.0, gt=0, description="Longest a measuring subprocess may run.")


def vectors_dir(settings: Settings) -> Path:
    """The passage-vector cache of the index of ``settings``: ``<index dir>.vectors`` (data/bench-scale/index.vectors)."""
    from embeddings.store.layout import vector_cache_dir

    return vector_cache_dir(settings.path(settings.index.dir))


def progress_path(settings: Settings) -> Path:
    """Where ``encode`` appends one JSON line per batch: ``<index dir>.vectors.progress.jsonl``."""
    d = vectors_dir(settings)
    return d.with_name(d.name + ".progress.jsonl")


def product_texts(corpus, settings: Settings) -> list[str]:
    """Every passage text the product encodes for ``corpus``, once each, in document order: per document,
    its chunks' embedded texts (title/section prefix + text, what the dense index holds), then its
    paragraphs' own texts and their quotable units (what the reader and the citation guard score)."""
    from rag.answer.units import paragraph_units
    from rag.corpus.chunker import chunk_corpus
    from rag.corpus.loader import Corpus

    texts: dict[str, None] = {}
    for doc in corpus.documents:
        one = Corpus([doc])
        texts.update(dict.fromkeys(c.embed_text for c in chunk_corpus(one, settings)))
        for p in doc.paragraphs:
            texts[p.text] = None
            texts.update(dict.fromkeys(u.text for u in paragraph_units(p)))
    return list(texts)


def encode(settings: Settings, *, batch_docs: int, progress_file: Path | None = None,
           part: tuple[int, int] = (0, 1)) -> None:
    """Encode (or find cached) the product's texts of ``settings``' corpus, ``batch_docs`` documents at a
    time in corpus order; one log line and one JSON line in ``progress_file`` per batch.

    ``part`` = (i, n): only every n-th batch from the i-th, so that n processes of one thread each share
    the work (on this 2-core box two one-thread ONNX workers encode ~1.3x what one two-thread worker
    does); the cache's shards are content-named and written atomically, so they never collide."""
    from embeddings.encoders.factory import create_encoder
    from embeddings.encoders.sentence_transformer import set_threads
    from embeddings.store.vector_cache import VectorCache
    from rag.corpus.loader import Corpus, load_corpus

    corpus = load_corpus(settings)
    encoder = create_encoder(settings.embeddings)
    encoder.load()
    set_threads(settings.embeddings.index_threads)
    cache = VectorCache(vectors_dir(settings), encoder)
    docs = corpus.documents
    paragraphs = texts_total = encoded_total = 0
    t_start = time.perf_counter()
    encode_seconds = 0.0
    log.info("encoding %d documents (%d paragraphs) into %s, %d documents a batch",
             len(docs), len(corpus), cache.directory, batch_docs)
    mine, workers = part
    for number, start in enumerate(range(0, len(docs), batch_docs)):
        if number % workers != mine:
            continue
        batch = Corpus(docs[start : start + batch_docs])
        texts = product_texts(batch, settings)
        t0 = time.perf_counter()
        cache.encode(texts, batch_size=settings.embeddings.batch_size)
        seconds = time.perf_counter() - t0
        paragraphs += len(batch)
        texts_total += len(texts)
        encoded_total += cache.encoded_last
        if cache.encoded_last:
            encode_seconds += seconds
        rate = cache.encoded_last / seconds if cache.encoded_last else 0.0
        log.info("documents %d/%d, paragraphs %d: %d texts (%d encoded in %.0f s, %.1f texts/s); "
                 "total %d encoded, %.0f s elapsed", start + len(batch.documents), len(docs), paragraphs,
                 len(texts), cache.encoded_last, seconds, rate, encoded_total, time.perf_counter() - t_start)
        if progress_file is not None:
            with progress_file.open("a", encoding="utf-8") as f:
                f.write(json.dumps({
                    "at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "documents": start + len(batch.documents),
                    "paragraphs": paragraphs, "texts": len(texts), "encoded": cache.encoded_last,
                    "seconds": round(seconds, 2), "fingerprint": encoder.fingerprint, "workers": workers,
                }) + "\n")
    log.info("done: %d documents, %d texts, %d encoded in %.0f s of encoding", len(docs), texts_total,
             encoded_total, encode_seconds)



class CachedPassages(Encoder):
    """``inner`` with its passage vectors served by a :class:`VectorCache` (texts it lacks are encoded by
    ``inner`` and cached); questions go to ``inner``. Same model id, dimension and fingerprint, so an index
    built through it is the index ``inner`` would build, and the engine loads it as such."""

    def __init__(self, inner: Encoder, cache) -> None:
        super().__init__()
        self.inner, self.cache = inner, cache
        self.model_id = inner.model_id
        self.passages_encoded = 0  # texts the cache lacked, encoded by ``inner``

    @property
    def dim(self) -> int:
        return self.inner.dim

    @property
    def fingerprint(self) -> str:
        return self.inner.fingerprint

    def _load(self) -> None:
        self.inner.load()

    def _encode(self, texts: list[str], kind: Kind, batch_size: int, progress: bool) -> np.ndarray:
        if kind == "query":
            return self.inner.encode_queries(texts, batch_size=batch_size)
        vecs = self.cache.encode(texts, batch_size=batch_size)
        self.passages_encoded += self.cache.encoded_last
        return vecs


def cached_encoder(settings: Settings) -> CachedPassages:
    """The encoder of ``settings``, loaded, with its passage vectors from the cache at ``<index dir>.vectors``."""
    from embeddings.encoders.factory import create_encoder
    from embeddings.store.vector_cache import VectorCache

    inner = create_encoder(settings.embeddings)
    inner.load()
    return CachedPassages(inner, VectorCache(vectors_dir(settings), inner))


def fresh_document(pool, shape, cache, *, first: int):
    """The first generated document from index ``first`` on whose paragraphs' texts the cache mostly lacks
    (a one-sentence paragraph may be a real sentence, cached as an answer unit; an added document's own
    texts are all cached by the add)."""
    from embeddings.store.vector_cache import text_key
    from eval.synth_corpus import plan_document

    i = first
    while True:
        plan = plan_document(pool, i, shape)
        keys = [text_key(p.text) for p in plan.paragraphs]
        if len(cache.lookup(keys)) < len(keys) / 2:
            return plan
        i += 1


def cached_documents(corpus, settings: Settings, cache) -> int:
    """How many leading documents of ``corpus`` have every product text (:func:`product_texts`) cached."""
    from embeddings.store.vector_cache import text_key
    from rag.corpus.loader import Corpus

    for i, doc in enumerate(corpus.documents):
        keys = [text_key(t) for t in product_texts(Corpus([doc]), settings)]
        if len(cache.lookup(keys)) < len(keys):
            return i
    return len(corpus.documents)


def encoding_rate(progress_file: Path, fingerprint: str) -> dict[str, Any]:
    """The encoding throughput ``encode`` measured: texts it encoded, seconds spent, texts/s (batches
    that found everything cached are left out: they measure nothing)."""
    encoded = seconds = 0.0
    if progress_file.is_file():
        for line in progress_file.read_text(encoding="utf-8").splitlines():
            row = json.loads(line)
            if row.get("fingerprint") == fingerprint and row["encoded"]:
                encoded += row["encoded"]
                # n workers encode side by side: each one's second is 1/n of the machine's
                seconds += row["seconds"] / row.get("workers", 1)
    return {"texts_encoded": int(encoded), "seconds": round(seconds, 1),
            "texts_per_s": round(encoded / seconds, 2) if seconds else None}


def prefix_manifest(manifest: Path, documents: int) -> Path:
    """``manifest-<documents>.yaml`` beside ``manifest`` listing its first ``documents`` entries."""
    data = yaml.safe_load(manifest.read_text(encoding="utf-8"))
    out = manifest.with_name(f"manifest-{documents}.yaml")
    body = yaml.safe_dump({"documents": data["documents"][:documents]}, allow_unicode=True, sort_keys=False)
    out.write_text(f"# The first {documents} documents of {manifest.name} (eval/bench_e2e.py).\n" + body, encoding="utf-8")
    return out


def _status_mb() -> dict[str, float]:
    """This process's resident memory now (VmRSS) and at its peak (VmHWM), MB."""
    out = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            out[key] = round(int(value.split()[0]) / 1024, 1)
    return out


def measure(settings: Settings, questions: Sequence[str]) -> dict[str, Any]:
    """Cold start, memory and latencies of the engine of ``settings``, in this (fresh) process."""
    t0 = time.perf_counter()
    from rag.engine import Engine

    engine = Engine(settings)
    imported = time.perf_counter()
    engine.load()
    loaded = time.perf_counter()
    after_load = _status_mb()
    asks = []
    for q in questions:
        t = time.perf_counter()
        engine.ask(q)
        asks.append((time.perf_counter() - t) * 1000)
    # The first question also pays for what loads lazily (tokenizer dictionaries, the ONNX session's
    # first run): reported on its own, the percentiles are over the others.
    first, asks = (asks[0], asks[1:]) if len(asks) > 1 else (asks[0] if asks else None, asks)
    bm25 = []
    k = settings.retrieval.candidates
    for q in questions:
        t = time.perf_counter()
        engine.index.search_bm25([q], k)
        bm25.append((time.perf_counter() - t) * 1000)
    after = _status_mb()
    return {
        "index_class": f"{type(engine.index).__module__}.{type(engine.index).__name__}",
        "index_kind": engine.index.kind, "chunks": len(engine.index.chunks), "paragraphs": len(engine.corpus),
        "import_s": round(imported - t0, 2), "cold_start_s": round(loaded - imported, 2),
        "rss_after_load_mb": after_load["VmRSS"], "rss_after_questions_mb": after["VmRSS"], "rss_peak_mb": after["VmHWM"],
        "questions": len(questions), "ask_first_ms": _round(first),
        "ask_p50_ms": _round(percentile(asks, 50)), "ask_p95_ms": _round(percentile(asks, 95)),
        "bm25_p50_ms": _round(percentile(bm25, 50), 2), "bm25_p95_ms": _round(percentile(bm25, 95), 2),
    }


def _round(x: float | None, digits: int = 1) -> float | None:
    return None if x is None else round(x, digits)


def _load_questions(path: Path, limit: int | None) -> list[str]:
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [r["question"] for r in rows][:limit]


def _overrides(manifest: Path, backend: str) -> dict[str, Any]:
    return {"corpus.manifest": str(manifest), "index.backend": backend}


def _cli_sets(overrides: dict[str, Any]) -> list[str]:
    return [a for k, v in overrides.items() for a in ("--set", f"{k}={v}")]


def _env() -> dict[str, str]:
    return {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false",
            "GRADIO_ANALYTICS_ENABLED": "False", "PYTHONPATH": str(ROOT)}


def backend_problem(backend: str) -> str | None:
    """Why ``backend`` cannot be measured yet (None: it can): the settings must accept it."""
    from embeddings.settings import IndexSettings

    field = IndexSettings.model_fields.get("backend")
    if field is None:
        return "the settings have no index.backend yet (only the FAISS store exists)"
    try:
        IndexSettings(backend=backend)
    except ValueError as e:
        return f"index.backend {backend!r} is not accepted: {' '.join(str(e).split())[:200]}"
    return None


def build(settings: Settings, encoder: CachedPassages) -> dict[str, Any]:
    """Index the corpus of ``settings`` as ``uncac-qa ingest`` does (no added documents), passages from
    the cache; wall time of parse + chunk + index build + answer units."""
    from rag.commands.ingest import answer_units, write_index
    from rag.corpus.chunker import chunk_corpus
    from rag.corpus.loader import load_corpus

    before = encoder.passages_encoded
    t0 = time.perf_counter()
    corpus = load_corpus(settings)
    parsed = time.perf_counter()
    chunks = chunk_corpus(corpus, settings)
    chunked = time.perf_counter()
    report = write_index(settings, chunks, encoder, [])
    indexed = time.perf_counter()
    answer_units(corpus, encoder, settings, reuse=True)
    done = time.perf_counter()
    return {
        "documents": len(corpus.documents), "paragraphs": len(corpus), "chunks": len(chunks), "kind": report.kind,
        "index_mb": round(report.bytes / 1e6, 1), "parse_s": round(parsed - t0, 2), "chunk_s": round(chunked - parsed, 2),
        "index_s": round(indexed - chunked, 2), "units_s": round(done - indexed, 2), "build_s": round(done - t0, 2),
        "encoded_during_build": encoder.passages_encoded - before,
        "report": f"{type(report).__module__}.{type(report).__name__}",  # which store built it
    }


def add_document(config: Path, overrides: dict[str, Any], path: Path, timeout_s: float) -> dict[str, Any]:
    """``uncac-qa ingest --add path`` as its own process: wall time, and the summary it printed."""
    cmd = [sys.executable, "-m", "rag", "--config", str(config), *_cli_sets(overrides), "ingest", "--add", str(path)]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, check=False, capture_output=True, text=True, env=_env(), cwd=ROOT, timeout=timeout_s)
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({proc.returncode}): {proc.stderr[-2000:]}")
    summary = next((ln for ln in proc.stdout.splitlines() if ln.startswith("indexed ")), proc.stdout.strip()[-300:])
    units = next((ln for ln in proc.stderr.splitlines() if ln.startswith("answer units:")), None)
    took = next((ln for ln in proc.stderr.splitlines() if ln.startswith("took ")), None)
    return {"wall_s": round(wall, 2), "summary": summary, "units": units, "steps": took, **add_breakdown(wall, summary, took)}


def add_breakdown(wall: float, summary: str, took: str | None) -> dict[str, float]:
    """What an add spent encoding (the index's new chunks + the new answer units) and on everything
    else, from the lines ``uncac-qa ingest`` prints: the target is about the second part, the first
    is the model's speed on this CPU.

    >>> add_breakdown(30.0, "indexed 1 documents ... in 12.0s (encoding 8.0s); flat index", "took 29.0 s: corpus 2.0 s, "
    ...               "chunks 1.0 s, index (encoding 8.0 s) 12.0 s, answer units 7.0 s")
    {'encode_chunks_s': 8.0, 'answer_units_s': 7.0, 'startup_s': 1.0, 'other_s': 14.0}
    """
    out: dict[str, float] = {}
    m = re.search(r"\(encoding ([\d.]+)s\)", summary or "")
    if m:
        out["encode_chunks_s"] = float(m.group(1))
    steps = dict((name.strip(), float(sec)) for name, sec in re.findall(r"(?:^took [\d.]+ s: |, )([^,]+?) ([\d.]+) s", took or ""))
    if took:
        total = float(re.match(r"took ([\d.]+) s", took).group(1))
        out["answer_units_s"] = steps.get("answer units", 0.0)
        out["startup_s"] = round(wall - total, 2)  # interpreter, imports, settings: before the first step
        out["other_s"] = round(total - out.get("encode_chunks_s", 0.0) - out["answer_units_s"], 2)
    return out


def in_subprocess(step: str, config: Path, overrides: dict[str, Any], cfg: RunSettings) -> dict[str, Any]:
    """``python -m eval.bench_e2e <step>`` (build or measure) as its own process; the JSON it prints.

    Its own process because a Milvus Lite file serves one process at a time (the builder's must have
    exited before the engine opens it), and a cold start must be cold."""
    cmd = [sys.executable, "-m", "eval.bench_e2e", step, "--config", str(config), *_cli_sets(overrides),
           "--questions", str(cfg.questions)]
    if cfg.max_questions:
        cmd += ["--max-questions", str(cfg.max_questions)]
    proc = subprocess.run(cmd, check=False, capture_output=True, text=True, env=_env(), cwd=ROOT, timeout=cfg.timeout_s)
    if proc.returncode != 0:
        raise RuntimeError(f"{step} failed ({proc.returncode}): {proc.stderr[-2000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def resolve_sizes(sizes: Sequence[int | str], counts: Sequence[int], covered: int) -> list[int]:
    """Document counts to measure: each size in paragraphs rounded up to whole documents, kept when its
    documents are all cached (``covered``), and ``max`` = ``covered``; ascending, without repeats.

    >>> resolve_sizes([100, 250, "max"], [100, 100, 100, 100], 3)
    [1, 3]
    """
    cumulative = np.cumsum(counts)
    out = set()
    for size in sizes:
        if size == "max":
            d = covered
        else:
            d = int(np.searchsorted(cumulative, int(size))) + 1
        if 0 < d <= covered:
            out.add(d)
    return sorted(out)


def run(config: Path, cfg: RunSettings, out: Path) -> dict[str, Any]:
    """Build, measure and add for each backend and size; writes ``out/e2e.json`` and ``out/e2e.md``."""
    from eval.synth_corpus import (
        SentencePool,
        SynthSettings,
        write_document,
    )
    from rag.corpus.loader import Corpus, load_corpus

    settings = load_settings(config)
    manifest = settings.path(settings.corpus.manifest)
    corpus = load_corpus(settings)
    encoder = cached_encoder(settings)
    covered = cached_documents(corpus, settings, encoder.cache)
    counts = [len(d.paragraphs) for d in corpus.documents]
    docs = resolve_sizes(cfg.sizes, counts, covered)
    rate = encoding_rate(progress_path(settings), encoder.fingerprint)
    pool = SentencePool.from_settings(load_settings())  # the real corpus' sentences
    shape = SynthSettings(min_paragraphs=cfg.add_paragraphs, max_paragraphs=cfg.add_paragraphs,
                          min_chapters=1, max_chapters=min(3, cfg.add_paragraphs))
    add_dir = settings.path(settings.index.dir).with_name("add")
    result: dict[str, Any] = {
        "generated": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
        "config": str(config.relative_to(ROOT) if config.is_relative_to(ROOT) else config),
        "corpus": {"documents": len(corpus.documents), "paragraphs": len(corpus), "cached_documents": covered,
                   "cached_paragraphs": int(sum(counts[:covered]))},
        "encoding": rate, "passage_runtime": settings.embeddings.passage_runtime, "added_document": {"folder": str(add_dir), "paragraphs": cfg.add_paragraphs},
        "runs": [], "skipped": {},
    }

    for backend in cfg.backends:
        problem = backend_problem(backend)
        if problem:
            result["skipped"][backend] = problem
            log.warning("backend %s skipped: %s", backend, problem)
            continue
        for d in docs:
            m = prefix_manifest(manifest, d)
            overrides = _overrides(m, backend)
            load_settings(config, overrides)  # a bad override fails here, before anything is built
            log.info("%s, %d documents: building", backend, d)
            row: dict[str, Any] = {"backend": backend, "documents": d, "paragraphs": int(sum(counts[:d]))}
            row["build"] = in_subprocess("build", config, overrides, cfg)
            if backend != "faiss" and backend not in row["build"]["report"]:
                result["skipped"][backend] = (f"the product's ingest does not build it yet (write_index built a "
                                              f"{row['build']['kind']} index, {row['build']['report']})")
                log.warning("backend %s skipped: %s", backend, result["skipped"][backend])
                break
            texts = len(product_texts(Corpus(corpus.documents[:d]), settings))
            row["texts"] = texts
            if rate["texts_per_s"]:
                encode_s = texts / rate["texts_per_s"]
                row["encode_s_estimated"] = round(encode_s, 1)
                row["ingest_paragraphs_per_s"] = round(row["paragraphs"] / (encode_s + row["build"]["build_s"]), 2)
            row["build_paragraphs_per_s"] = round(row["paragraphs"] / row["build"]["build_s"], 1)
            log.info("%s, %d documents: measuring", backend, d)
            row["serve"] = in_subprocess("measure", config, overrides, cfg)
            if backend != "faiss" and backend not in row["serve"]["index_class"]:
                result["skipped"][backend] = f"the engine does not serve it yet (it loaded {row['serve']['index_class']})"
                log.warning("backend %s skipped: %s", backend, result["skipped"][backend])
                break
            log.info("%s, %d documents: ingest --add", backend, d)
            # A document no earlier run (of this or an earlier benchmark) added: its texts are new to the
            # vector cache, as a user's would be, so the add pays for encoding them.
            # A new cache object: the adds before this one (other processes) wrote shards this process's
            # cache has not seen, and both backends share the cache, so a stale one would pick their document.
            from embeddings.store.vector_cache import VectorCache

            plan = fresh_document(pool, shape, VectorCache(vectors_dir(settings), encoder.inner),
                                  first=ADD_INDEX + len(result["runs"]))
            row["add"] = add_document(config, overrides, write_document(plan, add_dir / f"{plan.doc_id}.txt"), cfg.timeout_s)
            result["runs"].append(row)
            _write(result, out)
    _write(result, out)
    return result


def _write(result: dict[str, Any], out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    (out / "e2e.json").write_text(json.dumps(result, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    (out / "e2e.md").write_text(render(result), encoding="utf-8")


def _add_steps(r: dict[str, Any]) -> str:
    a = r["add"]
    if "other_s" not in a:  # a run from before ingest printed its steps
        return f"{r['paragraphs']:,}: {a['wall_s']} in all"
    return (f"{r['paragraphs']:,}: {a['wall_s']} in all = encoding the new chunks {a['encode_chunks_s']} + answer "
            f"units {a['answer_units_s']} (mostly encoding the new sentences) + start-up {a['startup_s']} + the rest "
            f"{a['other_s']} ({a['steps']})")


def _met(ok: bool, why: str) -> str:
    return f"met ({why})" if ok else f"NOT met ({why})"


def render(result: dict[str, Any]) -> str:
    """The markdown report of a ``run`` result: a table per backend and size, then the targets."""
    enc, corpus = result["encoding"], result["corpus"]
    lines = [
        "# End-to-end scale benchmark (issue 13)", "",
        (f"Generated {result['generated']} by `python -m eval.bench_e2e run` ({result['config']}) on "
        f"{result['machine']['cpus']} CPUs. Corpus: {corpus['paragraphs']:,} generated paragraphs in "
        f"{corpus['documents']} documents (eval/synth_corpus.py); {corpus['cached_paragraphs']:,} paragraphs "
        f"({corpus['cached_documents']} documents) encoded by the real model so far."), "",
        (f"Encoding (`python -m eval.bench_e2e encode`, e5-small, {result.get('passage_runtime', 'torch')}, 2 threads, "
         "beside other work): "
        f"{enc['texts_encoded']:,} texts in {enc['seconds']:,.0f} s = **{enc['texts_per_s']} texts/s**; a paragraph "
        "costs ~2 texts (its chunk with the title/section prefix, its own text; its sentences are the real "
        "corpus' and mostly cached)."), "",
        ("Ingest throughput = paragraphs / (their texts / encoding rate + build time). Build = parse + chunk + index "
        "+ answer units with every vector from the cache. Cold start = `Engine(settings).load()` in a fresh "
        "process (after imports). ask and BM25 latencies: one question at a time, one thread, the dev questions "
        "(eval/data/qa.jsonl), the first ask (lazy loading) left out of the percentiles. Add = the whole `uncac-qa ingest --add` command of a new "
        f"{result['added_document']['paragraphs']}-paragraph document (its texts encoded by the real model)."), "",
    ]
    for backend in dict.fromkeys([r["backend"] for r in result["runs"]] + list(result["skipped"])):
        lines += [f"## {backend}", ""]
        rows = [r for r in result["runs"] if r["backend"] == backend]
        if rows:
            lines += [
                ("| paragraphs | docs | chunks | index | ingest para/s | build s | cold start s | RSS load MB "
                 "| RSS after MB | peak MB | first ask ms | ask p50 ms | ask p95 ms | BM25 p50 ms | add s |"),
                "|" + "---|" * 15,
            ]
            for r in rows:
                b, v = r["build"], r["serve"]
                lines.append(
                    f"| {r['paragraphs']:,} | {r['documents']} | {b['chunks']:,} | {v['index_kind']} | "
                    f"{r.get('ingest_paragraphs_per_s', 'n/a')} | {b['build_s']} | {v['cold_start_s']} | "
                    f"{v['rss_after_load_mb']:,.0f} | {v['rss_after_questions_mb']:,.0f} | {v['rss_peak_mb']:,.0f} | "
                    f"{v['ask_first_ms']} | {v['ask_p50_ms']} | {v['ask_p95_ms']} | {v['bm25_p50_ms']} | {r['add']['wall_s']} |"
                )
            lines.append("")
            lines += ["Build breakdown (s): " + "; ".join(
                f"{r['paragraphs']:,}: parse {r['build']['parse_s']}, chunk {r['build']['chunk_s']}, index "
                f"{r['build']['index_s']}, units {r['build']['units_s']}" for r in rows), ""]
            lines += ["Add: " + "; ".join(f"{r['paragraphs']:,}: {r['add']['summary']}" for r in rows), ""]
            lines += ["Add, where the time went (s): " + "; ".join(_add_steps(r) for r in rows), ""]
        if backend in result["skipped"]:
            lines += [f"Skipped: {result['skipped'][backend]}.", ""]
    lines += ["## Targets", ""]
    biggest = max(result["runs"], key=lambda r: r["paragraphs"], default=None)
    lines.append(f"- >= {TARGET_PARAGRAPHS:,} paragraphs encoded by the real model and served: " + _met(
        bool(biggest) and biggest["paragraphs"] >= TARGET_PARAGRAPHS,
        f"largest measured {biggest['paragraphs']:,}" if biggest else "nothing measured")
        + (f"; the rest is encoding at {enc['texts_per_s']} texts/s" if not biggest or biggest["paragraphs"] < TARGET_PARAGRAPHS else ""))
    for r in result["runs"]:
        a = r["add"]
        lines.append(f"- add one document <= {TARGET_ADD_S:.0f} s, {r['backend']} at {r['paragraphs']:,} paragraphs: "
                     + _met(a["wall_s"] <= TARGET_ADD_S, f"{a['wall_s']} s; {a['summary']}"))
    return "\n".join(lines) + "\n"


def _encode_in_workers(args: argparse.Namespace) -> int:
    """``encode`` as ``args.workers`` processes of one thread each; waits for all, returns the worst code."""
    procs = [subprocess.Popen([sys.executable, "-m", "eval.bench_e2e", "encode", "--config", str(args.config),
                               "--batch-docs", str(args.batch_docs), "--part", f"{i}/{args.workers}"],
                              env=_env(), cwd=ROOT) for i in range(args.workers)]
    return max(p.wait() for p in procs)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m eval.bench_e2e", description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="command", required=True)
    enc = sub.add_parser("encode", help="fill the passage-vector cache for the corpus, in document order (resumable)")
    enc.add_argument("--config", type=Path, default=ROOT / "eval/configs/scale.yaml")
    enc.add_argument("--batch-docs", type=int, default=2,
                     help="documents encoded per call (a document is usable once its whole batch is encoded)")
    enc.add_argument("--workers", type=int, default=1,
                     help="processes of one thread each, sharing the batches (2 on a 2-core box: ~1.3x)")
    enc.add_argument("--part", default=None, help=argparse.SUPPRESS)  # i/n: set by --workers for each process
    rp = sub.add_parser("run", help="build, measure and add for each backend and size; write e2e.json/e2e.md")
    rp.add_argument("--config", type=Path, default=ROOT / "eval/configs/scale.yaml")
    rp.add_argument("--sizes", default="1000,5000,10000,max", help="paragraphs, comma-separated; 'max': all cached documents")
    rp.add_argument("--backends", default="faiss,milvus")
    rp.add_argument("--max-questions", type=int, default=None)
    rp.add_argument("--add-paragraphs", type=int, default=RunSettings().add_paragraphs)
    rp.add_argument("--out", type=Path, default=ROOT / "eval/reports/scale")
    rp.add_argument("--render", action="store_true", help="only re-write e2e.md from --out/e2e.json")
    for step, what in (("measure", "cold start, memory and latencies"), ("build", "the index built from the cache")):
        mp = sub.add_parser(step, help=f"(internal) {what} in this process; prints JSON")
        mp.add_argument("--config", type=Path, required=True)
        mp.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
        mp.add_argument("--questions", type=Path, required=True)
        mp.add_argument("--max-questions", type=int, default=None)
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    if args.command == "encode":
        if args.workers > 1 and args.part is None:
            return _encode_in_workers(args)
        part = tuple(int(x) for x in args.part.split("/")) if args.part else (0, 1)
        settings = load_settings(args.config, {"embeddings.index_threads": 1} if part[1] > 1 else None)
        encode(settings, batch_docs=args.batch_docs, progress_file=progress_path(settings), part=part)
    elif args.command in ("measure", "build"):
        from rag.config import parse_override

        settings = load_settings(args.config, dict(parse_override(s) for s in args.set))
        if args.command == "measure":
            print(json.dumps(measure(settings, _load_questions(args.questions, args.max_questions))))
        else:
            print(json.dumps(build(settings, cached_encoder(settings))))
    elif args.render:
        result = json.loads((args.out / "e2e.json").read_text(encoding="utf-8"))
        (args.out / "e2e.md").write_text(render(result), encoding="utf-8")
    else:
        sizes = tuple(s if s == "max" else int(s) for s in args.sizes.split(","))
        cfg = RunSettings(sizes=sizes, backends=tuple(args.backends.split(",")), max_questions=args.max_questions,
                          add_paragraphs=args.add_paragraphs)
        result = run(args.config, cfg, args.out)
        print(render(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
