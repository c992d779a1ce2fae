"""Load an index directory with every check, into a :class:`LoadedIndex` that searches it.

Checked on load: a missing index, another model, a file whose sha256 differs from the manifest, an
unreadable FAISS/BM25 file, a file the process may not read, or mismatched counts each raise
IndexStateError naming the problem and the command that fixes it. Wrong vectors are never served
silently.

Example::

    index = load_index(directory, encoder, settings.index, settings.embeddings, record_type=Chunk)
    index.search_dense(encoder.encode_queries(["资产申报"]), k=5)   # [[(chunk_index, score), ...]]
    index.search_bm25(["资产申报"], k=5)
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping, Sequence
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
from embeddings.store.layout import (
    BM25_DIR, BUILD_HINT, CHUNKS, DENSE, MANIFEST, REBUILD_HINT, VECTORS, corrupted, display_path,
    read_manifest_file, source_of, unreadable, verify_files,
)
from embeddings.store.recovery import recover_index

logger = logging.getLogger("embeddings.store")

R = TypeVar("R", bound=IndexRecord)

_BM25_DEFAULTS = {"k1": IndexSettings.model_fields["bm25_k1"].default, "b": IndexSettings.model_fields["bm25_b"].default}


@dataclass
class LoadedIndex(Generic[R]):
    """A validated index: records (chunks), their vectors, the dense and BM25 indexes, and the manifest.

    Row i of ``vectors``, id i of ``dense`` and ``bm25`` and ``chunks[i]`` are the same chunk.
    """

    directory: Path
    manifest: dict[str, Any]
    chunks: list[R]
    vectors: np.ndarray
    dense: DenseIndex
    bm25: BM25Index
    _positions: dict[str, int] = field(init=False, repr=False)

    #: Filtered dense searches over at most this many chunks are exact (``index.filter_exact_max``).
    filter_exact_max: int = IndexSettings.model_fields["filter_exact_max"].default
    _doc_rows: dict[str, np.ndarray] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._positions = {c.id: i for i, c in enumerate(self.chunks)}
        doc_rows: dict[str, list[int]] = {}
        for i, c in enumerate(self.chunks):
            doc_rows.setdefault(c.doc_id, []).append(i)
        self._doc_rows = {d: np.asarray(r, dtype=np.int64) for d, r in doc_rows.items()}

    @property
    def kind(self) -> str:
        return self.manifest["index"]["kind"]

    def position(self, chunk_id: str) -> int | None:
        """Row of the chunk with this id, or None."""
        return self._positions.get(chunk_id)

    def rows_of_docs(self, docs: frozenset[str]) -> np.ndarray:
        """Sorted rows of the chunks of ``docs`` (unknown ids hold none)."""
        parts = [self._doc_rows[d] for d in docs if d in self._doc_rows]
        return np.sort(np.concatenate(parts)) if parts else np.zeros(0, dtype=np.int64)

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
        old = [tuple(x) for x in self.manifest["chunks"]]
        new = [(c.id, text_hash(c)) for c in chunks]
        if old != new:
            old_set, new_set = set(old), set(new)
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


def _read_records(path: Path, where: str, record_type: Callable[..., R]) -> list[R]:
    chunks = []
    n = 0
    try:
        with path.open(encoding="utf-8") as f:
            for n, line in enumerate(f, 1):
                chunks.append(record_type(**json.loads(line)))
    except PermissionError as e:
        raise unreadable(where, CHUNKS, e) from None
    except (OSError, ValueError, TypeError, RecursionError) as e:  # ValueError: bad UTF-8 or JSON
        raise corrupted(where, f"{CHUNKS} line {n + 1} is not a chunk record ({type(e).__name__})") from None
    return chunks


def load_index(
    directory: str | Path,
    encoder: Encoder,
    index: IndexSettings,
    embeddings: EmbeddingsSettings,
    *,
    record_type: Callable[..., R],
    root: Path | None = None,
    verify: bool = True,
) -> LoadedIndex[R]:
    """Load and validate the index in ``directory`` for ``encoder`` (loaded here if it is not yet).

    Args:
        directory: the index directory, resolved (``rag`` resolves ``index.dir`` against the project root).
        encoder: the encoder that will embed questions; its model id, dim and fingerprint must match.
        index: search-time parameters (nprobe, efSearch) come from here.
        embeddings: ``query_threads`` (FAISS search threads) comes from here.
        record_type: what each line of chunks.jsonl is read back as (``rag.corpus.records.Chunk``).
        root: messages name the index relative to this directory (the project root).
        verify: check every file's sha256 against the manifest (milliseconds at this corpus size).

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
    manifest = read_manifest_file(source, display_path(source, root))
    try:
        check_encoder(manifest, encoder, where)
        if verify:
            verify_files(source, manifest, where)
        n, dim = int(manifest["n_chunks"]), int(manifest["encoder"]["dim"])
        ids = [c[0] for c in manifest["chunks"]]
        kind = manifest["index"]["kind"]
    except (KeyError, TypeError, ValueError, IndexError) as e:
        raise corrupted(where, f"{MANIFEST} lacks a field ({type(e).__name__}: {e})") from None
    try:
        vectors = np.load(source / VECTORS, allow_pickle=False)
    except PermissionError as e:
        raise unreadable(where, VECTORS, e) from None
    except (OSError, ValueError, EOFError) as e:
        raise corrupted(where, f"{VECTORS} is unreadable ({e})") from None
    if vectors.shape != (n, dim) or vectors.dtype != np.float32:
        raise corrupted(where, f"{VECTORS} holds {vectors.shape} {vectors.dtype}, the manifest says ({n}, {dim}) float32")
    try:
        dense = load_dense_index(source / DENSE, kind, index, search_threads=embeddings.query_threads)
        bm25 = BM25Index.load(source / BM25_DIR)
    except IndexStateError as e:
        raise corrupted(where, str(e)) from None
    chunks = _read_records(source / CHUNKS, where, record_type)
    counts = {"chunks.jsonl": len(chunks), "dense.faiss": dense.ntotal, "bm25": len(bm25), "manifest ids": len(ids)}
    if any(c != n for c in counts.values()) or dense.dim != dim:
        raise corrupted(where, f"counts disagree: {counts}, expected {n} of dim {dim}")
    if [c.id for c in chunks] != ids:
        raise corrupted(where, f"{CHUNKS} does not hold the chunks the manifest lists")
    return LoadedIndex(source, manifest, chunks, vectors, dense, bm25, filter_exact_max=index.filter_exact_max)
