"""Build an index directory atomically and incrementally.

Atomic: a build writes into a temporary directory beside the target (same filesystem), fsyncs it, then
swaps it in (:func:`embeddings.fsutil.replace_dir`), holding the index lock throughout
(:mod:`embeddings.store.recovery`). An exception or a crash mid-build leaves the previous index
serving, untouched.

Incremental: a chunk's vector comes from the previous index when it holds the same embedded text
and was built by the same encoder (format 1 indexes too, so upgrading re-encodes nothing), else from
the passage-vector cache beside the index (:class:`embeddings.store.vector_cache.VectorCache`,
``<dir>.vectors``); only texts neither holds are encoded, one cache shard at a time, so a build that
is killed while encoding resumes after its last finished shard. ``reuse=False`` (``ingest --rebuild``)
encodes everything and writes it over the cached vectors (so a killed rebuild resumes too).

Streaming, with bounded extra memory: records go into chunks.sqlite in batches, vectors into
vectors.npy through a memory map (``ROW_BATCH`` rows at a time, or one encoded shard at a time), and
from there into FAISS; what grows with the corpus is the list of text hashes, the rows still to encode
and, for an incremental build, the previous index's hash -> row table (each ~100-200 B a chunk),
besides what FAISS and BM25 themselves hold. Measured at 1M synthetic 384-d chunks (BM25 stubbed):
peak anonymous memory 1.8 GB above the input records, 1.5 GB of it the flat FAISS index. A tqdm bar on
stderr shows each step (storing chunks, reading vectors, encoding, indexing) with counts.

Example::

    report = build_index(chunks, encoder, settings.index, settings.embeddings, directory=directory,
                         chunking=settings.chunking.model_dump(mode="json"))
    print(report.summary())
"""

from __future__ import annotations

import dataclasses
import logging
import shutil
import sqlite3
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

import numpy as np

from embeddings import fsutil
from embeddings.encoders.base import Encoder
from embeddings.errors import CorpusError, IndexStateError
from embeddings.index.base import DenseIndex
from embeddings.index.factory import create_dense_index
from embeddings.records import IndexRecord, text_hash
from embeddings.settings import EmbeddingsSettings, IndexSettings
from embeddings.sparse.bm25 import TOKENIZER_VERSION, BM25Index
from embeddings.sparse.token_cache import TokenCache
from embeddings.store import vector_cache
from embeddings.store.chunk_store import ChunkStore, chunk_digest, write_chunks
from embeddings.store.layout import (
    BM25_DIR,
    BM25_FIELD,
    CHUNKS,
    DENSE,
    FORMAT_VERSION,
    MANIFEST,
    READABLE_FORMATS,
    VECTORS,
    check_file,
    data_files,
    dir_bytes,
    display_path,
    file_stat,
    read_manifest_file,
    source_of,
    token_cache_path,
    vector_cache_dir,
    write_json,
)
from embeddings.store.recovery import build_lock, clean_leftovers
from embeddings.store.vector_cache import VectorCache

logger = logging.getLogger("embeddings.store")

#: Rows per step when vectors.npy is filled and FAISS is fed: 8,192 x 384 float32 = 12 MB at a time.
ROW_BATCH = 8192
#: A build step shows its progress bar once it has run this long (storing chunks, reading vectors,
#: indexing: seconds at a million chunks, milliseconds on the shipped corpus).
BAR_DELAY_S = 2.0


@dataclass(frozen=True)
class BuildReport:
    """What a build did; ``summary()`` is what ``uncac-qa ingest`` prints."""

    directory: Path
    documents: int
    paragraphs: int
    chunks: int
    encoded: int  # distinct chunk texts the encoder embedded in this build
    reused: int  # chunks whose vector was copied from the previous index
    removed: int  # chunks of the previous index that are gone
    seconds: float
    encode_seconds: float
    kind: str  # concrete dense index kind: flat / ivf / hnsw
    bytes: int  # size of the index directory
    root: Path | None = None  # the summary names the directory relative to this one

    def summary(self) -> str:
        return (
            f"indexed {self.documents} documents, {self.paragraphs} paragraphs, {self.chunks} chunks "
            f"({self.encoded} encoded, {self.reused} reused, {self.removed} removed) "
            f"in {self.seconds:.1f}s (encoding {self.encode_seconds:.1f}s); "
            f"{self.kind} index, {self.bytes / 1e6:.1f} MB at {display_path(self.directory, self.root)}"
        )


