"""The retriever contract every path shares: batches in, one ranked row list per query out."""

from __future__ import annotations

import numpy as np
import pytest

from rag.retrieval.retriever import Query, Retriever


class Echo(Retriever):
    name = "echo"

    def __init__(self, broken: bool = False) -> None:
        self.broken = broken
        self.calls = 0

    def _retrieve(self, queries, k):
        self.calls += 1
        return [] if self.broken else [list(range(k))[: len(q.text)] for q in queries]


def test_retrieve_validates_and_batches():
    q = Query.of("资产申报", np.ones(4), docs={"a"})
    assert q.docs == frozenset({"a"}) and q.plan.script == "zh"
    r = Echo()
    assert r.retrieve([q, Query.of("x", np.ones(4))], 3) == [[0, 1, 2], [0]]
    assert r.retrieve([], 3) == [] and r.calls == 1  # an empty batch never reaches the subclass
    with pytest.raises(TypeError, match="wrap a single one"):
        r.retrieve(q, 3)
    with pytest.raises(ValueError, match="k must be a positive integer, got 0"):
        r.retrieve([q], 0)
    with pytest.raises(RuntimeError, match="returned 0 lists for 1 queries"):
        Echo(broken=True).retrieve([q], 3)
