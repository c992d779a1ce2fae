"""The on-disk index: build → load round trip, incremental re-encoding, atomic replacement, and the
errors for a missing, mismatched or corrupted index. A hashing fake encoder keeps these fast; two tests
at the end use the real model."""

from __future__ import annotations

import dataclasses
import json
import os

import numpy as np
import pytest

from embeddings.store import (
    CHUNKS, DENSE, MANIFEST, VECTORS, build_index, display_path, load_index, read_manifest, text_hash,
)
from rag.config import ROOT
from rag.corpus.chunker import Chunker
from rag.corpus.records import Chunk
from rag.errors import CorpusError, IndexStateError
from tests.embeddings.fake_encoder import HashEncoder

QUERIES = ["如何保护举报人", "公职人员资产申报", "反腐败机构的独立性", "technical assistance"]


@pytest.fixture(scope="module")
def chunks(corpus) -> list[Chunk]:
    metas = {d.doc_id: d.meta for d in corpus.documents}
    return Chunker().chunk(corpus.paragraphs, metas)


@pytest.fixture(scope="module")
def small(chunks) -> list[Chunk]:
    return chunks[:60]


@pytest.fixture(scope="module")
def built(tmp_path_factory, chunks, settings):
    """The whole corpus indexed once with the fake encoder; tests copy or only read it."""
    directory = tmp_path_factory.mktemp("idx") / "index"
    encoder = HashEncoder()
    report = build_index(chunks, encoder, settings, directory=directory)
    return directory, report, encoder


def results(index, encoder) -> tuple:
    return index.search_dense(encoder.encode_queries(QUERIES), 10), index.search_bm25(QUERIES, 10)


def snapshot(directory) -> dict[str, bytes]:
    return {p.relative_to(directory).as_posix(): p.read_bytes() for p in sorted(directory.rglob("*")) if p.is_file()}


# --- build and load -----------------------------------------------------------------------------------

def test_build_report_and_layout(built, chunks):
    directory, report, encoder = built
    assert report.chunks == len(chunks) and report.encoded == encoder.calls == len({text_hash(c) for c in chunks})
    assert (report.reused, report.removed, report.kind) == (0, 0, "flat")
    assert report.documents == len({c.doc_id for c in chunks}) and report.paragraphs == len({c.paragraph_id for c in chunks})
    assert f"{report.chunks} chunks" in report.summary() and "flat index" in report.summary()
    names = {p.relative_to(directory).as_posix() for p in directory.rglob("*") if p.is_file()}
    assert {MANIFEST, VECTORS, DENSE, CHUNKS, "bm25/vocab.index.json"} <= names
    assert not list(directory.parent.glob(".index.tmp-*")) and not directory.with_name("index.old").exists()
    m = json.loads((directory / MANIFEST).read_text())
    assert m["encoder"] == {"model_id": "test/hash-bigrams", "fingerprint": encoder.fingerprint, "dim": 64}
    assert m["n_chunks"] == len(chunks) and [c[0] for c in m["chunks"]] == [c.id for c in chunks]
    assert set(m["files"]) == names - {MANIFEST} and m["chunking"]["max_tokens"] == 300
    assert m["index"]["kind"] == "flat" and m["built_at"]


def test_load_round_trip_serves_the_same_chunks_and_vectors(built, chunks, settings):
    directory, _, _ = built
    encoder = HashEncoder()
    index = load_index(directory, encoder, settings)
    assert index.chunks == chunks  # frozen records compare by value
    np.testing.assert_allclose(index.vectors, encoder.encode_passages([c.embed_text for c in chunks]), atol=1e-6)
    q = encoder.encode_queries(QUERIES)
    dense = index.search_dense(q, 10)
    exact = np.argsort(-(q @ index.vectors.T), axis=1, kind="stable")[:, :10]
    assert [[i for i, _ in row] for row in dense] == exact.tolist()
    assert index.position(chunks[7].id) == 7 and index.kind == "flat"
    assert index.stale_against(chunks) is False and index.stale_reasons(chunks, settings) == []


