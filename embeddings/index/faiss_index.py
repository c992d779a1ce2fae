"""FAISS backends of ``DenseIndex``: exact flat, IVF (inverted lists) and HNSW (graph), all inner product.

* ``FlatIndex`` (IndexFlatIP): exhaustive and exact; the right choice up to tens of thousands of chunks.
* ``IVFIndex`` (IndexIVFFlat): k-means lists (``nlist`` ≈ 4·√n, trained on the vectors themselves),
  ``nprobe`` lists scanned per query.
* ``HNSWIndex`` (IndexHNSWFlat): graph of degree ``M``, ``efSearch`` candidates kept while searching.

Compression (``index.compression``) changes how IVF and HNSW store each vector, not how they are
searched: ``"none"`` float32 (4·d bytes), ``"sq8"`` one byte per dimension (IndexIVFScalarQuantizer,
IndexHNSWSQ), ``"pq"`` ``pq_m`` bytes (IndexIVFPQ, IndexHNSWPQ; 8-bit codes). Flat stays exact float32.
A saved file says which it holds, so loading needs no compression setting. Loading may memory-map the
file (``mmap=True``, faiss ``IO_FLAG_MMAP``): the vectors stay in the page cache instead of the heap.

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
from embeddings.errors import IndexStateError, one_of

#: Vector encodings of the approximate backends (see the module docstring).
COMPRESSIONS = ("none", "sq8", "pq")


def check_compression(compression: str, pq_m: int, dim: int) -> None:
    """ValueError naming the bad value when ``compression`` or ``pq_m`` cannot encode ``dim``-wide vectors.

    >>> check_compression("pq", 48, 384)
    >>> check_compression("pq", 50, 384)
    Traceback (most recent call last):
    ValueError: pq_m 50 must divide the dimension 384 (e.g. 16, 24, 32, 48, 64, 96, 128)
    """
    if compression not in COMPRESSIONS:
        raise ValueError(f"compression {one_of(compression, COMPRESSIONS)}")
    if compression == "pq" and (pq_m < 1 or dim % pq_m):
        divisors = [m for m in range(16, dim // 2 + 1) if dim % m == 0][:7]
        raise ValueError(f"pq_m {pq_m} must divide the dimension {dim} (e.g. {', '.join(map(str, divisors))})")


class FaissIndex(DenseIndex):
    """Shared plumbing: a wrapped ``faiss.Index``; subclasses say how to make and tune it."""

    #: The faiss class a saved file of this backend must contain.
    faiss_class: type = faiss.Index
    #: The faiss class of each compression this backend offers (``faiss_class`` is the uncompressed one).
    compressed_classes: dict[str, type] = {}
    compression: str = "none"

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

    def _search_in(self, query: np.ndarray, k: int, allowed: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        # A bitmap selector costs ntotal/8 bytes whatever the filter's size (a doc filter at 1M rows:
        # 125 KB, ~0.1 ms); faiss reads it through a raw pointer, so the array must outlive the search.
        mask = np.zeros(self.ntotal, dtype=bool)
        mask[allowed] = True
        bitmap = np.packbits(mask, bitorder="little")
        selector = faiss.IDSelectorBitmap(self.ntotal, faiss.swig_ptr(bitmap))
        faiss.omp_set_num_threads(self.search_threads)
        return self._index.search(query, k, params=self._params(selector, k))

    def _params(self, selector: faiss.IDSelector, k: int) -> faiss.SearchParameters:
        """Search parameters carrying ``selector`` (and the backend's own search-time knobs)."""
        return faiss.SearchParameters(sel=selector)

    def _save(self, path: Path) -> None:
        faiss.write_index(self._index, str(path))

    @classmethod
    def _load(cls, path: Path, **params) -> "FaissIndex":
        if not path.is_file():
            raise IndexStateError(f"dense index file {str(path)!r} is missing")
        mmap = params.pop("mmap", False)
        try:
            index = faiss.read_index(str(path), faiss.IO_FLAG_MMAP if mmap else 0)
        except RuntimeError as e:  # truncated or garbage bytes
            # faiss says "Error in <C++ signature> at <file>:<line>: Error: '<check>' failed: <what>"
            what = str(e).strip().splitlines()[0].rsplit("failed: ", 1)[-1] if str(e).strip() else type(e).__name__
            raise IndexStateError(f"dense index file {str(path)!r} is not a readable FAISS index ({what})") from None
        classes = {"none": cls.faiss_class, **cls.compressed_classes}
        compression = next((c for c, k in classes.items() if type(index) is k), None)
        if compression is None and isinstance(index, cls.faiss_class):
            compression = "none"
        if compression is None:
            raise IndexStateError(
                f"dense index file {str(path)!r} holds a {type(index).__name__}, expected {cls.faiss_class.__name__} "
                f"for kind {cls.kind!r}"
            )
        if index.metric_type != faiss.METRIC_INNER_PRODUCT:
            raise IndexStateError(f"dense index file {str(path)!r} does not use inner product")
        obj = cls.__new__(cls)
        DenseIndex.__init__(obj, int(index.d))
        obj.compression = compression
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
        compression: "none" (IndexIVFFlat), "sq8" (IndexIVFScalarQuantizer) or "pq" (IndexIVFPQ).
        pq_m: PQ bytes per vector (must divide ``dim``); used by "pq" only.
    """

    kind = "ivf"
    faiss_class = faiss.IndexIVFFlat
    compressed_classes = {"sq8": faiss.IndexIVFScalarQuantizer, "pq": faiss.IndexIVFPQ}
    #: k-means trains on at most this many vectors per list (faiss samples them, seeded): 64·nlist
    #: points train as well as more on these data and keep a million-vector build to minutes.
    train_points_per_list = 64

    def __init__(self, dim: int, *, nlist: int, nprobe: int = 16, compression: str = "none", pq_m: int = 48,
                 **threads) -> None:
        if nlist < 1:
            raise ValueError(f"nlist must be >= 1, got {nlist!r}")
        check_compression(compression, pq_m, dim)
        self.nlist, self.nprobe, self.compression, self.pq_m = nlist, nprobe, compression, pq_m
        super().__init__(dim, **threads)

    def _create(self) -> faiss.Index:
        self._quantizer = faiss.IndexFlatIP(self.dim)  # kept referenced: the IVF index does not own it
        ip = faiss.METRIC_INNER_PRODUCT
        if self.compression == "sq8":
            index = faiss.IndexIVFScalarQuantizer(self._quantizer, self.dim, self.nlist, faiss.ScalarQuantizer.QT_8bit, ip)
        elif self.compression == "pq":
            index = faiss.IndexIVFPQ(self._quantizer, self.dim, self.nlist, self.pq_m, 8, ip)
        else:
            index = faiss.IndexIVFFlat(self._quantizer, self.dim, self.nlist, ip)
        index.cp.spherical = True  # unit vectors: keep centroids on the sphere
        # 4·√n lists give ~√n/4 points per list, below faiss's 39-per-centroid advice for small n;
        # that advice only prints a warning, and recall is measured, not assumed.
        index.cp.min_points_per_centroid = 1
        index.cp.max_points_per_centroid = self.train_points_per_list
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

    def _params(self, selector: faiss.IDSelector, k: int) -> faiss.SearchParameters:
        return faiss.SearchParametersIVF(sel=selector, nprobe=self._index.nprobe)

    @classmethod
    def _load(cls, path: Path, **params) -> "IVFIndex":
        obj = super()._load(path, **params)
        obj.nlist = int(obj._index.nlist)
        obj.pq_m = int(obj._index.pq.M) if obj.compression == "pq" else 48
        return obj


class HNSWIndex(FaissIndex):
    """Hierarchical navigable small-world graph.

    Args:
        m: graph degree (memory and build time grow with it).
        ef_search: candidate list kept while searching (recall vs latency; raised to k when smaller).
        ef_construction: candidate list while building.
        compression: "none" (IndexHNSWFlat), "sq8" (IndexHNSWSQ) or "pq" (IndexHNSWPQ): how the graph's
            vectors are stored; the graph itself costs about 2·M·4 bytes per vector either way.
        pq_m: PQ bytes per vector (must divide ``dim``); used by "pq" only.
    """

    kind = "hnsw"
    faiss_class = faiss.IndexHNSWFlat
    compressed_classes = {"sq8": faiss.IndexHNSWSQ, "pq": faiss.IndexHNSWPQ}

    def __init__(self, dim: int, *, m: int = 32, ef_search: int = 128, ef_construction: int = 64,
                 compression: str = "none", pq_m: int = 48, **threads) -> None:
        check_compression(compression, pq_m, dim)
        self.m, self.ef_search, self.ef_construction = m, ef_search, ef_construction
        self.compression, self.pq_m = compression, pq_m
        super().__init__(dim, **threads)

    def _create(self) -> faiss.Index:
        ip = faiss.METRIC_INNER_PRODUCT
        if self.compression == "sq8":
            index = faiss.IndexHNSWSQ(self.dim, faiss.ScalarQuantizer.QT_8bit, self.m, ip)
        elif self.compression == "pq":
            index = faiss.IndexHNSWPQ(self.dim, self.pq_m, self.m, 8, ip)
        else:
            index = faiss.IndexHNSWFlat(self.dim, self.m, ip)
        index.hnsw.efConstruction = self.ef_construction
        return index

    def _train(self, vectors: np.ndarray) -> None:
        self._index.train(vectors)  # the SQ ranges or PQ codebooks, on the first batch added

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

    def _params(self, selector: faiss.IDSelector, k: int) -> faiss.SearchParameters:
        return faiss.SearchParametersHNSW(sel=selector, efSearch=max(k, self.ef_search))

    @classmethod
    def _load(cls, path: Path, **params) -> "HNSWIndex":
        obj = super()._load(path, **params)
        obj.m = int(obj._index.hnsw.nb_neighbors(1))
        obj.ef_construction = int(obj._index.hnsw.efConstruction)
        obj.pq_m = int(faiss.downcast_index(obj._index.storage).pq.M) if obj.compression == "pq" else 48
        return obj
