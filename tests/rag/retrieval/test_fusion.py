"""Reciprocal-rank fusion (``rag.retrieval.fusion``)."""

from __future__ import annotations

import pytest

from rag.retrieval.fusion import rrf


def test_rrf_matches_hand_computed_scores_and_is_stable_on_ties():
    # a: 1/(1+1) + 0 ; b: 1/(1+2) + 1/(1+1) ; c: 1/(1+3) + 1/(1+2) ; d: 1/(1+3)
    fused = rrf([["a", "b", "c"], ["b", "c", "d"]], k=1)
    assert [x for x, _ in fused] == ["b", "c", "a", "d"]
    assert fused[0][1] == pytest.approx(1 / 3 + 1 / 2)
    tie = rrf([["x", "y"], ["y", "x"]], k=60)
    assert [x for x, _ in tie] == ["x", "y"]  # equal scores keep first appearance
    assert rrf([["a", "a", "b"]], k=1) == [("a", 0.5), ("b", 0.25)]  # duplicates count once, at best rank
    assert rrf([["a"], ["b"]], k=1, weights=[1.0, 3.0])[0][0] == "b"
    with pytest.raises(ValueError, match="2 weights for 1 rankings"):
        rrf([["a"]], weights=[1, 2])


def test_route_picks_the_lists_and_weights_once():
    from rag.config import RetrievalSettings
    from rag.retrieval.fusion import ByScript, Hybrid, Single, fusion_for

    s = RetrievalSettings(route="script", crosslingual_weight=2.0, text_weight_zh=0.0, text_weight_en=0.2)
    f = fusion_for(s)
    assert isinstance(f, ByScript)
    assert f.weights("zh") == {"dense": 1.0, "bm25": 1.0}
    assert f.weights("en") == {"dense": 1.0, "bm25": 2.0, "text": 0.2}
    assert fusion_for(s.model_copy(update={"crosslingual_weight": 0.0})).weights("en") == {"dense": 1.0}
    assert isinstance(fusion_for(s.model_copy(update={"route": "hybrid"})), Hybrid)
    single = fusion_for(s.model_copy(update={"route": "bm25"}))
    assert isinstance(single, Single) and single.weights("en") == {"bm25": 1.0}


def test_fuse_is_weighted_rrf_over_the_named_lists_in_order():
    from rag.config import RetrievalSettings
    from rag.retrieval.fusion import fusion_for

    f = fusion_for(RetrievalSettings(route="script", rrf_k=60, crosslingual_weight=2.0, text_weight_en=0.2))
    lists = {"dense": [1, 2, 3], "bm25": [3, 4], "text": [2]}
    w = f.weights("en")
    assert f.fuse(lists, w) == rrf([lists["dense"], lists["bm25"], lists["text"]], k=60, weights=[1.0, 2.0, 0.2])
    # A list the strategy does not name (BM25 for a dense-only route) is ignored, not fused.
    assert f.fuse(lists, {"dense": 1.0}) == rrf([[1, 2, 3]], k=60)