def test_bm25_in_the_store_finds_the_whistleblower_paragraph(built, settings):
    index = load_index(built[0], HashEncoder(), settings)
    hits = index.search_bm25(["举报人"], 5)[0]
    assert hits and "举报人" in index.chunks[hits[0][0]].text


# --- incremental ----------------------------------------------------------------------------------------

def edit(chunk: Chunk, suffix: str) -> Chunk:
    return dataclasses.replace(chunk, text=chunk.text + suffix, embed_text=chunk.embed_text + suffix, id="")


def test_editing_one_paragraph_encodes_only_that_chunk(tmp_path, small, settings):
    directory = tmp_path / "index"
    build_index(small, HashEncoder(), settings, directory=directory)
    changed = list(small)
    changed[5] = edit(small[5], "（已修订）")
    counting = HashEncoder()
    report = build_index(changed, counting, settings, directory=directory)
    assert counting.calls == report.encoded == 1
    assert (report.reused, report.removed, report.chunks) == (len(small) - 1, 1, len(small))
    index = load_index(directory, HashEncoder(), settings)
    np.testing.assert_allclose(index.vectors[5], HashEncoder().encode_passages([changed[5].embed_text])[0], atol=1e-6)
    assert index.stale_against(changed) is False and index.stale_against(small) is True

    fewer = changed[:50] + [small[59]]  # drop nine chunks: nothing to encode
    counting = HashEncoder()
    report = build_index(fewer, counting, settings, directory=directory)
    assert (counting.calls, report.encoded, report.removed, report.reused) == (0, 0, 9, 51)


def test_rebuild_and_another_encoder_reencode_everything(tmp_path, small, settings):
    directory = tmp_path / "index"
    build_index(small, HashEncoder(), settings, directory=directory)
    enc = HashEncoder()
    assert build_index(small, enc, settings, directory=directory, reuse=False).encoded == enc.calls == len(small)
    other = HashEncoder(salt="v2")
    report = build_index(small, other, settings, directory=directory)
    assert report.encoded == other.calls == len(small) and report.reused == 0
    assert load_index(directory, HashEncoder(salt="v2"), settings).manifest["encoder"]["fingerprint"].endswith("v2")


def test_stale_reasons_name_corpus_and_config_changes(built, chunks, settings):
    index = load_index(built[0], HashEncoder(), settings)
    reasons = index.stale_reasons([edit(chunks[0], "x")] + chunks[1:], settings)
    assert reasons == ["the corpus changed (1 new or edited chunks, 1 removed)"]
    hnsw = settings.model_copy(update={"index": settings.index.model_copy(update={"kind": "hnsw"})})
    assert index.stale_reasons(chunks, hnsw) == ["index kind is 'flat', the config asks for 'hnsw'"]


def test_other_index_kinds_round_trip(tmp_path, small, settings):
    enc = HashEncoder()
    for kind in ("ivf", "hnsw"):
        s = settings.model_copy(update={"index": settings.index.model_copy(update={"kind": kind})})
        report = build_index(small, enc, s, directory=tmp_path / kind)
        index = load_index(tmp_path / kind, enc, s)
        assert report.kind == index.kind == index.manifest["index"]["kind"] == kind
        assert len(index.search_dense(enc.encode_queries(QUERIES), 5)[0]) == 5


def test_empty_and_duplicate_chunks_are_refused(tmp_path, small, settings):
    with pytest.raises(CorpusError, match="no chunks"):
        build_index([], HashEncoder(), settings, directory=tmp_path / "i")
    with pytest.raises(CorpusError, match=f"chunk id '{small[0].id}' occurs twice"):
        build_index([small[0], small[0]], HashEncoder(), settings, directory=tmp_path / "i")
    assert not (tmp_path / "i").exists()


# --- atomicity ------------------------------------------------------------------------------------------