@dataclass
class _Previous:
    """What the previous index offers this build: its vectors (memory-mapped) by text hash, and its
    chunk ids (a ChunkStore, or format 1's list) to count the removed ones."""

    rows: dict[str, int]  # text hash -> a row of ``vectors`` holding its vector
    vectors: np.ndarray | None
    ids: ChunkStore | list[str]

    @classmethod
    def none(cls) -> _Previous:
        return cls({}, None, [])

    def vector_rows(self, hashes: Sequence[str]) -> list[int | None]:
        return [self.rows.get(h) for h in hashes]


def _previous(directory: Path, encoder: Encoder, root: Path | None) -> _Previous:
    """Reusable vectors of the previous index keyed by text hash, and its chunk ids.

    Reads both formats: format 2 (ids and hashes in chunks.sqlite) and format 1 (in the manifest,
    an index built before chunks.sqlite), so upgrading re-encodes nothing. Its vectors.npy is checked
    as a load checks it (quick: sha256 only when size or mtime changed) and memory-mapped. Anything
    wrong with it (another encoder, damaged files) means nothing is reused; it is never an error,
    since this build replaces it.
    """
    source = source_of(directory)
    if source is None:
        return _Previous.none()
    where = display_path(source, root)
    ids: ChunkStore | list[str] = []
    try:
        manifest = read_manifest_file(source, where, formats=READABLE_FORMATS)
        if manifest["format"] == 1:
            pairs = [(c[0], c[1]) for c in manifest["chunks"]]
            ids = [c for c, _ in pairs]
        else:
            ids = ChunkStore(source / CHUNKS, dict, where=where, cache_size=0)
            ids.check()
            pairs = list(ids.ids_and_hashes())
            if chunk_digest(pairs) != manifest["chunks_digest"]:
                raise ValueError(f"{CHUNKS} does not hold the chunks the manifest lists")
        enc = manifest["encoder"]
        if (enc["model_id"], enc["dim"], enc["fingerprint"]) != (encoder.model_id, encoder.dim, encoder.fingerprint):
            logger.info("previous index was built by another encoder: re-encoding everything")
            return _Previous({}, None, ids)
        check_file(source, VECTORS, manifest["files"][VECTORS], (manifest.get("stats") or {}).get(VECTORS), where,
                   mode="quick")
        vectors = np.load(source / VECTORS, mmap_mode="r", allow_pickle=False)
        if vectors.shape != (len(pairs), enc["dim"]) or vectors.dtype != np.float32:
            raise ValueError(f"{VECTORS} shape {vectors.shape} {vectors.dtype}")
        return _Previous({h: i for i, (_, h) in enumerate(pairs)}, vectors, ids)
    except (IndexStateError, OSError, ValueError, EOFError, KeyError, TypeError, IndexError) as e:
        logger.warning("previous index at %s is not reusable (%s): re-encoding everything",
                       display_path(directory, root), e)
        return _Previous.none()


def _bar(progress: bool, total: int, desc: str, unit: str, delay: float = BAR_DELAY_S):
    """A tqdm bar on stderr with counts, shown only when ``progress`` and the step lasts ``delay`` seconds
    (a small corpus's steps take milliseconds and print nothing; encoding passes 0: always shown)."""
    from tqdm import tqdm

    return tqdm(total=total, desc=desc, unit=unit, file=sys.stderr, disable=not (progress and total), delay=delay)


def _write_vectors(path: Path, chunks: Sequence[IndexRecord], hashes: Sequence[str], previous: _Previous,
                   cache: VectorCache, dim: int, batch_size: int, progress: bool,
                   reuse: bool = True) -> tuple[set[str], float]:
    """vectors.npy filled through a memory map (the matrix is never built in the heap); returns the
    hashes encoded now and the seconds spent encoding them.

    First the rows the previous index or the cache holds (``ROW_BATCH`` rows at a time; none under
    ``reuse=False``), then every other distinct text is encoded through ``cache`` (written over the
    cached vector under ``reuse=False``): longest first (batches pad little), one cache shard per
    ``cache.shard_size`` texts, each shard's vectors written straight into their rows, so a killed
    build keeps every finished shard, the next one resumes after it, and nothing encoded is read back.
    """
    out = np.lib.format.open_memmap(path, mode="w+", dtype=np.float32, shape=(len(hashes), dim))
    todo: dict[str, list[int]] = {}  # text hash -> the rows that need it encoded
    with _bar(progress, len(hashes), "reading vectors", "chunk") as bar:
        for start in range(0, len(hashes), ROW_BATCH):
            part = hashes[start : start + ROW_BATCH]
            old = previous.vector_rows(part) if reuse else [None] * len(part)
            have = [j for j, r in enumerate(old) if r is not None]
            if have:
                out[start + np.asarray(have)] = previous.vectors[[old[j] for j in have]]
            rest = [j for j, r in enumerate(old) if r is None]
            got = cache.lookup(part[j] for j in rest) if reuse and rest else {}
            if got:
                rows = [j for j in rest if part[j] in got]
                out[start + np.asarray(rows)] = np.stack([got[part[j]] for j in rows])
            for j in rest:
                if part[j] not in got:
                    todo.setdefault(part[j], []).append(start + j)
            bar.update(len(part))
    order = sorted(todo, key=lambda h: -len(chunks[todo[h][0]].embed_text))
    t0 = time.perf_counter()
    with _bar(progress, len(order), "encoding", "chunk", delay=0) as bar:
        for start in range(0, len(order), cache.shard_size):
            part = order[start : start + cache.shard_size]
            vecs = cache.encode([chunks[todo[h][0]].embed_text for h in part], batch_size=batch_size, reuse=reuse)
            for h, v in zip(part, vecs):
                out[todo[h]] = v
            bar.update(len(part))
    seconds = time.perf_counter() - t0
    out.flush()
    del out
    return set(todo), seconds


