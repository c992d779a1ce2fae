"""Load an index directory with every check, into a :class:`LoadedIndex` that searches it.

Checked on load: a missing index, another model, a file whose sha256 differs from the manifest, an
unreadable FAISS/BM25/SQLite file, a file the process may not read, or mismatched counts each raise
IndexStateError naming the problem and the command that fixes it. Wrong vectors are never served
silently.

Nothing proportional to the corpus is read into the heap here: vectors.npy is memory-mapped, the
records stay in chunks.sqlite (:class:`~embeddings.store.chunk_store.ChunkStore`, read on demand), the
FAISS index is memory-mapped too under ``index.mmap``, and the file checks default to ``"quick"``
(sha256 only of files whose size or mtime changed; ``"full"`` hashes ~4 GB at a million chunks, ~6 s).

Example::

    index = load_index(directory, encoder, settings.index, settings.embeddings, record_type=Chunk)
    index.search_dense(encoder.encode_queries(["资产申报"]), k=5)   # [[(chunk_index, score), ...]]
    index.search_bm25(["资产申报"], k=5)
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Generic, TypeVar

import numpy as np

from embeddings.encoders.base import Encoder
from embeddings.errors import IndexStateError
from embeddings.index.base import DenseIndex
from embeddings.index.factory import load_dense_index, resolve_kind
from embeddings.records import IndexRecord, text_hash
from embeddings.search_index import DocScope, scopes
from embeddings.settings import EmbeddingsSettings, IndexSettings
from embeddings.sparse.bm25 import BM25Index
from embeddings.store.chunk_store import CACHE_SIZE, ChunkStore, chunk_digest
from embeddings.store.layout import (
    BM25_DIR,
    BUILD_HINT,
    CHUNKS,
    DENSE,
    MANIFEST,
    REBUILD_HINT,
    VECTORS,
    VERIFY_MODES,
    corrupted,
    display_path,
    read_manifest_file,
    source_of,
    unreadable,
    verify_files,
)
from embeddings.store.recovery import recover_index

logger = logging.getLogger("embeddings.store")

R = TypeVar("R", bound=IndexRecord)

_BM25_DEFAULTS = {"k1": IndexSettings.model_fields["bm25_k1"].default, "b": IndexSettings.model_fields["bm25_b"].default}


@dataclass
class LoadedIndex(Generic[R]):
    """A validated index: records (chunks), their vectors, the dense and BM25 indexes, and the manifest.

    Row i of ``vectors``, id i of ``dense`` and ``bm25`` and ``chunks[i]`` are the same chunk.
    ``chunks`` is a read-only sequence over chunks.sqlite (``len``, ``[i]``, slices, iteration; records
    read on demand, see :class:`~embeddings.store.chunk_store.ChunkStore`); ``vectors`` is a read-only
    memory map of vectors.npy.
    """

    directory: Path
    manifest: dict[str, Any]
    chunks: ChunkStore[R]
    vectors: np.ndarray
    dense: DenseIndex
    bm25: BM25Index

    #: Filtered dense searches over at most this many chunks are exact (``index.filter_exact_max``).
    filter_exact_max: int = IndexSettings.model_fields["filter_exact_max"].default
    # rows of each document asked for so far: at most 8 bytes a chunk in all, so it needs no bound
    _doc_rows: dict[str, np.ndarray] = field(init=False, repr=False)
    _doc_lock: threading.Lock = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._doc_rows = {}
        self._doc_lock = threading.Lock()

    @property
    def kind(self) -> str:
        return self.manifest["index"]["kind"]

    def position(self, chunk_id: str) -> int | None:
        """Row of the chunk with this id, or None (an index lookup in chunks.sqlite)."""
        return self.chunks.position(chunk_id)

    def rows_of_docs(self, docs: Iterable[str]) -> np.ndarray:
        """Sorted int64 rows of the chunks of ``docs`` (unknown ids hold none): what a document filter
        becomes (FAISS ID selector, BM25 mask). Each document's rows are read from chunks.sqlite once
        and then kept."""
        docs = set(docs)
        with self._doc_lock:
            missing = [d for d in docs if d not in self._doc_rows]
        if missing:
            found = self.chunks.rows_by_doc(missing)
            with self._doc_lock:
                self._doc_rows.update(found)  # unknown ids are not kept: a caller cannot grow this
        parts = [self._doc_rows[d] for d in docs if d in self._doc_rows]
        return np.sort(np.concatenate(parts)) if parts else np.zeros(0, dtype=np.int64)

    def rows_of_paragraphs(self, paragraph_ids: Iterable[str]) -> np.ndarray:
        """Sorted int64 rows of the chunks of these paragraphs (see :meth:`ChunkStore.rows_of_paragraphs`)."""
        return self.chunks.rows_of_paragraphs(paragraph_ids)

    def ids_and_hashes(self) -> Iterator[tuple[str, str]]:
        """(chunk id, text hash) of every row in order, read in batches from chunks.sqlite."""
        return self.chunks.ids_and_hashes()

    def vectors_of(self, rows: Sequence[int]) -> np.ndarray:
        """The stored unit vectors of ``rows``, (len(rows), dim) float32."""
        return np.asarray(self.vectors[np.asarray(rows, dtype=np.int64)], dtype=np.float32)

    def search_dense(self, qvecs: np.ndarray, k: int,
                     docs: Sequence[DocScope] | None = None) -> list[list[tuple[int, float]]]:
        """Top-``k`` chunks by cosine for each query vector row, only from its ``docs`` (None = all):
        ``[(chunk_index, score), ...]``.

        A filter over few chunks (``index.filter_exact_max``) is searched exactly among their vectors;
        a larger one goes into the ANN search as an ID selector, and is searched exactly when the
        approximate search finds fewer than ``k`` of them (an IVF list or graph region they are rare in).
        """
        scope = scopes(docs, len(qvecs))
        allowed = [None if d is None else self.rows_of_docs(d) for d in scope]
        limit = self.filter_exact_max
        ann = [a if a is None or len(a) > limit else None for a in allowed]
        ann_rows = [i for i, a in enumerate(allowed) if a is None or len(a) > limit]
        out: list[list[tuple[int, float]]] = [[] for _ in scope]
        if ann_rows:
            q = np.asarray(qvecs)[ann_rows]
            scores, ids = self.dense.search(q, k, subsets=[ann[i] for i in ann_rows] if any(ann[i] is not None for i in ann_rows) else None)
            for j, i in enumerate(ann_rows):
                out[i] = [(r, s) for r, s in zip(ids[j].tolist(), scores[j].tolist()) if r >= 0]
        for i, a in enumerate(allowed):
            if a is not None and (len(a) <= limit or (len(out[i]) < min(k, len(a)) and not self.dense.exact)):
                out[i] = self._exact(np.asarray(qvecs)[i], a, k)
        return out

    def _exact(self, qvec: np.ndarray, rows: np.ndarray, k: int) -> list[tuple[int, float]]:
        if not len(rows):
            return []
        sims = self.vectors_of(rows) @ np.asarray(qvec, dtype=np.float32)
        top = np.argsort(-sims, kind="stable")[:k]
        return [(int(rows[j]), float(sims[j])) for j in top]

    def search_bm25(self, queries: Sequence[str], k: int,
                    docs: Sequence[DocScope] | None = None) -> list[list[tuple[int, float]]]:
        """Top-``k`` chunks by BM25 for each query text, only from its ``docs`` (a mask over the scores);
        an empty list when no query word is indexed."""
        masks = []
        for d in scopes(docs, len(queries)):
            if d is None:
                masks.append(None)
                continue
            mask = np.zeros(len(self.bm25), dtype=bool)
            mask[self.rows_of_docs(d)] = True
            masks.append(mask)
        return self.bm25.search(queries, k, masks=masks)

    def stale_reasons(self, chunks: Sequence[IndexRecord], index: IndexSettings | None = None) -> list[str]:
        """Why this index does not serve ``chunks`` (and, if given, the ``index`` settings) as built now;
        empty when it is up to date. Search-time knobs (nprobe, efSearch) apply on load and need no rebuild."""
        reasons = []
        new = [(c.id, text_hash(c)) for c in chunks]
        # One digest comparison when nothing changed; the indexed list is read only to say what did.
        if chunk_digest(new) != self.manifest["chunks_digest"]:
            old_set, new_set = set(self.ids_and_hashes()), set(new)
            added, gone = len(new_set - old_set), len(old_set - new_set)
            reasons.append(
                f"the corpus changed ({added} new or edited chunks, {gone} removed)" if added or gone
                else "the chunk order changed"
            )
        if index is not None:
            want = resolve_kind(index.kind, len(chunks), index)
            if want != self.kind:
                reasons.append(f"index kind is {self.kind!r}, the config asks for {want!r}")
            elif want == "hnsw" and self.manifest["index"]["config"].get("hnsw_m") != index.hnsw_m:
                reasons.append(f"hnsw_m changed to {index.hnsw_m}")
            if want == self.kind != "flat":  # flat is exact whatever the compression setting says
                built_with = self.manifest["index"].get("compression", "none")  # none before it was a setting
                if built_with != index.compression:
                    reasons.append(f"compression changed from {built_with!r} to {index.compression!r}")
                elif index.compression == "pq" and self.manifest["index"]["config"].get("pq_m") != index.pq_m:
                    reasons.append(f"pq_m changed to {index.pq_m}")
            built = self.manifest.get("bm25") or {}
            for key, value in (("k1", index.bm25_k1), ("b", index.bm25_b)):
                if built.get(key, _BM25_DEFAULTS[key]) != value:  # indexes built before these were fields used the defaults
                    reasons.append(f"bm25_{key} changed to {value}")
        return reasons

    def stale_against(self, chunks: Sequence[IndexRecord]) -> bool:
        """True when ``chunks`` (ids and texts, in order) differ from the indexed ones."""
        return bool(self.stale_reasons(chunks))


def check_encoder(manifest: Mapping[str, Any], encoder: Encoder, where: str) -> None:
    """IndexStateError when ``encoder`` is not the one the index was built with (id, dim, fingerprint)."""
    built = manifest["encoder"]
    have = {"model_id": encoder.model_id, "dim": encoder.dim, "fingerprint": encoder.fingerprint}
    for key in ("model_id", "dim", "fingerprint"):
        if built.get(key) != have[key]:
            old_fp, new_fp = str(built.get("fingerprint")), str(have["fingerprint"])
            n = 12 if old_fp[:12] != new_fp[:12] else max(len(old_fp), len(new_fp))  # short, yet distinct
            raise IndexStateError(
                f"index at {where!r} was built with model {built.get('model_id')!r} (dim {built.get('dim')}, "
                f"fingerprint {old_fp[:n]}), but the configured encoder is "
                f"{have['model_id']!r} (dim {have['dim']}, fingerprint {new_fp[:n]}): "
                f"its {key} differs; {REBUILD_HINT}"
            )


def load_index(
    directory: str | Path,
    encoder: Encoder,
    index: IndexSettings,
    embeddings: EmbeddingsSettings,
    *,
    record_type: Callable[..., R],
    root: Path | None = None,
    verify: bool | str = "quick",
    cache_size: int = CACHE_SIZE,
) -> LoadedIndex[R]:
    """Load and validate the index in ``directory`` for ``encoder`` (loaded here if it is not yet).

    Args:
        directory: the index directory, resolved (``rag`` resolves ``index.dir`` against the project root).
        encoder: the encoder that will embed questions; its model id, dim and fingerprint must match.
        index: search-time parameters (nprobe, efSearch) come from here.
        embeddings: ``query_threads`` (FAISS search threads) comes from here.
        record_type: what each record of chunks.sqlite is read back as (``rag.corpus.records.Chunk``).
        root: messages name the index relative to this directory (the project root).
        verify: how the data files are checked against the manifest: "quick" (sha256 of the files whose
            size or mtime changed since the build: a stat each when none did), "full" or True (sha256 of
            every file: ~6 s at a million chunks), False (none: only the structural checks below).
        cache_size: parsed records the chunk store keeps (an LRU; a search touches a few hundred).

    Raises:
        IndexStateError: missing index ("build it with: uncac-qa ingest"), another model or a corrupted
        file ("rebuild it with: uncac-qa ingest --rebuild").
    """
    directory = Path(directory)
    where = display_path(directory, root)
    recover_index(directory, root=root)
    source = source_of(directory)
    if source is None:
        if directory.is_dir() and any(directory.iterdir()):  # data files without the manifest that lists them
            raise corrupted(where, f"{MANIFEST} is missing")
        raise IndexStateError(f"no index at {where!r}; {BUILD_HINT}")
    if source != directory:
        logger.warning("index at %s was being replaced when a build stopped; serving %s", where, source)
    mode = {True: "full", False: None}.get(verify, verify) if isinstance(verify, bool) else verify
    if mode not in (None, *VERIFY_MODES):
        raise ValueError(f"verify={verify!r} is not supported, must be one of {(True, False, *VERIFY_MODES)}")
    manifest = read_manifest_file(source, display_path(source, root))
    try:
        check_encoder(manifest, encoder, where)
        if mode is not None:
            verify_files(source, manifest, where, mode)
        n, dim = int(manifest["n_chunks"]), int(manifest["encoder"]["dim"])
        kind = manifest["index"]["kind"]
        str(manifest["chunks_digest"])
    except (KeyError, TypeError, ValueError, IndexError) as e:
        raise corrupted(where, f"{MANIFEST} lacks a field ({type(e).__name__}: {e})") from None
    try:
        # memory-mapped: pages come from the page cache when read (vectors_of, exact filtered search)
        vectors = np.load(source / VECTORS, mmap_mode="r", allow_pickle=False)
    except PermissionError as e:
        raise unreadable(where, VECTORS, e) from None
    except (OSError, ValueError, EOFError) as e:  # ValueError: a truncated file is shorter than its map
        raise corrupted(where, f"{VECTORS} is unreadable ({e})") from None
    if vectors.shape != (n, dim) or vectors.dtype != np.float32:
        raise corrupted(where, f"{VECTORS} holds {vectors.shape} {vectors.dtype}, the manifest says ({n}, {dim}) float32")
    try:
        dense = load_dense_index(source / DENSE, kind, index, search_threads=embeddings.query_threads)
        bm25 = BM25Index.load(source / BM25_DIR)
    except IndexStateError as e:
        raise corrupted(where, str(e)) from None
    chunks = ChunkStore(source / CHUNKS, record_type, where=where, cache_size=cache_size)
    chunks.check()  # opens it and reads the schema and the row count, no record
    counts = {CHUNKS: len(chunks), "dense.faiss": dense.ntotal, "bm25": len(bm25)}
    if any(c != n for c in counts.values()) or dense.dim != dim:
        raise corrupted(where, f"counts disagree: {counts}, expected {n} of dim {dim}")
    return LoadedIndex(source, manifest, chunks, vectors, dense, bm25, filter_exact_max=index.filter_exact_max)