def test_crash_while_encoding_leaves_the_old_index_untouched(tmp_path, small, settings):
    directory = tmp_path / "index"
    build_index(small, HashEncoder(), settings, directory=directory)
    before = snapshot(directory)
    expected = results(load_index(directory, HashEncoder(), settings), HashEncoder())
    changed = [edit(c, "（修订）") for c in small]  # every chunk needs encoding; the encoder dies half-way
    with pytest.raises(RuntimeError, match="simulated crash"):
        build_index(changed, HashEncoder(fail_after=40), settings, directory=directory)
    assert snapshot(directory) == before
    assert results(load_index(directory, HashEncoder(), settings), HashEncoder()) == expected
    assert sorted(p.name for p in tmp_path.iterdir() if p.name != ".index.lock") == ["index"]  # no temp dir, no .old left behind


def test_failure_while_writing_or_swapping_leaves_the_old_index(tmp_path, small, settings, monkeypatch):
    import embeddings.store as store

    directory = tmp_path / "index"
    build_index(small, HashEncoder(), settings, directory=directory)
    before = snapshot(directory)
    changed = [edit(small[0], "新")] + small[1:]

    def disk_full(*_a, **_k):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(store, "_write_json", disk_full)  # the manifest, written last
    with pytest.raises(OSError, match="No space left"):
        build_index(changed, HashEncoder(), settings, directory=directory)
    monkeypatch.undo()
    assert snapshot(directory) == before

    real_replace = os.replace
    calls = []

    def second_rename_fails(src, dst):
        calls.append((src, dst))
        if len(calls) == 2:  # old moved aside, new not yet in place
            raise OSError("simulated crash between renames")
        return real_replace(src, dst)

    monkeypatch.setattr(store.os, "replace", second_rename_fails)
    with pytest.raises(OSError, match="between renames"):
        build_index(changed, HashEncoder(), settings, directory=directory)
    monkeypatch.undo()
    assert snapshot(directory) == before
    assert sorted(p.name for p in tmp_path.iterdir() if p.name != ".index.lock") == ["index"]


def test_crash_between_renames_is_served_from_old_and_recovered(tmp_path, small, settings):
    directory = tmp_path / "index"
    build_index(small, HashEncoder(), settings, directory=directory)
    expected = results(load_index(directory, HashEncoder(), settings), HashEncoder())
    os.replace(directory, tmp_path / "index.old")  # as if the process died after the first rename
    assert results(load_index(directory, HashEncoder(), settings), HashEncoder()) == expected
    assert read_manifest(directory)["n_chunks"] == len(small)
    report = build_index(small, HashEncoder(), settings, directory=directory)
    assert report.reused == len(small) and not (tmp_path / "index.old").exists()


# --- validation on load -----------------------------------------------------------------------------------

def test_missing_index_says_how_to_build_it(tmp_path, settings):
    with pytest.raises(IndexStateError, match=r"^no index at '.*nothing'; build it with: uncac-qa ingest$"):
        load_index(tmp_path / "nothing", HashEncoder(), settings)
    assert display_path(ROOT / "data" / "index") == "data/index"
    assert read_manifest(tmp_path / "nothing") is None


def test_another_model_names_both_and_the_fix(built, settings):
    with pytest.raises(IndexStateError) as e:
        load_index(built[0], HashEncoder(salt="v2"), settings)
    msg = str(e.value)
    assert "built with model 'test/hash-bigrams'" in msg and "hash-bigrams-64" in msg and "hash-bigrams-64-v" in msg
    assert "fingerprint differs" in msg and msg.endswith("rebuild it with: uncac-qa ingest --rebuild")
    with pytest.raises(IndexStateError, match=r"\(dim 64, .*\(dim 32, .*: its dim differs"):
        load_index(built[0], HashEncoder(dim=32), settings)


@pytest.fixture
def copy(built, tmp_path):
    import shutil

    directory = tmp_path / "index"
    shutil.copytree(built[0], directory)
    return directory


def corrupted(detail: str) -> str:
    """Pattern of the corrupted-index message with ``detail`` (a regex) in it."""
    return rf"^index at '.*' is corrupted: .*{detail}.*; rebuild it with: uncac-qa ingest --rebuild$"