def _add_vectors(dense: DenseIndex, vectors: np.ndarray, progress: bool) -> None:
    """Add ``vectors`` to ``dense`` ``ROW_BATCH`` rows at a time (FAISS copies each batch; nothing else
    is held). An index that trains on its first batch (IVF k-means, SQ ranges, PQ codebooks) gets
    every vector in one call instead, so that it trains on a sample of the whole corpus rather than on
    its first documents."""
    trains = dense.kind == "ivf" or getattr(dense, "compression", "none") != "none"
    step = len(vectors) if trains else ROW_BATCH
    with _bar(progress, len(vectors), "indexing", "vector") as bar:
        for start in range(0, len(vectors), step):
            dense.add(vectors[start : start + step])
            bar.update(min(step, len(vectors) - start))


def _write_tree(tmp: Path, dense: DenseIndex, bm25: BM25Index, manifest: dict[str, Any]) -> None:
    """The rest of the files into ``tmp`` (chunks.sqlite and vectors.npy are there already); the
    manifest (with the data files' checksums and stats) last; all fsynced."""
    dense.save(tmp / DENSE)
    bm25.save(tmp / BM25_DIR)
    names = data_files(tmp)
    manifest["files"] = {name: fsutil.sha256_file(tmp / name) for name in names}
    manifest["stats"] = {name: file_stat(tmp / name) for name in names}
    write_json(tmp / MANIFEST, manifest)
    for p in sorted(tmp.rglob("*"), key=lambda p: -len(p.parts)):  # files and sub-dirs, deepest first
        fsutil.fsync_path(p)
    fsutil.fsync_path(tmp)


def _removed(previous: _Previous, new_chunks: Path) -> int:
    """Chunks of the previous index whose id the new one lacks (SQLite joins the two UNIQUE id indexes
    when the previous one has a chunks.sqlite, so no id set is built)."""
    if isinstance(previous.ids, ChunkStore):
        # URIs, so that the previous index is attached read-only and a bad path never creates a file
        conn = sqlite3.connect(f"file:{quote(str(new_chunks))}?mode=ro", uri=True)
        try:
            conn.execute("ATTACH DATABASE ? AS old", (f"file:{quote(str(previous.ids.path))}?mode=ro&immutable=1",))
            (n,), = conn.execute("SELECT COUNT(*) FROM old.chunks WHERE id NOT IN (SELECT id FROM main.chunks)").fetchall()
        except sqlite3.Error:
            return 0
        finally:
            conn.close()
        return int(n)
    if not previous.ids:
        return 0
    store = ChunkStore(new_chunks, dict, cache_size=0)
    return sum(store.position(i) is None for i in previous.ids)


