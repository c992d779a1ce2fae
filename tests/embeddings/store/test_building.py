"""Building the index: the report and layout, incremental re-encoding, refused inputs, and atomic replacement (a crash or a failed write leaves the old index)."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest

from embeddings.store import (
    CHUNKS,
    DENSE,
    MANIFEST,
    VECTORS,
    building,
    text_hash,
)
from rag.errors import CorpusError
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
    assert m["n_chunks"] == len(chunks) and [c[0] for c in m["chunks"]] == [c.id for c in chunks]
    assert set(m["files"]) == names - {MANIFEST} and m["chunking"]["max_tokens"] == 300
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
    assert sorted(p.name for p in tmp_path.iterdir() if p.name != ".index.lock") == ["index"]  # no temp dir, no .old left behind


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
    assert sorted(p.name for p in tmp_path.iterdir() if p.name != ".index.lock") == ["index"]


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
