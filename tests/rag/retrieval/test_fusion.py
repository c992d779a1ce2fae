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