def build_index(
    chunks: Sequence[IndexRecord],
    encoder: Encoder,
    index: IndexSettings,
    embeddings: EmbeddingsSettings,
    *,
    directory: str | Path,
    chunking: Mapping[str, Any] | None = None,
    root: Path | None = None,
    progress: bool = False,
    reuse: bool = True,
    meta: Mapping[str, Any] | None = None,
) -> BuildReport:
    """Embed ``chunks`` and write the dense + BM25 index to ``directory``, atomically.

    Args:
        chunks: the records to index (dataclasses, see :mod:`embeddings.records`), in order (ids become
            positions 0..n-1).
        encoder: passage encoder; loaded here if it is not yet.
        index: index kind and parameters (recorded in the manifest).
        embeddings: encoding batch size, build and search threads.
        directory: target, resolved; its parent is created.
        chunking: how the records were made (JSON-able; recorded in the manifest as "chunking").
        root: messages and the report name the directory relative to this one (the project root).
        progress: show a tqdm bar over encoding on stderr.
        reuse: copy vectors of unchanged chunks from the previous index (False: encode everything).
        meta: extra JSON-able facts stored in the manifest under "meta" (e.g. user files added).

    Returns a BuildReport. On any exception the previous index is left as it was. Waits (saying so on
    the log) while another build of the same directory runs.
    """
    t0 = time.perf_counter()
    if not chunks:
        raise CorpusError("nothing to index: the corpus yielded no chunks")
    directory = Path(directory)
    directory.parent.mkdir(parents=True, exist_ok=True)
    with build_lock(directory, root):
        clean_leftovers(directory, root)
        tmp = Path(tempfile.mkdtemp(prefix=fsutil.temp_prefix(directory), dir=directory.parent))
        try:
            report = _build(tmp, chunks, encoder, index, embeddings, directory=directory, chunking=chunking, root=root,
                            progress=progress, reuse=reuse, meta=meta)
            fsutil.replace_dir(tmp, directory)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        return dataclasses.replace(report, seconds=time.perf_counter() - t0, bytes=dir_bytes(directory))


def _build(tmp: Path, chunks: Sequence[IndexRecord], encoder: Encoder, index: IndexSettings,
           embeddings: EmbeddingsSettings, *, directory: Path, chunking: Mapping[str, Any] | None,
           root: Path | None, progress: bool, reuse: bool, meta: Mapping[str, Any] | None) -> BuildReport:
    """Every data file of the index into ``tmp``, then its manifest; the report (without the final
    size and time, which the caller fills in after the swap)."""
    with _bar(progress, len(chunks), "storing chunks", "chunk") as bar:  # also refuses duplicate ids
        summary = write_chunks(tmp / CHUNKS, chunks, progress=bar.update)
    encoder.load()
    dim = encoder.dim
    previous = _previous(directory, encoder, root)
    removed = _removed(previous, tmp / CHUNKS)
    cache = VectorCache(vector_cache_dir(directory), encoder, shard_size=vector_cache.SHARD_SIZE)
    if not reuse:  # --rebuild: nothing from the old index; every text encoded and written over the cache
        previous = _Previous({}, None, previous.ids)  # (a killed rebuild resumes with a plain ingest)
    hashes = [text_hash(c) for c in chunks]

    encoded, encode_seconds = _write_vectors(tmp / VECTORS, chunks, hashes, previous, cache, dim,
                                             embeddings.batch_size, progress, reuse)
    reused = sum(h not in encoded for h in hashes)  # from the previous index or the cache
    del cache  # let go of the cache's shards and the old index's memory map and hash table
    previous = _Previous.none()
    vectors = np.load(tmp / VECTORS, mmap_mode="r", allow_pickle=False)

    dense = create_dense_index(
        index.kind, len(chunks), dim, index,
        build_threads=embeddings.index_threads, search_threads=embeddings.query_threads,
    )
    _add_vectors(dense, vectors, progress)
    del vectors
    # Tokens of unchanged texts come from the token cache beside the index: only new text is segmented.
    tokens = TokenCache(token_cache_path(directory)).tokenize([getattr(c, BM25_FIELD) for c in chunks])
    bm25 = BM25Index.from_tokens(tokens, k1=index.bm25_k1, b=index.bm25_b)
    del tokens

    manifest: dict[str, Any] = {
        "format": FORMAT_VERSION,
        "encoder": {"model_id": encoder.model_id, "fingerprint": encoder.fingerprint, "dim": dim},
        "index": {
            "kind": dense.kind,
            "config": index.model_dump(mode="json", exclude={"dir"}),
            **({"nlist": int(dense.nlist)} if hasattr(dense, "nlist") else {}),
            "compression": getattr(dense, "compression", "none"),  # what the file holds (flat: none)
        },
        "bm25": {"field": BM25_FIELD, "tokenizer": TOKENIZER_VERSION, "k1": index.bm25_k1, "b": index.bm25_b},
        "chunking": dict(chunking or {}),
        "n_documents": summary.n_documents,
        "n_paragraphs": summary.n_paragraphs,
        "n_chunks": summary.n,
        "built_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "encode_seconds": round(encode_seconds, 3),
        "meta": dict(meta or {}),
        "chunks_digest": summary.digest,
    }
    _write_tree(tmp, dense, bm25, manifest)
    return BuildReport(
        directory=directory, documents=summary.n_documents, paragraphs=summary.n_paragraphs, chunks=summary.n,
        encoded=len(encoded), reused=reused, removed=removed,
        seconds=0.0, encode_seconds=encode_seconds, kind=dense.kind, bytes=0, root=root,
    )
