"""``rag.index_backend``: the one switch between the FAISS directory and Milvus Lite. Both backends are
built from the real corpus (fake-encoded) through it and must serve the assistant the same way: the
same manifest meta and chunk ids, the same records by row, and (both dense searches being exact) the
same dense-route hits, filters included."""

from __future__ import annotations

import pytest

from rag.corpus.chunker import chunk_corpus
from rag.index_backend import build, indexed_chunk_ids, open_index, read_manifest, where
from rag.request import Filters
from rag.retrieval.searcher import HybridSearcher
from tests.embeddings.fake_encoder import HashEncoder

QUESTIONS = ["工作组关于资产申报提出了什么建议？", "保护举报人的措施", "technical assistance needs"]


def backend_settings(settings, tmp_path, backend):
    index = settings.index.model_copy(update={
        "backend": backend, "dir": tmp_path / "index", "milvus_uri": str(tmp_path / "milvus.db"),
        "milvus_index_type": "FLAT", "kind": "flat"})
    return settings.model_copy(update={"index": index})


@pytest.fixture(scope="module")
def served(tmp_path_factory, settings, corpus):
    tmp = tmp_path_factory.mktemp("backends")
    chunks = chunk_corpus(corpus, settings)
    out = {}
    for backend in ("faiss", "milvus"):
        s = backend_settings(settings, tmp, backend)
        encoder = HashEncoder()
        assert read_manifest(s) is None and indexed_chunk_ids(s) == []
        report = build(s, chunks, encoder, meta={"added_files": ["/x/a.docx"]}, progress=False)
        assert report.chunks == len(chunks)
        out[backend] = (s, open_index(s, encoder), encoder)
        out[backend + " encoded"] = report.encoded
    return chunks, out


def test_the_backends_share_one_vector_cache(served):
    """Milvus, built after FAISS, finds every vector in ``<index.dir>.vectors``: switching re-encodes nothing."""
    _, out = served
    assert out["faiss encoded"] > 0 and out["milvus encoded"] == 0


def test_both_backends_record_the_same_build(served):
    chunks, out = served
    for s, index, _ in (out["faiss"], out["milvus"]):
        assert read_manifest(s)["meta"]["added_files"] == ["/x/a.docx"]
        assert indexed_chunk_ids(s) == [c.id for c in chunks]
        assert index.stale_reasons(chunks, s.index) == []
        assert [index.chunks[i] for i in (0, 7, len(chunks) - 1)] == [chunks[0], chunks[7], chunks[-1]]
    assert where(out["faiss"][0]).endswith("index") and where(out["milvus"][0]).endswith("milvus.db")


def test_dense_route_hits_are_the_same_on_both_backends_with_and_without_filters(served, corpus, settings):
    _, out = served
    retrieval = settings.retrieval.model_copy(update={"route": "dense"})
    filters = [Filters(), Filters(doc_ids=("wg4-report-2017",)), Filters(bodies=("CoSP",))]
    got = {}
    for backend in ("faiss", "milvus"):
        _, index, encoder = out[backend]
        searcher = HybridSearcher(index, encoder, corpus, retrieval)
        got[backend] = [[h.chunk.id for h in hits] for f in filters for hits in searcher.search(QUESTIONS, f)]
    assert got["faiss"] == got["milvus"]
    assert all(got["faiss"])


def test_index_verify_full_catches_bit_rot_that_quick_lets_through(served, tmp_path):
    """``index.verify`` reaches the store: a byte flipped in vectors.npy with its size and mtime kept."""
    import os
    import shutil

    from rag.errors import IndexStateError

    s, _, encoder = served[1]["faiss"]
    directory = tmp_path / "index"
    shutil.copytree(s.path(s.index.dir), directory)
    target = directory / "vectors.npy"
    st = target.stat()
    data = bytearray(target.read_bytes())
    data[-1] ^= 0xFF
    target.write_bytes(bytes(data))
    os.utime(target, ns=(st.st_atime_ns, st.st_mtime_ns))
    for verify, fails in (("quick", False), ("full", True)):
        index = s.index.model_copy(update={"dir": directory, "verify": verify})
        settings = s.model_copy(update={"index": index})
        if fails:
            with pytest.raises(IndexStateError, match="vectors.npy does not match its checksum"):
                open_index(settings, encoder)
        else:
            assert open_index(settings, encoder).kind == "flat"
