"""Loading the index: the round trip build -> load serves the same chunks and vectors (exact search as the oracle), stale reasons, other kinds, another model refused."""

from __future__ import annotations

import numpy as np
import pytest

from embeddings.records import text_hash
from rag.errors import IndexStateError
from tests.embeddings.fake_encoder import HashEncoder
from tests.embeddings.store.support import (
    QUERIES,
    build,
    edit,
    load,
)


def test_load_round_trip_serves_the_same_chunks_and_vectors(built, chunks, settings):
    directory, _, _ = built
    encoder = HashEncoder()
    index = load(directory, encoder, settings)
    assert list(index.chunks) == chunks and len(index.chunks) == len(chunks)  # frozen records compare by value
    assert isinstance(index.vectors, np.memmap) and not index.vectors.flags.writeable  # mapped, not read
    np.testing.assert_allclose(index.vectors, encoder.encode_passages([c.embed_text for c in chunks]), atol=1e-6)
    q = encoder.encode_queries(QUERIES)
    dense = index.search_dense(q, 10)
    exact = np.argsort(-(q @ index.vectors.T), axis=1, kind="stable")[:, :10]
    assert [[i for i, _ in row] for row in dense] == exact.tolist()
    assert index.position(chunks[7].id) == 7 and index.kind == "flat"
    assert index.stale_against(chunks) is False and index.stale_reasons(chunks, settings.index) == []


def test_bm25_in_the_store_finds_the_whistleblower_paragraph(built, settings):
    index = load(built[0], HashEncoder(), settings)
    hits = index.search_bm25(["举报人"], 5)[0]
    assert hits and "举报人" in index.chunks[hits[0][0]].text


def test_stale_reasons_name_corpus_and_config_changes(built, chunks, settings):
    index = load(built[0], HashEncoder(), settings)
    reasons = index.stale_reasons([edit(chunks[0], "x")] + chunks[1:], settings.index)
    assert reasons == ["the corpus changed (1 new or edited chunks, 1 removed)"]
    hnsw = settings.model_copy(update={"index": settings.index.model_copy(update={"kind": "hnsw"})})
    assert index.stale_reasons(chunks, hnsw.index) == ["index kind is 'flat', the config asks for 'hnsw'"]


def test_other_index_kinds_round_trip(tmp_path, small, settings):
    enc = HashEncoder()
    for kind in ("ivf", "hnsw"):
        s = settings.model_copy(update={"index": settings.index.model_copy(update={"kind": kind})})
        report = build(small, enc, s, directory=tmp_path / kind)
        index = load(tmp_path / kind, enc, s)
        assert report.kind == index.kind == index.manifest["index"]["kind"] == kind
        assert len(index.search_dense(enc.encode_queries(QUERIES), 5)[0]) == 5


def test_another_model_names_both_and_the_fix(built, settings):
    with pytest.raises(IndexStateError) as e:
        load(built[0], HashEncoder(salt="v2"), settings)
    msg = str(e.value)
    assert "built with model 'test/hash-bigrams'" in msg and "hash-bigrams-64" in msg and "hash-bigrams-64-v" in msg
    assert "fingerprint differs" in msg and msg.endswith("rebuild it with: uncac-qa ingest --rebuild")
    with pytest.raises(IndexStateError, match=r"\(dim 64, .*\(dim 32, .*: its dim differs"):
        load(built[0], HashEncoder(dim=32), settings)


@pytest.mark.slow
def test_real_encoder_refuses_an_index_from_another_model(encoder, built, settings):
    with pytest.raises(IndexStateError, match=rf"configured encoder is '{encoder.model_id}' \(dim 384"):
        load(built[0], encoder, settings)


def test_bm25_parameters_are_baked_in_so_a_change_is_stale(built, chunks, settings):
    index = load(built[0], HashEncoder(), settings)
    assert index.manifest["bm25"]["k1"] == 1.5 and index.manifest["bm25"]["b"] == 0.75
    other = settings.index.model_copy(update={"bm25_k1": 1.2})
    assert index.stale_reasons(chunks, other) == ["bm25_k1 changed to 1.2"]
    del index.manifest["bm25"]["k1"]  # an index built before k1 was a setting used the default
    assert index.stale_reasons(chunks, settings.index) == []


def old_stale_message(indexed, chunks):
    """The comparison stale_reasons made before the digest (the whole id + hash list): the oracle."""
    old, new = list(indexed), [(c.id, text_hash(c)) for c in chunks]
    if old == new:
        return []
    added, gone = len(set(new) - set(old)), len(set(old) - set(new))
    return [f"the corpus changed ({added} new or edited chunks, {gone} removed)" if added or gone else "the chunk order changed"]


def test_stale_digest_equals_the_list_comparison(built, chunks, settings):
    index = load(built[0], HashEncoder(), settings)
    pairs = [(c.id, text_hash(c)) for c in chunks]
    variants = [chunks, chunks[:-1], chunks[1:] + chunks[:1], [edit(chunks[3], "x")] + chunks, chunks[:100] + chunks[101:],
                [edit(c, "!") for c in chunks[:5]] + chunks[5:]]
    for v in variants:
        assert index.stale_reasons(v) == old_stale_message(pairs, v)
    assert index.stale_reasons(chunks) == [] and list(index.ids_and_hashes()) == pairs


def test_rows_of_docs_and_paragraphs_equal_a_scan(built, chunks, settings):
    index = load(built[0], HashEncoder(), settings)
    docs = sorted({c.doc_id for c in chunks})
    for wanted in ({docs[0]}, set(docs), {docs[-1], "unknown"}):
        assert index.rows_of_docs(wanted).tolist() == [i for i, c in enumerate(chunks) if c.doc_id in wanted]
        assert index.rows_of_docs(frozenset(wanted)).tolist() == index.rows_of_docs(wanted).tolist()  # cached
    assert "unknown" not in index._doc_rows
    para = chunks[42].paragraph_id
    assert index.rows_of_paragraphs([para]).tolist() == [i for i, c in enumerate(chunks) if c.paragraph_id == para]


def test_quick_verification_hashes_only_changed_files(copy, settings):
    import os

    from embeddings.store import VECTORS
    from embeddings.store.layout import read_manifest_file, verify_files

    manifest = read_manifest_file(copy)
    assert verify_files(copy, manifest, "i", "quick") == []  # a copy that kept mtimes: stats only
    assert len(verify_files(copy, manifest, "i", "full")) == len(manifest["files"])
    path = copy / VECTORS
    st = path.stat()
    data = bytearray(path.read_bytes())
    data[-5] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(IndexStateError, match="vectors.npy does not match its checksum"):
        load(copy, HashEncoder(), settings)  # quick by default: the new mtime makes it hash the file
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))  # bit rot that keeps size and mtime:
    load(copy, HashEncoder(), settings, verify="quick")  # quick does not see it ...
    with pytest.raises(IndexStateError, match="vectors.npy does not match its checksum"):
        load(copy, HashEncoder(), settings, verify="full")  # ... full does
    with pytest.raises(ValueError, match="verify='fast' is not supported, must be one of"):
        load(copy, HashEncoder(), settings, verify="fast")
