"""Evaluation metrics: pure functions over paragraph keys ``(doc_id, para)``, answers and timings.

Conventions shared by every function here:

- A ranked list or a citation list is a sequence of ``(doc_id, para)`` keys, best first. Several
  chunks of one paragraph may appear; each paragraph counts ONCE, at its first (best) rank: lists are
  de-duplicated with :func:`dedupe` before scoring, so a paragraph split into three chunks cannot fill
  three slots of the top k or be "found" three times.
- Gold is a set of keys (duplicates in it are ignored). Relevance is binary: a paragraph is relevant
  iff it is gold.
- A per-item metric that is not defined for an item returns ``None`` (retrieval metrics and citation
  metrics for an item with empty gold, i.e. an unanswerable question; refusal accuracy for an
  answerable one...). :func:`mean` and :func:`aggregate` ignore ``None``, so such items are EXCLUDED
  from the average rather than counted as 0 or 1.
- ``k`` must be a positive integer (:class:`rag.errors.ConfigError` otherwise, since it comes from
  the configuration or a CLI flag).
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Hashable, Iterable, Mapping, Sequence
from typing import Any

from rag.errors import ConfigError

Key = tuple[str, int]


# ----------------------------------------------------------------------------------------------------
# helpers


def _check_k(k: int) -> int:
    if isinstance(k, bool) or not isinstance(k, int) or k < 1:
        raise ConfigError(f"k must be a positive integer, got {k!r}")
    return k


def dedupe(ranked: Iterable[Hashable]) -> list[Any]:
    """The list with repeats removed, each key kept at its first position.

    >>> dedupe([("a", 1), ("a", 2), ("a", 1), ("b", 3)])
    [('a', 1), ('a', 2), ('b', 3)]
    """
    seen: set[Any] = set()
    out: list[Any] = []
    for key in ranked:
        if key not in seen:
            seen.add(key)
            out.append(key)
    return out


def mean(values: Iterable[float | int | bool | None]) -> float | None:
    """Arithmetic mean of the values that are not ``None``; ``None`` when there are none.

    >>> mean([1.0, None, 0.0]), mean([None])
    (0.5, None)
    """
    xs = [float(v) for v in values if v is not None]
    return sum(xs) / len(xs) if xs else None


# ----------------------------------------------------------------------------------------------------
# retrieval


def recall_at_k(ranked: Sequence[Key], gold: Iterable[Key], k: int) -> float | None:
    """Fraction of the gold paragraphs found in the top ``k`` distinct paragraphs.

    ``recall@k = |G ∩ top_k(dedupe(R))| / |G|``; ``None`` when ``G`` is empty (unanswerable items are
    excluded from the average, not scored 0 or 1). Averaged per question (macro), not per paragraph.

    >>> recall_at_k([("a", 1), ("a", 1), ("b", 2)], {("b", 2), ("c", 3)}, k=2)
    0.5
    """
    _check_k(k)
    g = set(gold)
    if not g:
        return None
    top = dedupe(ranked)[:k]
    return len(g.intersection(top)) / len(g)


def hit_at_k(ranked: Sequence[Key], gold: Iterable[Key], k: int) -> float | None:
    """1.0 if at least one gold paragraph is in the top ``k`` distinct paragraphs, else 0.0.

    ``hit@k = 1[G ∩ top_k(dedupe(R)) ≠ ∅]``; ``None`` when ``G`` is empty.
    """
    _check_k(k)
    g = set(gold)
    if not g:
        return None
    return 1.0 if g.intersection(dedupe(ranked)[:k]) else 0.0


def reciprocal_rank(ranked: Sequence[Key], gold: Iterable[Key], k: int | None = None) -> float | None:
    """``1 / rank`` of the first gold paragraph in the de-duplicated list (ranks start at 1), 0.0 if no
    gold paragraph appears (within the top ``k`` when ``k`` is given). The mean over questions is the
    MRR. ``None`` when ``G`` is empty.

    >>> reciprocal_rank([("a", 1), ("a", 1), ("b", 2)], {("b", 2)})
    0.5
    """
    g = set(gold)
    if not g:
        return None
    items = dedupe(ranked)
    if k is not None:
        items = items[: _check_k(k)]
    for rank, key in enumerate(items, start=1):
        if key in g:
            return 1.0 / rank
    return 0.0


def ndcg_at_k(ranked: Sequence[Key], gold: Iterable[Key], k: int = 10) -> float | None:
    """Normalised discounted cumulative gain at ``k`` with binary relevance.

    ``DCG@k  = Σ_{i=1..k} rel_i / log2(i + 1)`` over the de-duplicated list (``rel_i`` = 1 if the
    paragraph at rank ``i`` is gold, else 0);
    ``IDCG@k = Σ_{i=1..min(|G|, k)} 1 / log2(i + 1)`` (all gold paragraphs ranked first);
    ``nDCG@k = DCG@k / IDCG@k`` in [0, 1]. ``None`` when ``G`` is empty.

    >>> round(ndcg_at_k([("x", 9), ("a", 1)], {("a", 1)}, k=10), 4)   # 1/log2(3)
    0.6309
    """
    _check_k(k)
    g = set(gold)
    if not g:
        return None
    dcg = sum(1.0 / math.log2(i + 1) for i, key in enumerate(dedupe(ranked)[:k], start=1) if key in g)
    idcg = sum(1.0 / math.log2(i + 1) for i in range(1, min(len(g), k) + 1))
    return dcg / idcg


def retrieval_scores(
    ranked: Sequence[Key], gold: Iterable[Key], ks: Sequence[int] = (1, 5, 10), ndcg_k: int = 10
) -> dict[str, float | None]:
    """All retrieval metrics of one question: ``recall@k`` and ``hit@k`` for each ``k`` in ``ks``,
    ``mrr`` (reciprocal rank over the whole list) and ``ndcg@<ndcg_k>``. Values are ``None`` for an
    empty gold set.
    """
    g = set(gold)
    out: dict[str, float | None] = {}
    for k in ks:
        out[f"recall@{k}"] = recall_at_k(ranked, g, k)
    for k in ks:
        out[f"hit@{k}"] = hit_at_k(ranked, g, k)
    out["mrr"] = reciprocal_rank(ranked, g)
    out[f"ndcg@{ndcg_k}"] = ndcg_at_k(ranked, g, ndcg_k)
    return out


# ----------------------------------------------------------------------------------------------------
# answers


def normalize_text(text: str) -> str:
    """What key facts and answers are compared on: Unicode NFKC (full-width digits, letters and
    punctuation become their ordinary forms), case-folded, all whitespace removed.

    >>> normalize_text("２０１１ 年 3 月\\n8 日"), normalize_text("Harib  SAEED")
    ('2011年3月8日', 'haribsaeed')
    """
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text)).casefold()


def key_fact_recall(answer: str, key_facts: Sequence[str]) -> float | None:
    """Fraction of the key facts contained in the answer text, whitespace-insensitively.

    ``kf_recall = |{f ∈ F : norm(f) ⊆ norm(answer)}| / |F|`` with ``norm`` = :func:`normalize_text`
    (NFKC, case-folded, no whitespace) and ``⊆`` = substring. ``None`` when ``F`` is empty
    (unanswerable items). Key facts are Chinese: for an English question pass the answer together with
    its quoted Chinese evidence. Repeated key facts count once.

    >>> key_fact_recall("于 2011 年 3 月 8 日成为独立组织", ["2011年3月8日", "独立的国际组织"])
    0.5
    """
    facts = dedupe(normalize_text(f) for f in key_facts)
    facts = [f for f in facts if f]
    if not facts:
        return None
    a = normalize_text(answer)
    return sum(1 for f in facts if f in a) / len(facts)


def citation_precision(cited: Sequence[Key], gold: Iterable[Key]) -> float | None:
    """ALCE-style citation precision by paragraph id: the share of cited paragraphs that are gold.

    ``precision = |C ∩ G| / |C|`` with ``C`` the set of distinct cited ``(doc_id, para)`` keys
    (sub-paragraph labels dropped by the caller).
    - empty ``G`` (unanswerable): ``None``, excluded — citing nothing is scored by refusal accuracy;
    - answerable item with no citation at all: ``0.0`` (an uncited answer earns no credit).
    """
    g = set(gold)
    if not g:
        return None
    c = set(cited)
    if not c:
        return 0.0
    return len(c & g) / len(c)


def citation_recall(cited: Sequence[Key], gold: Iterable[Key]) -> float | None:
    """ALCE-style citation recall by paragraph id: the share of gold paragraphs that are cited.

    ``recall = |C ∩ G| / |G|``; ``None`` when ``G`` is empty (unanswerable, excluded); ``0.0`` for an
    answerable item with no citation.
    """
    g = set(gold)
    if not g:
        return None
    return len(set(cited) & g) / len(g)


def refusal_correct(answerable: bool, refused: bool) -> float | None:
    """Per item: 1.0 if an unanswerable question was refused, 0.0 if it was answered; ``None`` for an
    answerable question. Its mean over items is :func:`refusal_accuracy`."""
    if answerable:
        return None
    return 1.0 if refused else 0.0


def false_refusal(answerable: bool, refused: bool) -> float | None:
    """Per item: 1.0 if an answerable question was refused, 0.0 if answered; ``None`` for an
    unanswerable question. Its mean over items is :func:`false_refusal_rate`."""
    if not answerable:
        return None
    return 1.0 if refused else 0.0


def refusal_accuracy(outcomes: Iterable[tuple[bool, bool]]) -> float | None:
    """Fraction of UNANSWERABLE items that were refused.

    ``outcomes`` are ``(answerable, refused)`` pairs; ``refusal_accuracy = #refused unanswerable /
    #unanswerable``; ``None`` when there is no unanswerable item.
    """
    return mean(refusal_correct(a, r) for a, r in outcomes)


def false_refusal_rate(outcomes: Iterable[tuple[bool, bool]]) -> float | None:
    """Fraction of ANSWERABLE items that were (wrongly) refused.

    ``false_refusal_rate = #refused answerable / #answerable``; ``None`` when there is no answerable
    item.
    """
    return mean(false_refusal(a, r) for a, r in outcomes)


# ----------------------------------------------------------------------------------------------------
# latency


def percentile(values: Iterable[float], q: float) -> float | None:
    """The ``q``-th percentile by the NEAREST-RANK method (no interpolation): sort the ``n`` values
    and take the one at 1-based rank ``ceil(q / 100 · n)`` (rank 1 for ``q = 0``). The result is
    always an observed value. ``None`` for no values; ``q`` outside [0, 100] is a ConfigError.

    >>> percentile([40, 10, 20, 30], 50), percentile([40, 10, 20, 30], 95)
    (20, 40)
    """
    if isinstance(q, bool) or not isinstance(q, int | float) or not 0 <= q <= 100:
        raise ConfigError(f"percentile q must be a number in [0, 100], got {q!r}")
    xs = sorted(values)
    if not xs:
        return None
    rank = max(1, math.ceil(q / 100 * len(xs)))
    return xs[rank - 1]


def latency_summary(seconds: Iterable[float]) -> dict[str, float | int | None]:
    """``n``, ``mean``, ``p50``, ``p95`` (nearest rank, see :func:`percentile`) and ``max`` of
    latencies; statistics are ``None`` when there are none."""
    xs = [float(s) for s in seconds]
    return {
        "n": len(xs),
        "mean": mean(xs),
        "p50": percentile(xs, 50),
        "p95": percentile(xs, 95),
        "max": max(xs) if xs else None,
    }


# ----------------------------------------------------------------------------------------------------
# aggregation


def _is_metric_value(v: Any) -> bool:
    return v is None or isinstance(v, int | float)  # bool is an int: True/False average as 1/0


def aggregate(
    rows: Iterable[Mapping[str, Any]],
    by: Sequence[str] = ("lang", "type"),
    metrics: Sequence[str] | None = None,
) -> dict[str, Any]:
    """Means of per-item metrics overall and per value of each grouping field.

    ``rows`` are per-item mappings such as ``{"id": ..., "lang": "zh", "type": "fact",
    "recall@5": 1.0, "mrr": 0.5, "refused": False, ...}``. ``metrics`` names the columns to average;
    by default every column outside ``by`` whose values are all numbers, booleans (as 1/0) or ``None``
    (so ``id``, ``question``... are skipped). ``None`` values are ignored: a metric's mean is over the
    items where it is defined, and is ``None`` if it is defined for none.

    Returns::

        {"overall": G, "lang": {"en": G, "zh": G}, "type": {"fact": G, ...}}
        # G = {"n": rows in the group,
        #      "metrics": {name: mean or None},
        #      "support": {name: number of rows where the metric is not None}}

    Group values are sorted; rows that lack a grouping field are grouped under the key ``None``.
    """
    rows = list(rows)
    if metrics is None:
        names: list[str] = []
        for r in rows:
            for name in r:
                if name not in by and name not in names:
                    names.append(name)
        metrics = [m for m in names if all(_is_metric_value(r.get(m)) for r in rows)]

    def group(rs: list[Mapping[str, Any]]) -> dict[str, Any]:
        means: dict[str, float | None] = {}
        support: dict[str, int] = {}
        for m in metrics:
            vals = [r.get(m) for r in rs if r.get(m) is not None]
            means[m] = mean(vals)
            support[m] = len(vals)
        return {"n": len(rs), "metrics": means, "support": support}

    out: dict[str, Any] = {"overall": group(rows)}
    for field in by:
        buckets: dict[Any, list[Mapping[str, Any]]] = {}
        for r in rows:
            buckets.setdefault(r.get(field), []).append(r)
        out[field] = {
            value: group(buckets[value])
            for value in sorted(buckets, key=lambda v: (v is None, str(v)))
        }
    return out
