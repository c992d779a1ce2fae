"""Fusion: which ranked lists a query needs, with what weight, and how they become one list.

Reciprocal-rank fusion: score(d) = sum over lists L containing d of w_L / (k + rank_L(d)), ranks
starting at 1 (Cormack et al., SIGIR 2009; k = 60 there). Dense cosines and BM25 scores live on
different scales; ranks do not.

The strategy is chosen once from ``retrieval.route`` (:func:`fusion_for`):

- ``script`` (default, measured on a 40-question probe): e5-small alone reaches MRR .945 on Chinese
  questions and .53 on English ones over these Chinese documents; BM25 over jieba words is strong for
  Chinese (.88) and noise for English (.15). Chinese questions fuse dense + BM25; other scripts fuse
  dense with BM25 over their glossary-translated terms weighted ``crosslingual_weight`` (0 = dense only).
- ``hybrid``: dense + BM25 for every question; ``dense`` / ``bm25``: one list alone.

The paragraphs' own-text list joins with ``text_weight_zh`` / ``text_weight_en`` wherever dense and BM25
are fused.

Example:

>>> from rag.config import RetrievalSettings
>>> f = fusion_for(RetrievalSettings(route="hybrid", text_weight_zh=0.0))
>>> f.weights("zh")
{'dense': 1.0, 'bm25': 1.0}
>>> f.fuse({"dense": [7, 3], "bm25": [3]}, f.weights("zh"))[0][0]
3
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
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


class Fusion:
    """Weights per query script, then weighted RRF over the lists named in them (in the order dense,
    bm25, text: the order ties are broken in)."""

    def __init__(self, settings) -> None:
        """``settings``: ``rag.config.RetrievalSettings`` (rrf_k and the weights)."""
        self.settings = settings

    def weights(self, script: str) -> dict[str, float]:
        """The lists a question of ``script`` ("zh" or other) is ranked by, with their weights; a list
        of weight 0 is left out (it is not searched)."""
        raise NotImplementedError

    def fuse(self, lists: Mapping[str, Sequence[int]], weights: Mapping[str, float]) -> list[tuple[int, float]]:
        """One ranked list of (row, score) from the named ``lists``."""
        names = [n for n in weights if n in lists]
        return rrf([lists[n] for n in names], k=self.settings.rrf_k, weights=[weights[n] for n in names])

    def _with_text(self, weights: dict[str, float], script: str) -> dict[str, float]:
        tw = self.settings.text_weight_zh if script == "zh" else self.settings.text_weight_en
        return {**weights, "text": tw} if tw > 0 else weights


class ByScript(Fusion):
    """``route: script``: Chinese questions dense + BM25; others dense + glossary BM25 (crosslingual)."""

    def weights(self, script: str) -> dict[str, float]:
        if script == "zh":
            return self._with_text({"dense": 1.0, "bm25": 1.0}, script)
        cw = self.settings.crosslingual_weight
        return self._with_text({"dense": 1.0, "bm25": cw}, script) if cw > 0 else {"dense": 1.0}


class Hybrid(Fusion):
    """``route: hybrid``: dense + BM25 for every question."""

    def weights(self, script: str) -> dict[str, float]:
        return self._with_text({"dense": 1.0, "bm25": 1.0}, script)


class Single(Fusion):
    """``route: dense`` or ``bm25``: one list, ranked as RRF ranks it alone."""

    def __init__(self, settings, name: str) -> None:
        super().__init__(settings)
        self.name = name

    def weights(self, script: str) -> dict[str, float]:
        return {self.name: 1.0}


def fusion_for(settings) -> Fusion:
    """The strategy ``settings.route`` names ("script", "hybrid", "dense", "bm25")."""
    route = settings.route
    if route == "script":
        return ByScript(settings)
    if route == "hybrid":
        return Hybrid(settings)
    if route in ("dense", "bm25"):
        return Single(settings, route)
    raise ValueError(f"retrieval.route {route!r} is not one of 'script', 'hybrid', 'dense', 'bm25'")
