"""The on-disk format checks: a missing index, a changed/garbage/missing file, counts that disagree and a broken manifest each name the problem and the fix."""

from __future__ import annotations

import json
import sqlite3

import numpy as np
import pytest

from embeddings.store import (
    CHUNKS,
    DENSE,
    MANIFEST,
    VECTORS,
    display_path,
    read_manifest,
)
from rag.config import ROOT
from rag.errors import IndexStateError
from tests.embeddings.fake_encoder import HashEncoder
from tests.embeddings.store.support import (
    corrupted,
    load,
)


def test_missing_index_says_how_to_build_it(tmp_path, settings):
    with pytest.raises(IndexStateError, match=r"^no index at '.*nothing'; build it with: uncac-qa ingest$"):
        load(tmp_path / "nothing", HashEncoder(), settings)
    assert display_path(ROOT / "data" / "index", ROOT) == "data/index"
    assert read_manifest(tmp_path / "nothing") is None


def test_changed_file_fails_its_checksum(copy, settings):
    data = bytearray((copy / VECTORS).read_bytes())
    data[-5] ^= 0xFF  # one flipped byte in a vector: would silently serve a wrong vector
    (copy / VECTORS).write_bytes(bytes(data))
    with pytest.raises(IndexStateError, match=corrupted("vectors.npy does not match its checksum in manifest.json")):
        load(copy, HashEncoder(), settings)


def test_garbage_faiss_file_is_reported_even_without_checksums(copy, settings):
    (copy / DENSE).write_bytes((copy / DENSE).read_bytes()[:1000])
    with pytest.raises(IndexStateError, match="dense.faiss does not match"):
        load(copy, HashEncoder(), settings)
    with pytest.raises(IndexStateError, match=corrupted("dense.faiss' is not a readable FAISS index")):
        load(copy, HashEncoder(), settings, verify=False)


def test_counts_that_disagree_are_reported(copy, settings):
    vectors = np.load(copy / VECTORS)
    np.save(copy / VECTORS, vectors[:-1])
    with pytest.raises(IndexStateError, match=r"vectors.npy holds \(373, 64\) float32, the manifest says \(374, 64\)"):
        load(copy, HashEncoder(), settings, verify=False)
    np.save(copy / VECTORS, vectors)
    with sqlite3.connect(copy / CHUNKS) as conn:  # the last record gone
        conn.execute("DELETE FROM chunks WHERE row = (SELECT MAX(row) FROM chunks)")
    with pytest.raises(IndexStateError, match="counts disagree: {'chunks.sqlite': 373"):
        load(copy, HashEncoder(), settings, verify=False)


def test_missing_file_and_broken_manifest(copy, settings):
    (copy / "bm25" / "vocab.index.json").unlink()
    with pytest.raises(IndexStateError, match=corrupted("bm25/vocab.index.json is missing")):
        load(copy, HashEncoder(), settings)
    (copy / MANIFEST).write_text("{not json", encoding="utf-8")
    with pytest.raises(IndexStateError, match="manifest.json is unreadable"):
        load(copy, HashEncoder(), settings)
    (copy / MANIFEST).write_text(json.dumps({"format": 99}), encoding="utf-8")
    with pytest.raises(IndexStateError, match="has format 99, this version reads format 2; update it with: uncac-qa ingest"):
        load(copy, HashEncoder(), settings)


def test_garbage_chunk_database_is_reported_even_without_checksums(copy, settings):
    (copy / CHUNKS).write_bytes(b"SQLite format 3\0" + b"\xff" * 5000)
    with pytest.raises(IndexStateError, match=corrupted("chunks.sqlite does not match its checksum")):
        load(copy, HashEncoder(), settings)
    with pytest.raises(IndexStateError, match=corrupted("chunks.sqlite is unreadable")):
        load(copy, HashEncoder(), settings, verify=False)
