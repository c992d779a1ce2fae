"""Building the index: the report and layout, incremental re-encoding, refused inputs, and atomic replacement (a crash or a failed write leaves the old index)."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest

from embeddings.store import (
    CHUNKS,
    DENSE,
    FORMAT_VERSION,
    MANIFEST,
    VECTORS,
    building,
    read_manifest,
    text_hash,
    vector_cache,
)
from embeddings.store.chunk_store import chunk_digest
from embeddings.store.layout import file_stat, vector_cache_dir
from rag.errors import CorpusError, IndexStateError
from tests.embeddings.fake_encoder import HashEncoder
from tests.embeddings.store.support import (
    build,
    edit,
    load,
    results,
    snapshot,
)


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
    assert m["n_chunks"] == len(chunks) and m["chunks_digest"] == chunk_digest((c.id, text_hash(c)) for c in chunks)
    assert m["format"] == FORMAT_VERSION == 2 and "chunks" not in m  # the id list lives in chunks.sqlite now
    assert set(m["files"]) == set(m["stats"]) == names - {MANIFEST} and m["chunking"]["max_tokens"] == 300
    assert all(m["stats"][name] == file_stat(directory / name) for name in m["stats"])
    assert m["index"]["kind"] == "flat" and m["built_at"]


def test_editing_one_paragraph_encodes_only_that_chunk(tmp_path, small, settings):
    directory = tmp_path / "index"
    build(small, HashEncoder(), settings, directory=directory)
    changed = list(small)
    changed[5] = edit(small[5], "（已修订）")
    counting = HashEncoder()
    report = build(changed, counting, settings, directory=directory)
    assert counting.calls == report.encoded == 1
    assert (report.reused, report.removed, report.chunks) == (len(small) - 1, 1, len(small))
    index = load(directory, HashEncoder(), settings)
    np.testing.assert_allclose(index.vectors[5], HashEncoder().encode_passages([changed[5].embed_text])[0], atol=1e-6)
    assert index.stale_against(changed) is False and index.stale_against(small) is True

    fewer = changed[:50] + [small[59]]  # drop nine chunks: nothing to encode
    counting = HashEncoder()
    report = build(fewer, counting, settings, directory=directory)
    assert (counting.calls, report.encoded, report.removed, report.reused) == (0, 0, 9, 51)


def test_rebuild_and_another_encoder_reencode_everything(tmp_path, small, settings):
    directory = tmp_path / "index"
    build(small, HashEncoder(), settings, directory=directory)
    enc = HashEncoder()
    assert build(small, enc, settings, directory=directory, reuse=False).encoded == enc.calls == len(small)
    other = HashEncoder(salt="v2")
    report = build(small, other, settings, directory=directory)
    assert report.encoded == other.calls == len(small) and report.reused == 0
    assert load(directory, HashEncoder(salt="v2"), settings).manifest["encoder"]["fingerprint"].endswith("v2")


def test_empty_and_duplicate_chunks_are_refused(tmp_path, small, settings):
    with pytest.raises(CorpusError, match="no chunks"):
        build([], HashEncoder(), settings, directory=tmp_path / "i")
    with pytest.raises(CorpusError, match=f"chunk id '{small[0].id}' occurs twice"):
        build([small[0], small[0]], HashEncoder(), settings, directory=tmp_path / "i")
    assert not (tmp_path / "i").exists()


def test_crash_while_encoding_leaves_the_old_index_untouched(tmp_path, small, settings):
    directory = tmp_path / "index"
    build(small, HashEncoder(), settings, directory=directory)
    before = snapshot(directory)
    expected = results(load(directory, HashEncoder(), settings), HashEncoder())
    changed = [edit(c, "（修订）") for c in small]  # every chunk needs encoding; the encoder dies half-way
    with pytest.raises(RuntimeError, match="simulated crash"):
        build(changed, HashEncoder(fail_after=40), settings, directory=directory)
    assert snapshot(directory) == before
    assert results(load(directory, HashEncoder(), settings), HashEncoder()) == expected
    # no temp dir, no .old left behind; the vector cache beside the index keeps what was encoded
    assert sorted(p.name for p in tmp_path.iterdir() if p.name != ".index.lock") == ["index", "index.tokens.sqlite", "index.vectors"]


def test_failure_while_writing_or_swapping_leaves_the_old_index(tmp_path, small, settings, monkeypatch):
    directory = tmp_path / "index"
    build(small, HashEncoder(), settings, directory=directory)
    before = snapshot(directory)
    changed = [edit(small[0], "新")] + small[1:]

    def disk_full(*_a, **_k):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(building, "write_json", disk_full)  # the manifest, written last
    with pytest.raises(OSError, match="No space left"):
        build(changed, HashEncoder(), settings, directory=directory)
    monkeypatch.undo()
    assert snapshot(directory) == before

    real_replace = os.replace
    calls = []

    def second_rename_fails(src, dst):
        calls.append((src, dst))
        if len(calls) == 2:  # old moved aside, new not yet in place
            raise OSError("simulated crash between renames")
        return real_replace(src, dst)

    monkeypatch.setattr(os, "replace", second_rename_fails)
    with pytest.raises(OSError, match="between renames"):
        build(changed, HashEncoder(), settings, directory=directory)
    monkeypatch.undo()
    assert snapshot(directory) == before
    assert sorted(p.name for p in tmp_path.iterdir() if p.name != ".index.lock") == ["index", "index.tokens.sqlite", "index.vectors"]


def test_broken_previous_index_is_replaced_not_reused(copy, small, settings):
    (copy / VECTORS).write_bytes(b"junk")
    enc = HashEncoder()
    report = build(small, enc, settings, directory=copy)
    assert report.encoded == enc.calls == len(small) and report.reused == 0
    load(copy, HashEncoder(), settings)


@pytest.mark.slow
def test_real_encoder_build_load_and_search(encoder, small, settings, tmp_path):
    subset = small[:8]
    report = build(subset, encoder, settings, directory=tmp_path / "index")
    assert report.encoded == 8 and report.kind == "flat"
    index = load(tmp_path / "index", encoder, settings)
    assert index.manifest["encoder"]["model_id"] == encoder.model_id and index.vectors.shape == (8, encoder.dim)
    # each chunk's own text, asked as a question, finds that chunk first
    probes = [0, 4, 7]
    hits = index.search_dense(encoder.encode_queries([subset[i].text for i in probes]), 3)
    assert [row[0][0] for row in hits] == probes
    again = build(subset, encoder, settings, directory=tmp_path / "index")
    assert (again.encoded, again.reused) == (0, 8)


def test_killed_build_resumes_without_reencoding_finished_shards(tmp_path, small, settings, monkeypatch):
    monkeypatch.setattr(vector_cache, "SHARD_SIZE", 16)  # several shards out of 60 chunks
    directory = tmp_path / "index"
    texts = {text_hash(c) for c in small}
    with pytest.raises(RuntimeError, match="simulated crash"):
        build(small, HashEncoder(fail_after=40), settings, directory=directory)  # dies in its third shard
    assert not directory.exists() and len(list((vector_cache_dir(directory)).rglob("shard-*.npz"))) == 2
    resumed = HashEncoder()
    report = build(small, resumed, settings, directory=directory, progress=True)
    assert resumed.calls == report.encoded == len(texts) - 32 and report.reused == len(small) - report.encoded
    oracle = HashEncoder().encode_passages([c.embed_text for c in small])  # as if never interrupted
    np.testing.assert_allclose(load(directory, HashEncoder(), settings).vectors, oracle, atol=1e-6)

    counting = HashEncoder()  # --rebuild: everything encoded again, neither the index nor the cache reused
    report = build(small, counting, settings, directory=directory, reuse=False)
    assert counting.calls == report.encoded == len(texts) and report.reused == len(small) - len(texts)
    np.testing.assert_allclose(load(directory, HashEncoder(), settings).vectors, oracle, atol=1e-6)


def test_vectors_come_from_the_cache_when_the_previous_index_lacks_them(tmp_path, small, settings):
    first, second = tmp_path / "a" / "index", tmp_path / "b" / "index"
    build(small, HashEncoder(), settings, directory=first)
    second.parent.mkdir()
    vector_cache_dir(first).rename(vector_cache_dir(second))  # a cache, but no previous index
    counting = HashEncoder()
    report = build(small[:30], counting, settings, directory=second)
    assert (counting.calls, report.encoded, report.reused, report.removed) == (0, 0, 30, 0)
    assert np.array_equal(load(second, HashEncoder(), settings).vectors, load(first, HashEncoder(), settings).vectors[:30])


def test_a_format_1_index_is_refused_in_one_line_and_its_vectors_reused(copy, chunks, settings):
    """A format-1 index (chunks.jsonl, ids and hashes in the manifest), made from a format-2 one."""
    import dataclasses

    m = json.loads((copy / MANIFEST).read_text())
    with (copy / "chunks.jsonl").open("w", encoding="utf-8") as f:
        for c in chunks:
            f.write(json.dumps(dataclasses.asdict(c), ensure_ascii=False) + "\n")
    (copy / CHUNKS).unlink()
    m.update(format=1, chunks=[[c.id, text_hash(c)] for c in chunks])
    del m["chunks_digest"], m["stats"]
    m["files"] = {n: building.fsutil.sha256_file(copy / n) for n in ("vectors.npy", "dense.faiss", "chunks.jsonl")}
    (copy / MANIFEST).write_text(json.dumps(m), encoding="utf-8")
    with pytest.raises(IndexStateError, match=r"has format 1, this version reads format 2; update it with: uncac-qa ingest \(its vectors are reused\)$"):
        load(copy, HashEncoder(), settings)
    assert read_manifest(copy)["format"] == 1  # its added documents stay readable
    counting = HashEncoder()
    report = build(chunks[:-3], counting, settings, directory=copy)
    assert (counting.calls, report.encoded, report.reused, report.removed) == (0, 0, len(chunks) - 3, 3)
    index = load(copy, HashEncoder(), settings)
    assert list(index.chunks) == chunks[:-3] and not (copy / "chunks.jsonl").exists()
