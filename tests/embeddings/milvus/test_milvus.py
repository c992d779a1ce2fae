"""The Milvus backend's own behaviour beyond the shared conformance suite (tests/embeddings/store/
test_conformance.py): its errors, filter expressions that survive hostile document ids, hybrid search
against an RRF oracle over its own dense and BM25 lists, the manifest kept in Milvus, and the report.

One Milvus Lite file for the module (its start-up is slow), a small Chinese/English corpus and the
hash encoder (the model is not the point here).
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from embeddings.errors import CorpusError, IndexStateError
from embeddings.milvus import build_milvus, load_milvus, read_milvus_manifest
from embeddings.milvus.schema import in_filter, quote
from embeddings.settings import EmbeddingsSettings, IndexSettings
from rag.corpus.records import Chunk
from tests.embeddings.fake_encoder import HashEncoder

EMB = EmbeddingsSettings(batch_size=64)
TEXTS = [
    "公职人员资产申报制度", "资产 申报 资产", "举报人保护措施", "反腐败机构的独立性", "Asset declarations by public officials",
    "protection of reporting persons", "independence of anti-corruption bodies", "技术援助和信息交流", "asset recovery 资产追回",
]
#: Document ids a filter expression must carry as they are: quotes, backslashes, brackets, 'or'.
DOC_IDS = ['d"1', "d\\2", "d3] or doc_id != [", "d 4"]


def chunks(texts=TEXTS, docs=DOC_IDS) -> list[Chunk]:
    return [Chunk(paragraph_id=f"{docs[i % len(docs)]}:{i}", doc_id=docs[i % len(docs)], para=i, part=0, n_parts=1,
                  text=t, embed_text=t, label_en="x", label_zh="y") for i, t in enumerate(texts)]


@pytest.fixture(scope="module")
def settings(tmp_path_factory) -> IndexSettings:
    lite = tmp_path_factory.mktemp("milvus") / "milvus.db"
    s = IndexSettings(backend="milvus", milvus_uri=str(lite), milvus_collection="unit")
    build_milvus(chunks(), HashEncoder(), s, EMB, meta={"added_files": ["a.docx"]}, chunking={"max_chars": 500})
    return s


@pytest.fixture(scope="module")
def index(settings):
    return load_milvus(settings, HashEncoder(), EMB, record_type=Chunk)


def test_filter_expressions_quote_every_value():
    assert quote('a"b\\c') == '"a\\"b\\\\c"'
    assert in_filter("doc_id", {"b", "a"}) == 'doc_id in ["a", "b"]'


def test_hostile_document_ids_filter_exactly_their_rows(index):
    cs = chunks()
    enc = HashEncoder()
    q = enc.encode_queries(["资产申报"])
    for doc in DOC_IDS:
        rows = {i for i, c in enumerate(cs) if c.doc_id == doc}
        dense = index.search_dense(q, 20, docs=[frozenset({doc})])[0]
        assert {r for r, _ in dense} == rows
        bm25 = index.search_bm25(["资产 申报 protection asset independence 技术援助"], 20, docs=[frozenset({doc})])[0]
        assert {r for r, _ in bm25} <= rows


def test_hybrid_is_rrf_over_its_dense_and_bm25_lists(index):
    enc = HashEncoder()
    texts = ["资产申报", "asset declarations", "举报人"]
    q = enc.encode_queries(texts)
    k, rrf_k = 5, 60
    dense, bm25 = index.search_dense(q, k), index.search_bm25(texts, k)
    hybrid = index.search_hybrid(q, texts, k, rrf_k=rrf_k)
    for d, b, h in zip(dense, bm25, hybrid):
        fused: dict[int, float] = {}
        for hits in (d, b):
            for rank, (row, _) in enumerate(hits):
                fused[row] = fused.get(row, 0.0) + 1.0 / (rrf_k + rank + 1)
        want = sorted(fused.values(), reverse=True)[:k]
        assert np.allclose([s for _, s in h], want, rtol=1e-4)
        assert all(abs(fused[r] - s) < 1e-5 for r, s in h)


def test_manifest_and_meta_live_in_milvus(settings, index):
    m = read_milvus_manifest(settings)
    assert m["meta"] == {"added_files": ["a.docx"]} and m["chunking"] == {"max_chars": 500}
    assert m["encoder"]["fingerprint"] == HashEncoder().fingerprint and m["n_chunks"] == len(TEXTS)
    assert index.manifest["chunks"][0][0] == chunks()[0].id
    assert index.stale_reasons(chunks(), settings) == []
    assert index.stale_reasons(chunks(), settings.model_copy(update={"milvus_analyzer": "multi"})) == [
        "milvus_analyzer changed from 'jieba' to 'multi'"]


def test_errors_are_one_clear_line(settings, tmp_path):
    with pytest.raises(IndexStateError, match=r"^no index at '.*nothing\.db'; build it with: uncac-qa ingest$"):
        load_milvus(settings.model_copy(update={"milvus_uri": str(tmp_path / "nothing.db")}), HashEncoder(), EMB,
                    record_type=Chunk)
    with pytest.raises(IndexStateError, match=r"^no index at .*; build it with: uncac-qa ingest$"):
        load_milvus(settings.model_copy(update={"milvus_collection": "other"}), HashEncoder(), EMB, record_type=Chunk)
    with pytest.raises(IndexStateError, match="built with model 'test/hash-bigrams'.*rebuild it with"):
        load_milvus(settings, HashEncoder(dim=32), EMB, record_type=Chunk)
    blocked = tmp_path / "file"
    blocked.write_text("not a folder")
    with pytest.raises(IndexStateError, match="cannot create the folder of the Milvus Lite file"):
        build_milvus(chunks(), HashEncoder(), settings.model_copy(update={"milvus_uri": str(blocked / "m.db")}), EMB)
    with pytest.raises(CorpusError, match="occurs twice"):
        build_milvus(chunks()[:2] * 2, HashEncoder(), settings, EMB)


def test_an_unreachable_server_is_named(settings):
    server = settings.model_copy(update={"milvus_uri": "http://127.0.0.1:9", "milvus_timeout_s": 2})
    with pytest.raises(IndexStateError, match=r"^Milvus at 'http://127.0.0.1:9' is unreachable"):
        load_milvus(server, HashEncoder(), EMB, record_type=Chunk)


def test_report_and_records_round_trip(settings, index, tmp_path):
    cs = chunks()
    assert list(index.chunks) == cs and index.chunks[-1] == cs[-1] and index.chunks[2:4] == cs[2:4]
    assert [dataclasses.asdict(c) for c in index.chunks.fetch([3, 1, 3])] == [dataclasses.asdict(cs[i]) for i in (3, 1, 3)]
    other = settings.model_copy(update={"milvus_uri": str(tmp_path / "r.db")})
    report = build_milvus(cs, HashEncoder(), other, EMB, root=tmp_path)
    assert (report.chunks, report.documents, report.kind) == (len(cs), len(DOC_IDS), "milvus")
    assert report.summary().endswith("milvus index, " + f"{report.bytes / 1e6:.1f} MB at r.db")


def test_multi_analyzer_names_each_questions_language(settings, tmp_path):
    """``milvus_analyzer: multi`` builds a per-language schema and sends each question with the analyzer its
    guessed language names (grouped, one request per analyzer). What the words then match is the
    server's business: Milvus Lite 3.2 accepts the schema and the parameter but analyses neither side as
    asked (measured: "declaration of assets" finds the rows sharing "of", not "Asset declarations by public
    officials"), so retrieval quality under 'multi' is not asserted here; it needs a server."""
    multi = settings.model_copy(update={"milvus_uri": str(tmp_path / "multi.db"), "milvus_analyzer": "multi"})
    build_milvus(chunks(), HashEncoder(), multi, EMB, languages=["zh", "zh", "zh", "zh", "en", "en", "en", "zh", "en"])
    index = load_milvus(multi, HashEncoder(), EMB, record_type=Chunk)
    assert index.manifest["bm25"]["analyzer"] == "multi"
    assert index._analyzers(["资产申报", "asset declaration", "déclaration de patrimoine"]) == ["zh", "en", "default"]
    assert index._bm25_params("en") == {"metric_type": "BM25", "params": {}, "analyzer_name": "en"}
    for row in index.search_bm25(["declaration of assets", "资产申报"], 5):
        assert all(s > 0 for _, s in row) and [s for _, s in row] == sorted((s for _, s in row), reverse=True)


def test_a_lite_file_open_in_another_process_is_named(settings, tmp_path):
    import subprocess
    import sys

    from embeddings.milvus.connection import connect

    lite = tmp_path / "held.db"
    script = "import sys, time; from pymilvus import MilvusClient; MilvusClient(sys.argv[1]); print('open', flush=True); time.sleep(120)"
    holder = subprocess.Popen([sys.executable, "-c", script, str(lite)],
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        assert holder.stdout.readline().strip() == "open"
        with pytest.raises(IndexStateError, match=r"^the Milvus Lite file .*held\.db' cannot be opened .*one process at a time"):
            connect(settings.model_copy(update={"milvus_uri": str(lite)}))
    finally:
        holder.kill()
        holder.wait()


def test_vectors_come_back_from_the_served_collection_when_the_cache_lacks_them(settings, tmp_path):
    """A server index rebuilt from another machine (or after the vector cache was deleted): unchanged texts
    take their vectors from the served collection (same encoder), only new ones are encoded."""
    s = settings.model_copy(update={"milvus_uri": str(tmp_path / "reuse.db")})
    build_milvus(chunks(), HashEncoder(), s, EMB, vectors=tmp_path / "cache-a")
    before = load_milvus(s, HashEncoder(), EMB, record_type=Chunk).vectors_of(range(len(TEXTS)))
    more = chunks(TEXTS + ["新的段落：国际合作"])
    encoder = HashEncoder()
    report = build_milvus(more, encoder, s, EMB, vectors=tmp_path / "cache-b")  # an empty cache
    assert (encoder.calls, report.encoded, report.reused) == (1, 1, len(TEXTS))
    after = load_milvus(s, HashEncoder(), EMB, record_type=Chunk)
    assert np.array_equal(after.vectors_of(range(len(TEXTS))), before)
    other = HashEncoder(salt="x")  # another encoder: nothing of the served collection is reused
    assert build_milvus(more, other, s, EMB, vectors=tmp_path / "cache-c").encoded == len(more) == other.calls