def test_changed_file_fails_its_checksum(copy, settings):
    data = bytearray((copy / VECTORS).read_bytes())
    data[-5] ^= 0xFF  # one flipped byte in a vector: would silently serve a wrong vector
    (copy / VECTORS).write_bytes(bytes(data))
    with pytest.raises(IndexStateError, match=corrupted("vectors.npy does not match its checksum in manifest.json")):
        load_index(copy, HashEncoder(), settings)


def test_garbage_faiss_file_is_reported_even_without_checksums(copy, settings):
    (copy / DENSE).write_bytes((copy / DENSE).read_bytes()[:1000])
    with pytest.raises(IndexStateError, match="dense.faiss does not match"):
        load_index(copy, HashEncoder(), settings)
    with pytest.raises(IndexStateError, match=corrupted("dense.faiss' is not a readable FAISS index")):
        load_index(copy, HashEncoder(), settings, verify=False)


def test_counts_that_disagree_are_reported(copy, settings):
    vectors = np.load(copy / VECTORS)
    np.save(copy / VECTORS, vectors[:-1])
    with pytest.raises(IndexStateError, match=r"vectors.npy holds \(373, 64\) float32, the manifest says \(374, 64\)"):
        load_index(copy, HashEncoder(), settings, verify=False)
    np.save(copy / VECTORS, vectors)
    lines = (copy / CHUNKS).read_text(encoding="utf-8").splitlines()
    (copy / CHUNKS).write_text("\n".join(lines[:-1]) + "\n", encoding="utf-8")
    with pytest.raises(IndexStateError, match="counts disagree"):
        load_index(copy, HashEncoder(), settings, verify=False)


def test_missing_file_and_broken_manifest(copy, settings):
    (copy / "bm25" / "vocab.index.json").unlink()
    with pytest.raises(IndexStateError, match=corrupted("bm25/vocab.index.json is missing")):
        load_index(copy, HashEncoder(), settings)
    (copy / MANIFEST).write_text("{not json", encoding="utf-8")
    with pytest.raises(IndexStateError, match="manifest.json is unreadable"):
        load_index(copy, HashEncoder(), settings)
    (copy / MANIFEST).write_text(json.dumps({"format": 99}), encoding="utf-8")
    with pytest.raises(IndexStateError, match="has format 99, this version reads format 1; rebuild"):
        load_index(copy, HashEncoder(), settings)


def test_broken_previous_index_is_replaced_not_reused(copy, small, settings):
    (copy / VECTORS).write_bytes(b"junk")
    enc = HashEncoder()
    report = build_index(small, enc, settings, directory=copy)
    assert report.encoded == enc.calls == len(small) and report.reused == 0
    load_index(copy, HashEncoder(), settings)


# --- the real model -----------------------------------------------------------------------------------------

@pytest.mark.slow
def test_real_encoder_build_load_and_search(encoder, small, settings, tmp_path):
    subset = small[:8]
    report = build_index(subset, encoder, settings, directory=tmp_path / "index")
    assert report.encoded == 8 and report.kind == "flat"
    index = load_index(tmp_path / "index", encoder, settings)
    assert index.manifest["encoder"]["model_id"] == encoder.model_id and index.vectors.shape == (8, encoder.dim)
    # each chunk's own text, asked as a question, finds that chunk first
    probes = [0, 4, 7]
    hits = index.search_dense(encoder.encode_queries([subset[i].text for i in probes]), 3)
    assert [row[0][0] for row in hits] == probes
    again = build_index(subset, encoder, settings, directory=tmp_path / "index")
    assert (again.encoded, again.reused) == (0, 8)


@pytest.mark.slow
def test_real_encoder_refuses_an_index_from_another_model(encoder, built, settings):
    with pytest.raises(IndexStateError, match=rf"configured encoder is '{encoder.model_id}' \(dim 384"):
        load_index(built[0], encoder, settings)
