"""The BM25 retriever: what text it searches per question, and its filtered top-k (oracle: every match
ranked, then the allowed ones kept)."""

from __future__ import annotations

import numpy as np

from rag.retrieval.retriever import Query
from rag.retrieval.sparse import SparseRetriever


def q(text, docs=None):
    return Query.of(text, np.zeros(4, np.float32), docs)


def test_terms_follow_the_question_script_and_the_corpus_languages(small_index):
    index, _ = small_index
    zh_only = SparseRetriever(index, glossary=True, own_words=False)
    assert zh_only.terms(q("资产申报")) == "资产申报"
    en = zh_only.terms(q("asset declarations"))
    assert en and "asset" not in en  # glossary Chinese terms only: English words match nothing here
    both = SparseRetriever(index, glossary=True, own_words=True).terms(q("asset declarations"))
    assert both == f"asset declarations {en}"
    assert SparseRetriever(index, glossary=False, own_words=False).terms(q("asset declarations")) == "asset declarations"


def test_filtered_top_k_equals_all_matches_filtered(small_index):
    index, _ = small_index
    doc = sorted({c.doc_id for c in index.chunks})[1]
    r = SparseRetriever(index, glossary=True, own_words=False)
    got = r.retrieve([q("资产申报"), q("资产申报", {doc}), q("zzzz qqqq")], 5)
    everything = [row for row, _ in index.search_bm25(["资产申报"], len(index.chunks))[0]]
    assert got[0] == everything[:5]
    assert got[1] == [row for row in everything if index.chunks[row].doc_id == doc][:5] and got[1]
    assert got[2] == []  # no indexed word: nothing, not an error
