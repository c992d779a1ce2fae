"""What retrieval asks of an index, whichever backend holds it: the one face ``rag.retrieval`` searches.

Two backends meet it: the embedded FAISS + BM25 directory (:class:`embeddings.store.LoadedIndex`,
``index.backend: faiss``) and a Milvus collection (``index.backend: milvus``; Milvus Lite for a file
URI, a Milvus server or cluster for ``http://host:19530``). Rows are the chunks' positions in the
order they were indexed, 0 .. n-1, the same in every backend, so a hit means the same chunk whichever
backend found it.

Filters are pushed into each search, not applied to a widened top-k afterwards: ``docs`` gives, per
query, the document ids it may return (None = all). FAISS turns it into an ``IDSelector`` over the
documents' rows, BM25 into a weight mask over them, Milvus into a scalar filter expression
(``doc_id in [...]``). ``rag.retrieval.scope.allowed_docs`` resolves the delegate's document, body,
year and language filters into that set, in one place for every backend.

Example::

    index = load_index(directory, encoder, settings.index, settings.embeddings, record_type=Chunk)
    index.search_dense(qvecs, k=50, docs=[None, frozenset({"wg4-2019-l1-add1"})])  # [[(row, cosine), ...], ...]
    index.search_bm25(["资产申报"], k=50)                                           # [[(row, bm25), ...]]
    index.vectors_of([3, 17])                                                       # (2, dim) float32
    index.chunks[3]                                                                 # the record at row 3
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

import numpy as np

#: The documents one query may return; None = every document.
DocScope = frozenset[str] | None


@runtime_checkable
class SearchIndex(Protocol):
    """A loaded index: records by row, dense and BM25 search with pushed-in document filters."""

    @property
    def kind(self) -> str:
        """What serves the dense search ("flat", "ivf", "hnsw", "milvus")."""

    @property
    def chunks(self) -> Sequence:
        """The records by row (``len``, ``[row]``); a backend may read them on demand."""

    def search_dense(self, qvecs: np.ndarray, k: int, docs: Sequence[DocScope] | None = None) -> list[list[tuple[int, float]]]:
        """Top-``k`` rows by cosine for each query vector, only from its ``docs`` (None = all)."""

    def search_bm25(self, queries: Sequence[str], k: int, docs: Sequence[DocScope] | None = None) -> list[list[tuple[int, float]]]:
        """Top-``k`` rows by BM25 (score > 0) for each query text, only from its ``docs``."""

    def vectors_of(self, rows: Sequence[int]) -> np.ndarray:
        """The stored unit vectors of ``rows``, (len(rows), dim) float32, in that order."""

    def position(self, chunk_id: str) -> int | None:
        """Row of the record with this id, or None."""


def scopes(docs: Sequence[DocScope] | None, n: int) -> list[DocScope]:
    """``docs`` as one scope per query (None = all documents for every query); ValueError on a length mismatch.

    >>> scopes(None, 2)
    [None, None]
    >>> scopes([frozenset({"a"})], 2)
    Traceback (most recent call last):
    ...
    ValueError: 1 document filters for 2 queries
    """
    if docs is None:
        return [None] * n
    if isinstance(docs, (str, frozenset, set)) or len(docs) != n:
        got = "one filter" if isinstance(docs, (str, frozenset, set)) else f"{len(docs)} document filters"
        raise ValueError(f"{got} for {n} queries")
    return [None if d is None else frozenset(d) for d in docs]
