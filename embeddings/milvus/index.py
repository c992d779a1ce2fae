"""Load the served Milvus collection into a :class:`MilvusIndex`, the backend that meets
:class:`embeddings.search_index.SearchIndex` with Milvus doing the searching.

Dense search is Milvus' ANN search on the ``dense`` field (COSINE); BM25 is Milvus full-text search on
the ``sparse`` field its BM25 Function fills from ``embed_text``; hybrid is Milvus' own
``hybrid_search`` with ``RRFRanker``. A query's document scope is a scalar filter expression
(``doc_id in ["a", "b"]``, values escaped) evaluated inside the search, so a filtered search returns k
hits of the allowed documents whenever they have k. Queries with the same scope go in one request.

Records are read from Milvus by row when asked (``index.chunks[row]``) and kept in a small LRU cache:
nothing of the corpus is held in this process, so a server-side index of millions of chunks loads in
well under a second.

Scores: cosine for dense search, BM25 for full text (Milvus Lite 3.2 reports BM25 distances negated,
best first; they are turned back into positive scores), RRF for hybrid.

Example::

    index = load_milvus(settings.index, encoder, settings.embeddings, record_type=Chunk, root=root)
    index.search_hybrid(encoder.encode_queries(["资产申报"]), ["资产申报"], k=10, docs=[None])
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Callable, Sequence
from functools import cached_property
from pathlib import Path
from typing import Any, Generic, TypeVar

import numpy as np

from embeddings.encoders.base import Encoder
from embeddings.errors import IndexStateError
from embeddings.milvus import meta as metadata
from embeddings.milvus.building import FORMAT_VERSION
from embeddings.milvus.connection import connect, resolve_uri, shown
from embeddings.milvus.schema import (
    CHUNK_ID,
    DENSE,
    DOC_ID,
    MULTI,
    RECORD,
    ROW,
    SPARSE,
    TEXT_HASH,
    dense_index_type,
    dense_search_params,
    in_filter,
    quote,
    scan,
)
from embeddings.records import IndexRecord, text_hash
from embeddings.search_index import DocScope, scopes
from embeddings.settings import EmbeddingsSettings, IndexSettings
from embeddings.store.layout import BUILD_HINT, REBUILD_HINT
from embeddings.store.loading import check_encoder

logger = logging.getLogger("embeddings.milvus")

R = TypeVar("R", bound=IndexRecord)

#: Records kept in memory by :class:`Records` (a few answers' worth of candidates).
RECORD_CACHE = 4096
#: Rows read per query call (Milvus caps a query's result window at 16,384).
READ_BATCH = 4096
#: Milvus' largest top-k.
MAX_K = 16_384


class Records(Sequence, Generic[R]):
    """The records by row, read from Milvus on demand (``len``, ``[row]``, slices), LRU-cached."""

    def __init__(self, client, collection: str, n: int, record_type: Callable[..., R], cache: int = RECORD_CACHE) -> None:
        self._client, self._collection, self._n, self._type = client, collection, n, record_type
        self._cache: OrderedDict[int, R] = OrderedDict()
        self._size = cache

    def __len__(self) -> int:
        return self._n

    def __getitem__(self, row):
        if isinstance(row, slice):
            return self.fetch(range(*row.indices(self._n)))
        row = int(row)
        if row < 0:
            row += self._n
        if not 0 <= row < self._n:
            raise IndexError(f"row {row} is outside 0..{self._n - 1}")
        return self.fetch([row])[0]

    def __iter__(self):
        for start in range(0, self._n, READ_BATCH):
            yield from self.fetch(range(start, min(start + READ_BATCH, self._n)))

    def fetch(self, rows: Sequence[int]) -> list[R]:
        """The records of ``rows``, in that order: cached ones from memory, the rest in batched queries."""
        missing = [r for r in dict.fromkeys(rows) if r not in self._cache]
        got: dict[int, R] = {}
        for start in range(0, len(missing), READ_BATCH):
            part = missing[start : start + READ_BATCH]
            for hit in self._client.query(self._collection, ids=part, output_fields=[RECORD]):
                got[int(hit[ROW])] = self._type(**hit[RECORD])
        out = []
        for r in rows:
            rec = got.get(r)
            if rec is None:
                rec = self._cache[r]
                self._cache.move_to_end(r)
            else:
                self._cache[r] = rec
                if len(self._cache) > self._size:
                    self._cache.popitem(last=False)
            out.append(rec)
        return out


class MilvusIndex(Generic[R]):
    """A served Milvus collection behind the :class:`~embeddings.search_index.SearchIndex` face."""

    def __init__(self, client, collection: str, manifest: dict[str, Any], index: IndexSettings,
                 record_type: Callable[..., R], where: str) -> None:
        self.client, self.collection, self.where = client, collection, where
        self._header = manifest
        self.settings = index
        self.n = int(manifest["n_chunks"])
        self.dim = int(manifest["encoder"]["dim"])
        self.index_type = manifest["index"]["index_type"]
        self.chunks: Records[R] = Records(client, collection, self.n, record_type)
        self._positions: dict[str, int] = {}

    @property
    def kind(self) -> str:
        return "milvus"

    @cached_property
    def manifest(self) -> dict[str, Any]:
        """The build's manifest, with ``chunks`` = [[id, text hash], ...] in row order like the FAISS one's
        (read from the collection on first use)."""
        return {**self._header, "chunks": [list(x) for x in self._id_hashes()]}

    def _id_hashes(self) -> list[tuple[str, str]]:
        out: list[tuple[str, str] | None] = [None] * self.n
        for r in scan(self.client, self.collection, self.n, [CHUNK_ID, TEXT_HASH]):
            out[int(r[ROW])] = (r[CHUNK_ID], r[TEXT_HASH])
        if any(x is None for x in out):
            raise IndexStateError(f"index at {self.where!r} is corrupted: the collection {self.collection} lacks "
                                  f"rows its manifest counts ({self.n}); {REBUILD_HINT}")
        return out  # type: ignore[return-value]

    # --- SearchIndex ---------------------------------------------------------------------------

    def search_dense(self, qvecs: np.ndarray, k: int, docs: Sequence[DocScope] | None = None) -> list[list[tuple[int, float]]]:
        """Top-``k`` rows by cosine for each query vector, only from its ``docs``."""
        qvecs = np.asarray(qvecs, dtype=np.float32).reshape(-1, self.dim)
        params = {"metric_type": "COSINE", "params": dense_search_params(self.index_type, self.settings, k)}
        return self._grouped(len(qvecs), docs, lambda rows, expr, _: self.client.search(
            self.collection, data=[qvecs[i].tolist() for i in rows], anns_field=DENSE, limit=min(k, MAX_K),
            filter=expr, search_params=params, output_fields=[ROW]), k, negate=False)

    def search_bm25(self, queries: Sequence[str], k: int, docs: Sequence[DocScope] | None = None) -> list[list[tuple[int, float]]]:
        """Top-``k`` rows by Milvus' BM25 (score > 0) for each query text, only from its ``docs``. A query
        with no searchable word (empty, only spaces) returns no hits."""
        queries = list(queries)
        out = self._grouped(len(queries), docs, lambda rows, expr, analyzer: self.client.search(
            self.collection, data=[queries[i] for i in rows], anns_field=SPARSE, limit=min(k, MAX_K), filter=expr,
            search_params=self._bm25_params(analyzer), output_fields=[ROW]), k, negate=True,
            skip=lambda i: not queries[i].strip(), analyzers=self._analyzers(queries))
        return [[(r, s) for r, s in row if s > 0] for row in out]

    def search_hybrid(self, qvecs: np.ndarray, queries: Sequence[str], k: int, docs: Sequence[DocScope] | None = None,
                      rrf_k: int = 60) -> list[list[tuple[int, float]]]:
        """Milvus' own fusion: ``hybrid_search`` over the dense and BM25 requests (each top-``k``, filtered),
        fused by ``RRFRanker(rrf_k)``; ``[(row, rrf score), ...]`` best first."""
        from pymilvus import AnnSearchRequest, RRFRanker

        qvecs = np.asarray(qvecs, dtype=np.float32).reshape(-1, self.dim)
        queries = list(queries)
        if len(queries) != len(qvecs):
            raise ValueError(f"{len(qvecs)} query vectors for {len(queries)} query texts")
        dense_params = {"metric_type": "COSINE", "params": dense_search_params(self.index_type, self.settings, k)}

        def run(rows, expr, analyzer):
            reqs = [AnnSearchRequest(data=[qvecs[i].tolist() for i in rows], anns_field=DENSE, param=dense_params,
                                     limit=min(k, MAX_K), expr=expr or None),
                    AnnSearchRequest(data=[queries[i] if queries[i].strip() else " " for i in rows],
                                     anns_field=SPARSE, param=self._bm25_params(analyzer), limit=min(k, MAX_K), expr=expr or None)]
            return self.client.hybrid_search(self.collection, reqs, RRFRanker(rrf_k), limit=min(k, MAX_K),
                                             output_fields=[ROW])

        return self._grouped(len(queries), docs, run, k, negate=False, analyzers=self._analyzers(queries))

    def vectors_of(self, rows: Sequence[int]) -> np.ndarray:
        """The stored unit vectors of ``rows``, (len(rows), dim) float32, in that order."""
        rows = [int(r) for r in rows]
        got: dict[int, list[float]] = {}
        distinct = list(dict.fromkeys(rows))
        for start in range(0, len(distinct), READ_BATCH):
            for hit in self.client.query(self.collection, ids=distinct[start : start + READ_BATCH], output_fields=[DENSE]):
                got[int(hit[ROW])] = hit[DENSE]
        if missing := [r for r in rows if r not in got]:
            raise IndexError(f"rows {missing[:5]} are not in the index (0..{self.n - 1})")
        return np.asarray([got[r] for r in rows], dtype=np.float32).reshape(len(rows), self.dim)

    def position(self, chunk_id: str) -> int | None:
        """Row of the record with this id, or None (one query per new id; remembered)."""
        if chunk_id not in self._positions:
            hits = self.client.query(self.collection, filter=f"{CHUNK_ID} == {quote(chunk_id)}", output_fields=[ROW], limit=1)
            if not hits:
                return None
            self._positions[chunk_id] = int(hits[0][ROW])
        return self._positions[chunk_id]

    # --- staleness (as LoadedIndex) ----------------------------------------------------------------

    def stale_reasons(self, chunks: Sequence[IndexRecord], index: IndexSettings | None = None) -> list[str]:
        """Why this collection does not serve ``chunks`` (and, if given, the ``index`` settings) as built now;
        empty when it is up to date. Search-time knobs (ef, nprobe, replicas) need no rebuild."""
        reasons = []
        old = [tuple(x) for x in self.manifest["chunks"]]
        new = [(c.id, text_hash(c)) for c in chunks]
        if old != new:
            old_set, new_set = set(old), set(new)
            added, gone = len(new_set - old_set), len(old_set - new_set)
            reasons.append(f"the corpus changed ({added} new or edited chunks, {gone} removed)" if added or gone
                           else "the chunk order changed")
        if index is not None:
            want = dense_index_type(index, len(chunks))
            if want != self.index_type:
                reasons.append(f"milvus index type is {self.index_type!r}, the config asks for {want!r}")
            elif want == "HNSW" and self._header["index"]["params"].get("M") != index.hnsw_m:
                reasons.append(f"hnsw_m changed to {index.hnsw_m}")
            bm25 = self._header["bm25"]
            for key, value in (("k1", index.bm25_k1), ("b", index.bm25_b)):
                if bm25.get(key) != value:
                    reasons.append(f"bm25_{key} changed to {value}")
            if bm25.get("analyzer") != index.milvus_analyzer:
                reasons.append(f"milvus_analyzer changed from {bm25.get('analyzer')!r} to {index.milvus_analyzer!r}")
        return reasons

    def stale_against(self, chunks: Sequence[IndexRecord]) -> bool:
        """True when ``chunks`` (ids and texts, in order) differ from the indexed ones."""
        return bool(self.stale_reasons(chunks))

    # --- helpers -------------------------------------------------------------------------------

    def _analyzers(self, queries: Sequence[str]) -> list[str | None]:
        """Per query, the analyzer of ``milvus_analyzer: multi`` that its guessed language names (None under
        'jieba': one analyzer for everything)."""
        if self._header["bm25"].get("analyzer") != "multi":
            return [None] * len(queries)
        from embeddings.sparse.analysis import guess_language

        names = MULTI["analyzers"]
        return [lang if (lang := guess_language(q)) in names else "default" for q in queries]

    def _bm25_params(self, analyzer: str | None = None) -> dict:
        return {"metric_type": "BM25", "params": {}} | ({"analyzer_name": analyzer} if analyzer else {})

    def _grouped(self, n: int, docs, run, k: int, *, negate: bool, skip=lambda i: False,
                 analyzers: Sequence[str | None] | None = None) -> list[list[tuple[int, float]]]:
        """Run ``run(query rows, filter expression, analyzer)`` once per distinct (document scope, analyzer);
        hits back per query."""
        out: list[list[tuple[int, float]]] = [[] for _ in range(n)]
        if n == 0 or k <= 0:
            return out
        groups: dict[tuple[DocScope, str | None], list[int]] = {}
        for i, scope in enumerate(scopes(docs, n)):
            if not skip(i) and (scope is None or scope):  # an empty scope allows nothing
                groups.setdefault((scope, analyzers[i] if analyzers else None), []).append(i)
        for (scope, analyzer), rows in groups.items():
            expr = "" if scope is None else in_filter(DOC_ID, scope)
            try:
                result = run(rows, expr, analyzer)
            except _milvus_errors() as e:
                raise _search_error(e, self.where) from None
            for i, hits in zip(rows, result):
                pairs = [(int(h["id"] if "id" in h else h[ROW]), float(h["distance"])) for h in hits]
                if negate and pairs and pairs[0][1] < 0:  # Milvus Lite: negated BM25, best (most negative) first
                    pairs = [(r, -s) for r, s in pairs]
                out[i] = pairs
        return out


def _milvus_errors() -> tuple[type[Exception], ...]:
    """What pymilvus raises when the server refuses or goes away (not our own bad arguments)."""
    import grpc
    from pymilvus.exceptions import MilvusException

    return (MilvusException, grpc.RpcError, ConnectionError)


def _search_error(e: Exception, where: str) -> IndexStateError:
    from pymilvus.exceptions import MilvusException

    if isinstance(e, MilvusException):
        return IndexStateError(f"Milvus search on {where!r} failed ({str(e.message).splitlines()[0][:200]}); "
                               "check that the server is up, or rebuild it with: uncac-qa ingest --rebuild")
    return IndexStateError(f"Milvus at {where!r} is unreachable ({type(e).__name__}: {str(e).splitlines()[0][:200]})")


def read_milvus_manifest(index: IndexSettings, root: Path | None = None) -> dict[str, Any] | None:
    """The served build's manifest (without ``chunks``), or None when nothing is built; no encoder needed
    (what ``uncac-qa docs`` and ingest's list of added files read)."""
    try:
        client = connect(index, root)
    except IndexStateError:
        if "://" in index.milvus_uri:
            raise
        return None
    live = metadata.read_live(client, index)
    return None if live is None else metadata.read_manifest(client, index, live)


def load_milvus(
    index: IndexSettings,
    encoder: Encoder,
    embeddings: EmbeddingsSettings,
    *,
    record_type: Callable[..., R],
    root: Path | None = None,
    uri: str | None = None,
) -> MilvusIndex[R]:
    """Open the served collection at ``index.milvus_uri`` (or ``uri``) for ``encoder``.

    Args:
        index: URI, collection name, search-time parameters (ef, nprobe), replicas.
        encoder: the encoder that will embed questions; its model id, dim and fingerprint must match the build's.
        embeddings: unused today (Milvus searches server-side); taken for symmetry with ``load_index``.
        record_type: what each stored record JSON is read back as (``rag.corpus.records.Chunk``).
        root: the project root (a relative Lite path is resolved against it).
        uri: overrides ``index.milvus_uri``.

    Raises:
        IndexStateError: nothing built ("no index at ...; build it with: uncac-qa ingest"), another encoder
        or format ("rebuild it with: uncac-qa ingest --rebuild"), Milvus unreachable.
    """
    del embeddings
    if uri is not None:
        index = index.model_copy(update={"milvus_uri": uri})
    where = shown(resolve_uri(index, root), root)
    client = connect(index, root)
    try:
        live = metadata.read_live(client, index)
        manifest = metadata.read_manifest(client, index, live) if live else None
    except Exception as e:  # noqa: BLE001 - grpc/pymilvus errors: the server went away between calls
        raise _search_error(e, where) from None
    if live is None or manifest is None or not client.has_collection(live):
        raise IndexStateError(f"no index at {where!r}; {BUILD_HINT}")
    if manifest.get("format") != FORMAT_VERSION:
        raise IndexStateError(f"index at {where!r} has format {manifest.get('format')!r}, this version reads "
                              f"{FORMAT_VERSION}; {REBUILD_HINT}")
    encoder.load()
    check_encoder(manifest, encoder, where)
    load: dict[str, Any] = {}
    if "://" in index.milvus_uri and index.milvus_replicas > 1:
        load["replica_number"] = index.milvus_replicas
    client.load_collection(live, **load)
    return MilvusIndex(client, live, manifest, index, record_type, where)
