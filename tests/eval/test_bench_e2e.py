"""eval/bench_e2e.py on a 3-document generated corpus with the real model: ``encode`` caches the texts
the product encodes, ``run`` measures only the cached prefix, builds it through the product's ingest
functions without encoding again, serves it in a fresh process and adds one document; the report has
every field (timings are not checked, only that they were measured)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from eval.bench_e2e import (
    CachedPassages,
    RunSettings,
    cached_documents,
    encode,
    product_texts,
    progress_path,
    resolve_sizes,
    run,
    vectors_dir,
)
from eval.synth_corpus import (
    SentencePool,
    SynthSettings,
    plan_corpus,
    write_corpus,
    write_manifest,
)
from rag.config import load_settings
from rag.corpus.loader import Corpus, load_corpus

TINY = SynthSettings(paragraphs=24, min_paragraphs=8, max_paragraphs=10, min_chapters=1, max_chapters=2)


@pytest.fixture(scope="module")
def bench(corpus, tmp_path_factory) -> tuple[Path, list]:
    """The tiny corpus, its config, and its first two documents encoded into the cache."""
    root = tmp_path_factory.mktemp("bench")
    docs = plan_corpus(SentencePool.from_corpus(corpus), TINY)
    assert len(docs) == 3
    manifest = write_corpus(docs, root / "corpus")
    config = root / "scale.yaml"
    config.write_text(yaml.safe_dump({"corpus": {"manifest": str(manifest)}, "index": {"dir": str(root / "index")}}))
    first_two = write_manifest(docs[:2], root / "corpus" / "manifest-2.yaml")
    settings = load_settings(config, {"corpus.manifest": str(first_two)})
    encode(settings, batch_docs=1, progress_file=progress_path(settings))
    return config, docs


def test_encode_caches_exactly_the_products_texts(bench, encoder) -> None:
    from embeddings.store.vector_cache import VectorCache, text_key

    config, _ = bench
    settings = load_settings(config)
    full = load_corpus(settings)
    cache = VectorCache(vectors_dir(settings), encoder)
    assert cached_documents(full, settings, cache) == 2  # the third was never encoded
    texts = product_texts(Corpus(full.documents[:2]), settings)
    cached = cache.lookup([text_key(t) for t in texts])
    assert len(cached) == len(texts)
    # The cached vectors are the encoder's own (the oracle: encoding again).
    sample = texts[:5]
    again = encoder.encode_passages(sample)
    assert max(abs(cached[text_key(t)] - v).max() for t, v in zip(sample, again)) < 1e-4
    progress = [json.loads(ln) for ln in progress_path(settings).read_text().splitlines()]
    assert [p["documents"] for p in progress] == [1, 2] and sum(p["encoded"] for p in progress) >= len(set(texts)) - 1


def test_cached_passages_encode_nothing_cached(bench, encoder) -> None:
    from embeddings.store.vector_cache import VectorCache

    config, _ = bench
    settings = load_settings(config)
    wrapped = CachedPassages(encoder, VectorCache(vectors_dir(settings), encoder))
    texts = product_texts(Corpus(load_corpus(settings).documents[:1]), settings)
    vecs = wrapped.encode_passages(texts)
    assert wrapped.passages_encoded == 0 and vecs.shape == (len(texts), encoder.dim)
    assert wrapped.fingerprint == encoder.fingerprint and wrapped.model_id == encoder.model_id


def test_resolve_sizes() -> None:
    assert resolve_sizes([1, 10, 11, "max"], [10, 10, 10], 2) == [1, 2]
    assert resolve_sizes([25, "max"], [10, 10, 10], 3) == [3]
    assert resolve_sizes([5], [10, 10], 0) == []


def test_run_reports_every_field(bench, tmp_path: Path) -> None:
    config, docs = bench
    out = tmp_path / "report"
    # One size (the cached prefix) keeps this at one build + one serving process + one add (the sizes
    # themselves are resolve_sizes' business, tested above).
    cfg = RunSettings(sizes=("max",), backends=("faiss", "no-such-backend"), max_questions=2, add_paragraphs=3)
    result = run(config, cfg, out)
    saved = json.loads((out / "e2e.json").read_text(encoding="utf-8"))
    assert saved == json.loads(json.dumps(result))
    assert result["corpus"] == {"documents": 3, "paragraphs": sum(len(d.paragraphs) for d in docs),
                                "cached_documents": 2, "cached_paragraphs": sum(len(d.paragraphs) for d in docs[:2])}
    assert "no-such-backend" in result["skipped"]
    assert result["encoding"]["texts_encoded"] > 0 and result["encoding"]["texts_per_s"] > 0
    runs = result["runs"]
    assert [(r["backend"], r["documents"]) for r in runs] == [("faiss", 2)]
    for r, n in zip(runs, (2,)):
        paragraphs = sum(len(d.paragraphs) for d in docs[:n])
        assert r["paragraphs"] == paragraphs and r["build"]["paragraphs"] == paragraphs
        assert r["build"]["encoded_during_build"] == 0  # every vector came from the cache
        assert r["build"]["chunks"] >= paragraphs and r["ingest_paragraphs_per_s"] > 0
        serve = r["serve"]
        assert serve["paragraphs"] == paragraphs and serve["chunks"] == r["build"]["chunks"]
        assert serve["questions"] == 2 and serve["index_kind"] == "flat"
        assert 0 < serve["ask_p50_ms"] <= serve["ask_p95_ms"] and serve["bm25_p50_ms"] > 0
        assert 0 < serve["rss_after_load_mb"] <= serve["rss_peak_mb"] and serve["cold_start_s"] > 0
        # The added document is indexed beside the prefix: one more document, 3 more paragraphs.
        assert r["add"]["summary"].startswith(f"indexed {n + 1} documents, {paragraphs + 3} paragraphs")
        assert r["add"]["wall_s"] > 0
    md = (out / "e2e.md").read_text(encoding="utf-8")
    assert "## faiss" in md and "## no-such-backend" in md and "Skipped:" in md
    assert md.count("add one document <= 10 s") == 1 and ">= 50,000 paragraphs" in md
