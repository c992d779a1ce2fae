"""The dense path: the chunks closest to the question's e5 vector, searched with each query's document
scope inside the index (FAISS ID selector, Milvus filter expression).

Example::

    DenseRetriever(index).retrieve([Query.of(q, qvec)], k=50)
"""

from __future__ import annotations

import numpy as np

from embeddings.search_index import SearchIndex
from rag.retrieval.retriever import Query, Retriever


class DenseRetriever(Retriever):
    """Top-k rows by cosine with the query vector."""

    name = "dense"

    def __init__(self, index: SearchIndex) -> None:
        self.index = index

    def _retrieve(self, queries: list[Query], k: int) -> list[list[int]]:
        qvecs = np.stack([q.vector for q in queries])
        return [[r for r, _ in hits] for hits in self.index.search_dense(qvecs, k, docs=[q.docs for q in queries])]
