"""The dense retriever: the index's top-k by cosine, within each query's documents (oracle: brute force)."""

from __future__ import annotations

import numpy as np

from rag.retrieval.dense import DenseRetriever
from rag.retrieval.retriever import Query

QUESTIONS = ["资产申报的建议", "保护举报人", "反腐败机构的独立性"]


def test_rows_equal_brute_force_within_each_querys_documents(small_index):
    index, encoder = small_index
    docs = sorted({c.doc_id for c in index.chunks})
    scopes = [None, frozenset(docs[:1]), frozenset(docs[2:4])]
    queries = [Query.of(t, v, d) for t, v, d in zip(QUESTIONS, encoder.encode_queries(QUESTIONS), scopes)]
    got = DenseRetriever(index).retrieve(queries, 7)
    for q, rows in zip(queries, got):
        pool = [i for i, c in enumerate(index.chunks) if q.docs is None or c.doc_id in q.docs]
        sims = index.vectors_of(pool) @ q.vector
        assert rows == [pool[j] for j in np.argsort(-sims, kind="stable")[:7]]
