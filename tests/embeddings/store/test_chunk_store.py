"""The SQLite chunk store: what is read back equals what was written (the records list as the oracle),
lookups by id / document / paragraph equal a scan of that list, the digest equals the list's, and a
damaged file is one IndexStateError naming the fix."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from embeddings.records import text_hash
from embeddings.store import chunk_store
from embeddings.store.chunk_store import ChunkStore, chunk_digest, write_chunks
from rag.corpus.records import Chunk
from rag.errors import CorpusError, IndexStateError
from tests.embeddings.store.support import corrupted


@pytest.fixture(scope="module")
def stored(tmp_path_factory, chunks):
    path = tmp_path_factory.mktemp("cs") / "chunks.sqlite"
    seen = []
    summary = write_chunks(path, chunks, batch_size=50, progress=seen.append)
    return path, summary, seen


def test_written_records_read_back_equal_by_index_slice_and_iteration(stored, chunks):
    path, summary, seen = stored
    assert sum(seen) == len(chunks) and max(seen) == 50  # streamed in batches, each reported
    assert (summary.n, summary.n_documents, summary.n_paragraphs) == (
        len(chunks), len({c.doc_id for c in chunks}), len({c.paragraph_id for c in chunks}))
    store = ChunkStore(path, Chunk, cache_size=16)
    assert len(store) == len(chunks)
    assert list(store) == chunks  # iteration in batches, in row order
    assert store[0] == chunks[0] and store[-1] == chunks[-1] and store[7] == chunks[7]
    assert store[10:20] == chunks[10:20] and store[::97] == chunks[::97] and store[5:2] == []
    assert store.get_many([9, 3, 9]) == [chunks[9], chunks[3], chunks[9]]
    assert len(store._cache) <= 16  # bounded whatever was read
    with pytest.raises(IndexError, match=f"chunk row {len(chunks)} out of range for {len(chunks)} chunks"):
        store[len(chunks)]
    with pytest.raises(TypeError, match="not str"):
        store["x"]


def test_lookups_equal_a_scan_of_the_records(stored, chunks):
    store = ChunkStore(stored[0], Chunk)
    assert all(store.position(c.id) == i for i, c in enumerate(chunks))
    assert store.position("no-such-id") is None
    docs = sorted({c.doc_id for c in chunks})
    for wanted in ({docs[0]}, set(docs[1:3]), {"unknown"}, set()):
        rows = store.rows_of_docs(wanted)
        assert rows.dtype == np.int64 and rows.tolist() == [i for i, c in enumerate(chunks) if c.doc_id in wanted]
    paras = [chunks[3].paragraph_id, chunks[200].paragraph_id]
    assert store.rows_of_paragraphs(paras).tolist() == [i for i, c in enumerate(chunks) if c.paragraph_id in paras]


def test_many_ids_are_looked_up_in_groups(stored, chunks, monkeypatch):
    monkeypatch.setattr(chunk_store, "MAX_PARAMS", 7)  # several IN (...) groups
    store = ChunkStore(stored[0], Chunk, cache_size=0)
    wanted = {c.paragraph_id for c in chunks[::3]}
    assert store.rows_of_paragraphs(wanted).tolist() == [i for i, c in enumerate(chunks) if c.paragraph_id in wanted]
    rows = list(range(0, len(chunks), 2))
    assert store.get_many(rows) == [chunks[i] for i in rows]


def test_digest_equals_the_list_comparison(stored, chunks):
    path, summary, _ = stored
    pairs = [(c.id, text_hash(c)) for c in chunks]
    assert list(ChunkStore(path, Chunk).ids_and_hashes()) == pairs
    assert summary.digest == chunk_digest(pairs)
    assert chunk_digest(pairs[1:] + pairs[:1]) != summary.digest  # order matters
    assert chunk_digest(pairs[:-1]) != summary.digest


def test_each_thread_reads_through_its_own_connection(stored, chunks):
    store = ChunkStore(stored[0], Chunk)
    errors, got = [], {}

    def read(t: int) -> None:
        try:
            got[t] = [store[i].id for i in range(t, len(chunks), 4)]
        except Exception as e:  # noqa: BLE001 - the test reports whatever a thread raised
            errors.append(e)

    threads = [threading.Thread(target=read, args=(t,)) for t in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert not errors and all(got[t] == [c.id for c in chunks[t::4]] for t in range(4))


def test_duplicate_id_is_named(tmp_path, chunks):
    with pytest.raises(CorpusError, match=f"chunk id {chunks[3].id!r} occurs twice"):
        write_chunks(tmp_path / "a.sqlite", chunks[:5] + [chunks[3]], batch_size=2)
    with pytest.raises(CorpusError, match=f"chunk id {chunks[0].id!r} occurs twice"):
        write_chunks(tmp_path / "b.sqlite", [chunks[0], chunks[0]])


def test_damaged_file_is_one_error_naming_the_fix(tmp_path, stored):
    path = tmp_path / "chunks.sqlite"
    data = stored[0].read_bytes()
    path.write_bytes(data[: len(data) // 3])
    with pytest.raises(IndexStateError, match=corrupted("chunks.sqlite is unreadable")):
        store = ChunkStore(path, Chunk, where="data/index")
        store.check()
        list(store)
    path.write_bytes(b"not a database" * 100)
    with pytest.raises(IndexStateError, match=corrupted("chunks.sqlite is unreadable")):
        ChunkStore(path, Chunk).check()
    path.unlink()
    with pytest.raises(IndexStateError, match=corrupted("chunks.sqlite is missing")):
        ChunkStore(path, Chunk).check()
