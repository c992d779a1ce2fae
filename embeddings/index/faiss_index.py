"""FAISS backends of ``DenseIndex``: exact flat, IVF (inverted lists) and HNSW (graph), all inner product.

* ``FlatIndex`` (IndexFlatIP): exhaustive and exact; the right choice up to tens of thousands of chunks.
* ``IVFIndex`` (IndexIVFFlat): k-means lists (``nlist`` ≈ 4·√n, trained on the vectors themselves),
  ``nprobe`` lists scanned per query.
* ``HNSWIndex`` (IndexHNSWFlat): graph of degree ``M``, ``efSearch`` candidates kept while searching.

Threads: a single query is fastest on one OpenMP thread on a small shared CPU (measured on the 2-core
box: 0.4 ms with 1 thread, 9 ms with 2), so searches run with ``search_threads`` (1); adding and IVF
training run with ``build_threads``. ``omp_set_num_threads`` is process-global, hence set on every call.
"""

from __future__ import annotations

import math
from pathlib import Path

import faiss
import numpy as np

from embeddings.index.base import DenseIndex
from embeddings.errors import IndexStateError


class FaissIndex(DenseIndex):
    """Shared plumbing: a wrapped ``faiss.Index``; subclasses say how to make and tune it."""

    #: The faiss class a saved file of this backend must contain.
    faiss_class: type = faiss.Index

    def __init__(self, dim: int, *, build_threads: int = 2, search_threads: int = 1) -> None:
        super().__init__(dim)
        self.build_threads = build_threads
        self.search_threads = search_threads
        self._index = self._create()
        self._configure()

    @property
    def ntotal(self) -> int:
        return int(self._index.ntotal)

    @property
    def faiss_index(self) -> faiss.Index:
        """The underlying faiss object (for inspection; do not add to it directly)."""
        return self._index

    def _create(self) -> faiss.Index:
        raise NotImplementedError

    def _configure(self) -> None:
        """Apply search-time parameters (after construction and after loading)."""

    def _train(self, vectors: np.ndarray) -> None:
        """Train on the first batch added (IVF); nothing to do for flat and HNSW."""

    def _add(self, vectors: np.ndarray) -> None:
        faiss.omp_set_num_threads(self.build_threads)
        if not self._index.is_trained:
            self._train(vectors)
        self._index.add(vectors)

    def _search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        faiss.omp_set_num_threads(self.search_threads)
        return self._index.search(queries, k)

    def _save(self, path: Path) -> None:
        faiss.write_index(self._index, str(path))

    @classmethod
    def _load(cls, path: Path, **params) -> "FaissIndex":
        if not path.is_file():
            raise IndexStateError(f"dense index file {str(path)!r} is missing")
        try:
            index = faiss.read_index(str(path))
        except RuntimeError as e:  # truncated or garbage bytes
            # faiss says "Error in <C++ signature> at <file>:<line>: Error: '<check>' failed: <what>"
            what = str(e).strip().splitlines()[0].rsplit("failed: ", 1)[-1] if str(e).strip() else type(e).__name__
            raise IndexStateError(f"dense index file {str(path)!r} is not a readable FAISS index ({what})") from None
        if not isinstance(index, cls.faiss_class):
            raise IndexStateError(
                f"dense index file {str(path)!r} holds a {type(index).__name__}, expected {cls.faiss_class.__name__} "
                f"for kind {cls.kind!r}"
            )
        if index.metric_type != faiss.METRIC_INNER_PRODUCT:
            raise IndexStateError(f"dense index file {str(path)!r} does not use inner product")
        obj = cls.__new__(cls)
        DenseIndex.__init__(obj, int(index.d))
        obj.build_threads = params.pop("build_threads", 2)
        obj.search_threads = params.pop("search_threads", 1)
        obj._set_params(**params)
        obj._index = index
        obj._configure()
        return obj

    def _set_params(self, **params) -> None:
        """Store search-time parameters given to ``load`` (backend-specific)."""
        if params:
            raise TypeError(f"{type(self).__name__}.load() got unexpected parameters {sorted(params)}")


