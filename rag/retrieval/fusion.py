"""Reciprocal-rank fusion: combine ranked lists without calibrating their scores.

score(d) = sum over lists L containing d of 1 / (k + rank_L(d)), ranks starting at 1 (Cormack et al.,
SIGIR 2009; k = 60 there). Dense cosines and BM25 scores live on different scales; ranks do not.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import TypeVar

T = TypeVar("T", bound=Hashable)


def rrf(rankings: Sequence[Sequence[T]], k: int = 60, weights: Sequence[float] | None = None) -> list[tuple[T, float]]:
    """Fuse ranked lists (best first) into one list of (item, fused score), best first.

    Ties keep the order of first appearance (list order, then rank), so the result is deterministic.

    >>> rrf([["a", "b", "c"], ["b", "c", "d"]], k=1)
    [('b', 0.8333333333333333), ('c', 0.5833333333333333), ('a', 0.5), ('d', 0.25)]
    """
    weights = weights or [1.0] * len(rankings)
    if len(weights) != len(rankings):
        raise ValueError(f"{len(weights)} weights for {len(rankings)} rankings")
    scores: dict[T, float] = {}
    for ranking, w in zip(rankings, weights):
        seen: set[T] = set()
        for r, item in enumerate(ranking, start=1):
            if item in seen:  # a duplicate counts once, at its best rank
                continue
            seen.add(item)
            scores[item] = scores.get(item, 0.0) + w / (k + r)
    return sorted(scores.items(), key=lambda kv: -kv[1])
