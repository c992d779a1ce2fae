"""One retrieval path as a small unit: a batch of queries in, a ranked list of chunk rows per query out.

The hybrid searcher (:mod:`rag.retrieval.searcher`) composes four of them — dense
(:mod:`~rag.retrieval.dense`), BM25 (:mod:`~rag.retrieval.sparse`), the paragraphs' own-text vectors
(:mod:`~rag.retrieval.paragraph_text`) and exact references (:mod:`~rag.retrieval.reference`) — and a
fusion strategy (:mod:`~rag.retrieval.fusion`) chosen once from ``retrieval.route``. Each retriever takes
each query's document scope and passes it *into* its backend's search (an ID selector, a BM25 mask, a
Milvus filter expression), so a filter never empties a list that has allowed matches.

Rows are positions in the index (``embeddings.search_index.SearchIndex``), the same in every backend.
Like langchain-core's ``BaseRetriever``, the public ``retrieve`` validates and batches and a subclass
implements ``_retrieve`` only.

Example::

    q = Query.of("工作组关于资产申报提出了什么建议？", qvec, docs=None)
    DenseRetriever(index).retrieve([q], k=50)   # [[row, row, ...]]
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np

from embeddings.search_index import DocScope
from rag.retrieval.query import QueryPlan


@dataclass(frozen=True)
class Query:
    """One question as the retrievers see it: its text, what it names (``plan``), its vector, and the
    documents it may return (None = all)."""

    text: str
    plan: QueryPlan
    vector: np.ndarray = field(compare=False, repr=False)
    docs: DocScope = None

    @classmethod
    def of(cls, text: str, vector: np.ndarray, docs: DocScope = None) -> Query:
        return cls(text, QueryPlan.of(text), np.asarray(vector, dtype=np.float32), None if docs is None else frozenset(docs))


class Retriever(ABC):
    """A ranked list of rows per query, best first, only from each query's documents."""

    #: The list's name in fusion weights and in ``Hit.sources`` ("dense", "bm25", "text", "reference").
    name: ClassVar[str] = ""

    def retrieve(self, queries: Sequence[Query], k: int) -> list[list[int]]:
        """Up to ``k`` rows for each query (a single query is a batch of one)."""
        if isinstance(queries, Query):
            raise TypeError("retrieve() takes a list of queries; wrap a single one as [query]")
        if isinstance(k, bool) or not isinstance(k, int) or k < 1:
            raise ValueError(f"k must be a positive integer, got {k!r}")
        if not queries:
            return []
        out = self._retrieve(list(queries), k)
        if len(out) != len(queries):
            raise RuntimeError(f"{type(self).__name__} returned {len(out)} lists for {len(queries)} queries")
        return out

    @abstractmethod
    def _retrieve(self, queries: list[Query], k: int) -> list[list[int]]:
        """Ranked rows for a non-empty batch, 1 <= len(row list) <= k or empty."""