class FlatIndex(FaissIndex):
    """Exact search over every vector."""

    kind = "flat"
    exact = True
    faiss_class = faiss.IndexFlatIP

    def _create(self) -> faiss.Index:
        return faiss.IndexFlatIP(self.dim)


def suggested_nlist(n: int) -> int:
    """IVF list count for ``n`` vectors: about 4·√n, at least 1 and at most n.

    >>> suggested_nlist(10_000), suggested_nlist(3), suggested_nlist(0)
    (400, 3, 1)
    """
    return max(1, min(n, round(4 * math.sqrt(n))))


class IVFIndex(FaissIndex):
    """Inverted-file index; trains its k-means lists on the first batch added.

    Args:
        nlist: number of lists (use ``suggested_nlist(n)``); capped at the size of the training batch.
        nprobe: lists scanned per query (capped at nlist).
    """

    kind = "ivf"
    faiss_class = faiss.IndexIVFFlat

    def __init__(self, dim: int, *, nlist: int, nprobe: int = 16, **threads) -> None:
        if nlist < 1:
            raise ValueError(f"nlist must be >= 1, got {nlist!r}")
        self.nlist, self.nprobe = nlist, nprobe
        super().__init__(dim, **threads)

    def _create(self) -> faiss.Index:
        self._quantizer = faiss.IndexFlatIP(self.dim)  # kept referenced: the IVF index does not own it
        index = faiss.IndexIVFFlat(self._quantizer, self.dim, self.nlist, faiss.METRIC_INNER_PRODUCT)
        index.cp.spherical = True  # unit vectors: keep centroids on the sphere
        # 4·√n lists give ~√n/4 points per list, below faiss's 39-per-centroid advice for small n;
        # that advice only prints a warning, and recall is measured, not assumed.
        index.cp.min_points_per_centroid = 1
        return index

    def _train(self, vectors: np.ndarray) -> None:
        if len(vectors) < self.nlist:  # k-means needs at least one point per list
            self.nlist = len(vectors)
            self._index = self._create()
        self._index.train(vectors)
        self._configure()

    def _configure(self) -> None:
        self._index.nprobe = max(1, min(self.nprobe, self._index.nlist))

    def _set_params(self, nprobe: int = 16, **rest) -> None:
        super()._set_params(**rest)
        self.nprobe = nprobe

    @classmethod
    def _load(cls, path: Path, **params) -> "IVFIndex":
        obj = super()._load(path, **params)
        obj.nlist = int(obj._index.nlist)
        return obj


class HNSWIndex(FaissIndex):
    """Hierarchical navigable small-world graph.

    Args:
        m: graph degree (memory and build time grow with it).
        ef_search: candidate list kept while searching (recall vs latency; raised to k when smaller).
        ef_construction: candidate list while building.
    """

    kind = "hnsw"
    faiss_class = faiss.IndexHNSWFlat

    def __init__(self, dim: int, *, m: int = 32, ef_search: int = 128, ef_construction: int = 64, **threads) -> None:
        self.m, self.ef_search, self.ef_construction = m, ef_search, ef_construction
        super().__init__(dim, **threads)

    def _create(self) -> faiss.Index:
        index = faiss.IndexHNSWFlat(self.dim, self.m, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = self.ef_construction
        return index

    def _configure(self) -> None:
        self._index.hnsw.efSearch = self.ef_search

    def _search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        if k > self.ef_search:  # the candidate list must hold at least k entries
            faiss.omp_set_num_threads(self.search_threads)
            return self._index.search(queries, k, params=faiss.SearchParametersHNSW(efSearch=k))
        return super()._search(queries, k)

    def _set_params(self, ef_search: int = 128, **rest) -> None:
        super()._set_params(**rest)
        self.ef_search = ef_search

    @classmethod
    def _load(cls, path: Path, **params) -> "HNSWIndex":
        obj = super()._load(path, **params)
        obj.m = int(obj._index.hnsw.nb_neighbors(1))
        obj.ef_construction = int(obj._index.hnsw.efConstruction)
        return obj
