"""Retrieval with the real converted model and the real index."""

from __future__ import annotations

import pytest

from rag.errors import QueryError
from rag.request import Filters


def keys(hits, n=5):
    return list(dict.fromkeys(h.key for h in hits))[:n]


def test_zh_and_en_questions_find_their_paragraph_in_top5(engine):
    zh, en = engine.searcher.search([
        "毒品和犯罪问题办公室在保护举报人方面做了哪些工作？",
        "What did UNODC do on the protection of whistleblowers?",
    ])
    assert ("wg4-2019-l1-add1", 5) in keys(zh)
    assert ("wg4-2019-l1-add1", 5) in keys(en)


def test_single_query_is_a_batch_of_one(engine):
    q = "工作组有哪些职能？"
    alone = engine.searcher.search([q])[0]
    batched = engine.searcher.search([q, "public procurement"])[0]
    assert [h.chunk.id for h in alone] == [h.chunk.id for h in batched]
    with pytest.raises(QueryError, match="takes a list"):
        engine.searcher.search(q)


def test_routes_chinese_hybrid_english_crosslingual(engine):
    zh = engine.searcher.search(["资产申报和利益冲突"])[0]
    assert any("bm25" in h.sources for h in zh) and any("dense" in h.sources for h in zh)
    en = engine.searcher.search(["asset declarations and conflicts of interest"])[0]
    assert any("bm25" in h.sources for h in en)  # glossary terms reached BM25


def test_exact_reference_paths(engine):
    hits = engine.searcher.search(["CAC/COSP/WG.4/2019/L.1/Add.1, para. 12"])[0]
    assert hits[0].key == ("wg4-2019-l1-add1", 12) and "reference" in hits[0].sources
    res = engine.searcher.search(["第 8/7 号决议"])[0]
    mentions = {p.key for p in engine.corpus.paragraphs if "8/7 号决议" in p.text or "8/7号决议" in p.text}
    assert mentions and set(keys(res, 10)) & mentions
    assert "reference" in res[0].sources and res[0].key in mentions


def test_filters_restrict_results_and_reject_unknown_values(engine):
    hits = engine.searcher.search(["技术援助"], Filters(doc_ids=("wg4-report-2017",)), k=10)[0]
    assert hits and all(h.chunk.doc_id == "wg4-report-2017" for h in hits)
    hits = engine.searcher.search(["技术援助"], Filters(bodies=("CoSP",), years=(2011,)), k=10)[0]
    assert {h.chunk.doc_id for h in hits} <= {"cosp4-prevention-background-2011", "cosp4-technical-assistance-2011"}
    with pytest.raises(QueryError, match=r"unknown body 'WG.9'; allowed: 'CoSP', 'WG.4'"):
        engine.searcher.search(["x"], Filters(bodies=("WG.9",)))
    with pytest.raises(QueryError, match=r"no document from year 1999; allowed: 2011, 2017, 2019, 2020"):
        engine.searcher.search(["x"], Filters(years=(1999,)))
    with pytest.raises(QueryError, match="unknown document 'nope'"):
        engine.searcher.search(["x"], Filters(doc_ids=("nope",)))


def test_dense_route_equals_exact_search(engine):
    """Oracle: the dense-only route returns exactly the top-k of a brute-force dot product, and every
    hit's ``dense`` is that dot product."""
    import numpy as np

    from rag.retrieval.searcher import HybridSearcher

    dense_only = HybridSearcher(engine.index, engine.encoder, engine.corpus,
                                engine.settings.retrieval.model_copy(update={"route": "dense", "exact_reference_boost": False}))
    for q in ["反腐败教育", "conflicts of interest"]:
        hits = dense_only.search([q], k=10)[0]
        v = engine.encoder.encode_queries([q])[0]
        sims = engine.index.vectors @ v
        assert [engine.index.position(h.chunk.id) for h in hits] == list(np.argsort(-sims, kind="stable")[:10])
        for h in hits:
            assert h.dense == pytest.approx(float(sims[engine.index.position(h.chunk.id)]), abs=1e-5)


def test_a_filtered_question_does_not_change_its_batch_neighbours(engine):
    """Filters live inside each query's searches: batching an unfiltered question with a filtered one
    gives it the hits it gets alone (the old widening applied to the whole batch), and the filtered one
    still gets its full k from its document."""
    q = "工作组关于资产申报提出了什么建议？"
    alone = engine.searcher.search([q])[0]
    both = engine.searcher.search([q, q], [Filters(), Filters(doc_ids=("wg4-report-2017",))])
    assert [h.chunk.id for h in both[0]] == [h.chunk.id for h in alone]
    assert len(both[1]) == engine.settings.retrieval.k and {h.chunk.doc_id for h in both[1]} == {"wg4-report-2017"}
