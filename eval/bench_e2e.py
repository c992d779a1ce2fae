"""End-to-end scale benchmark (issue 13): the product on ~50,000 generated paragraphs, per index backend.

``encode`` (run first, in the background: ~100,000 texts at ~11/s is hours on 2 cores) fills the
passage-vector cache (:class:`embeddings.store.vector_cache.VectorCache` at ``<index dir>.vectors``) with
every text the product will encode for the corpus of ``--config``, document batch by document batch in
corpus order: each chunk's ``embed_text``, each paragraph's own text and its answer units' texts. Shards
are written per 1,024 texts, so a killed run loses at most one shard, and re-running the same command
resumes (cached texts are skipped). Because the generated corpus is prefix-stable
(:mod:`eval.synth_corpus`), every finished document prefix is a benchmark size.

Example::

    nice -n 10 nohup python -m eval.bench_e2e encode --config eval/configs/scale.yaml \\
        > data/bench-scale/encode.log 2>&1 &
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from pathlib import Path

from rag.config import ROOT, Settings, load_settings

log = logging.getLogger("eval.bench_e2e")


def vectors_dir(settings: Settings) -> Path:
    """The passage-vector cache of the index of ``settings``: ``<index dir>.vectors`` (data/bench-scale/index.vectors)."""
    d = settings.path(settings.index.dir)
    return d.with_name(d.name + ".vectors")


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


def encode(settings: Settings, *, batch_docs: int, progress_file: Path | None = None) -> None:
    """Encode (or find cached) the product's texts of ``settings``' corpus, ``batch_docs`` documents at a
    time in corpus order; one log line and one JSON line in ``progress_file`` per batch."""
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
    for start in range(0, len(docs), batch_docs):
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
                    "seconds": round(seconds, 2), "fingerprint": encoder.fingerprint,
                }) + "\n")
    log.info("done: %d documents, %d texts, %d encoded in %.0f s of encoding", len(docs), texts_total,
             encoded_total, encode_seconds)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m eval.bench_e2e", description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="command", required=True)
    enc = sub.add_parser("encode", help="fill the passage-vector cache for the corpus, in document order (resumable)")
    enc.add_argument("--config", type=Path, default=ROOT / "eval/configs/scale.yaml")
    enc.add_argument("--batch-docs", type=int, default=20, help="documents encoded between two progress lines")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    settings = load_settings(args.config)
    if args.command == "encode":
        progress = vectors_dir(settings).with_name(vectors_dir(settings).name + ".progress.jsonl")
        encode(settings, batch_docs=args.batch_docs, progress_file=progress)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
