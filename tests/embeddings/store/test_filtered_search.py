"""Document filters pushed into the store's searches (``LoadedIndex.search_dense`` / ``search_bm25``):
each query gets its best ``k`` among its own documents' chunks, compared with exact search over every
chunk filtered afterwards (the oracle), for the exact path (small filters) and the selector path."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from tests.embeddings.store.support import load

K = 8


@pytest.fixture(scope="module")
def index(built, settings):
    directory, _, encoder = built
    return load(directory, encoder, settings), encoder


def oracle_dense(index, qvec, docs):
    rows = [i for i, c in enumerate(index.chunks) if docs is None or c.doc_id in docs]
    sims = index.vectors_of(rows) @ qvec
    return [rows[j] for j in np.argsort(-sims, kind="stable")[:K]]


QUESTIONS = ["资产申报的建议", "保护举报人", "反腐败机构的独立性", "国际合作与资产追回"]


@pytest.mark.parametrize("exact_max", [0, 10**9], ids=["selector", "exact"])
def test_dense_filters_equal_exact_search_restricted_to_the_documents(index, exact_max):
    idx, encoder = index
    idx = dataclasses.replace(idx, filter_exact_max=exact_max)
    docs_all = sorted({c.doc_id for c in idx.chunks})
    scopes = [None, frozenset(docs_all[:1]), frozenset(docs_all[1:3]), frozenset({"no-such-doc"})]
    qvecs = encoder.encode_queries(QUESTIONS)
    got = idx.search_dense(qvecs, K, docs=scopes)
    for q, scope, hits in zip(qvecs, scopes, got):
        assert [r for r, _ in hits] == oracle_dense(idx, q, scope)
        assert all(scope is None or idx.chunks[r].doc_id in scope for r, _ in hits)
        np.testing.assert_allclose([s for _, s in hits], idx.vectors_of([r for r, _ in hits]) @ q, atol=1e-5)


def test_bm25_filters_keep_the_best_allowed_matches(index):
    idx, _ = index
    doc = sorted({c.doc_id for c in idx.chunks})[2]
    full = idx.search_bm25(QUESTIONS, len(idx.chunks))
    got = idx.search_bm25(QUESTIONS, K, docs=[frozenset({doc})] * len(QUESTIONS))
    for hits, everything in zip(got, full):
        assert hits == [h for h in everything if idx.chunks[h[0]].doc_id == doc][:K]
        assert hits  # the document holds matches: a top-k filtered afterwards would often have none


def test_rows_of_docs_are_each_documents_chunks(index):
    idx, _ = index
    doc = idx.chunks[0].doc_id
    assert idx.rows_of_docs(frozenset({doc})).tolist() == [i for i, c in enumerate(idx.chunks) if c.doc_id == doc]
    assert idx.rows_of_docs(frozenset({"missing"})).tolist() == []
    with pytest.raises(ValueError, match="1 document filters for 2 queries"):
        idx.search_dense(np.zeros((2, idx.vectors.shape[1]), np.float32), K, docs=[None])
