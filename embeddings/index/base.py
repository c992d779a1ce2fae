"""The dense index interface: unit vectors in, top-k by inner product (= cosine) out.

The public methods validate and shape; a backend writes ``_add``, ``_search``, ``_save`` and ``_load``
only, so flat, IVF and HNSW behave the same to callers (a single query is a batch of one). Results are
always ``(q, k)``: when fewer than ``k`` hits exist (small index, IVF lists that hold too few vectors)
the tail is padded with id ``-1`` and score ``-inf``.

Example::

    index = create_dense_index("auto", n=len(vecs), dim=384, settings=settings.index)
    index.add(vecs)
    scores, ids = index.search(qvecs, k=10)   # (q, 10) float32, (q, 10) int64
    index.save(path / "dense.faiss")
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from pathlib import Path
from typing import ClassVar

import numpy as np

from embeddings.errors import IndexStateError


def as_matrix(vectors: np.ndarray, dim: int, what: str) -> np.ndarray:
    """``vectors`` as a C-contiguous float32 (n, dim) matrix, or ValueError naming the bad shape."""
    arr = np.asarray(vectors)
    if arr.ndim != 2:
        raise ValueError(f"{what} must be a 2-D array (n, {dim}); got shape {arr.shape} (wrap a single vector as [v])")
    if arr.shape[1] != dim:
        # A vector of another width comes from another model: the index must be rebuilt for it.
        raise IndexStateError(f"{what} have dimension {arr.shape[1]}, but the index holds dimension {dim}")
    arr = np.ascontiguousarray(arr, dtype=np.float32)
    if arr.size and not np.isfinite(arr).all():
        raise ValueError(f"{what} contain NaN or infinite values")
    return arr


class DenseIndex(ABC):
    """Inner-product nearest-neighbour index over unit float32 vectors.

    Args:
        dim: vector width; every added or queried vector must have it.

    Constructors are cheap; vectors arrive through ``add`` (an IVF backend trains on its first batch).
    """

    #: Backend name stored in manifests ("flat", "ivf", "hnsw").
    kind: ClassVar[str] = ""
    #: True when results equal exhaustive search.
    exact: ClassVar[bool] = False

    def __init__(self, dim: int) -> None:
        if not isinstance(dim, int) or dim < 1:
            raise ValueError(f"index dimension must be a positive integer, got {dim!r}")
        self.dim = dim

    @property
    @abstractmethod
    def ntotal(self) -> int:
        """Number of vectors held; ids run 0 .. ntotal-1 in insertion order."""

    def add(self, vectors: np.ndarray) -> None:
        """Append ``vectors`` (n, dim); they get the next ids in order."""
        arr = as_matrix(vectors, self.dim, "vectors")
        if len(arr):
            self._add(arr)

    def search(self, queries: np.ndarray, k: int,
               subsets: Sequence[np.ndarray | None] | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Top-``k`` neighbours of each query row by inner product.

        Args:
            queries: (q, dim) float32 unit vectors.
            k: hits per query (>= 1); more than ``ntotal`` is allowed and padded.
            subsets: per query, the ids it may return (an int array; None = all): the filter is applied
                inside the search (a FAISS ``IDSelector``), so a selective filter still gets ``k`` hits
                when ``k`` allowed vectors exist, where filtering a top-k afterwards would return few or none.

        Returns:
            ``(scores, ids)``: (q, k) float32 best first, and (q, k) int64 with -1 (score -inf) padding.
        """
        if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
            raise ValueError(f"k must be a positive integer, got {k!r}")
        k = int(k)
        q = as_matrix(queries, self.dim, "queries")
        if subsets is not None and len(subsets) != len(q):
            raise ValueError(f"{len(subsets)} id subsets for {len(q)} queries")
        scores = np.full((len(q), k), -np.inf, dtype=np.float32)
        ids = np.full((len(q), k), -1, dtype=np.int64)
        kk = min(k, self.ntotal)
        if not (len(q) and kk):
            return scores, ids
        whole = [i for i in range(len(q)) if subsets is None or subsets[i] is None]
        if whole:
            s, i = self._search(q[whole] if len(whole) < len(q) else q, kk)
            self._fill(scores, ids, whole, s, i, kk)
        for row in (i for i in range(len(q)) if subsets is not None and subsets[i] is not None):
            allowed = np.asarray(subsets[row], dtype=np.int64)
            n = min(kk, len(allowed))
            if n:
                s, i = self._search_in(q[row : row + 1], n, allowed)
                self._fill(scores, ids, [row], s, i, n)
        return scores, ids

    @staticmethod
    def _fill(scores: np.ndarray, ids: np.ndarray, rows: list[int], s, i, kk: int) -> None:
        i = np.asarray(i, dtype=np.int64)
        scores[rows, :kk] = np.where(i >= 0, s, -np.inf)
        ids[rows, :kk] = i

    def save(self, path: str | Path) -> None:
        """Write the index to one file (the caller makes the directory swap atomic)."""
        self._save(Path(path))

    @classmethod
    def load(cls, path: str | Path, **params) -> "DenseIndex":
        """Read an index written by ``save``; IndexStateError when the file is not a valid index of
        this kind. ``params`` are the backend's search-time settings (e.g. nprobe)."""
        return cls._load(Path(path), **params)

    @abstractmethod
    def _add(self, vectors: np.ndarray) -> None:
        """Append a non-empty, validated float32 matrix."""

    @abstractmethod
    def _search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Search a non-empty validated batch with 1 <= k <= ntotal; may return -1 ids."""

    @abstractmethod
    def _search_in(self, query: np.ndarray, k: int, allowed: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Search one validated query (1, dim) among the ids in ``allowed`` (non-empty, valid ids);
        1 <= k <= len(allowed); may return -1 ids (an approximate index can miss allowed vectors)."""

    @abstractmethod
    def _save(self, path: Path) -> None: ...

    @classmethod
    @abstractmethod
    def _load(cls, path: Path, **params) -> "DenseIndex": ...

    def __repr__(self) -> str:
        return f"{type(self).__name__}(dim={self.dim}, ntotal={self.ntotal})"
