"""Hand-computed cases for eval.metrics.

Logs used below (binary relevance, rank i discounted by 1/log2(i+1)):
    1/log2(2) = 1
    1/log2(3) = 0.6309298
    1/log2(4) = 0.5
    1/log2(5) = 0.4306766
"""

from __future__ import annotations

import math

import pytest

from eval.metrics import (
    aggregate,
    citation_precision,
    citation_recall,
    dedupe,
    false_refusal,
    false_refusal_rate,
    hit_at_k,
    key_fact_recall,
    latency_summary,
    mean,
    ndcg_at_k,
    percentile,
    reciprocal_rank,
    recall_at_k,
    refusal_accuracy,
    refusal_correct,
    retrieval_scores,
)
from rag.errors import ConfigError, UncacQAError

G1 = ("doc-a", 1)
G2 = ("doc-a", 2)
G3 = ("doc-b", 7)
X = ("doc-x", 1)
Y = ("doc-x", 2)
Z = ("doc-x", 3)

L3 = 1 / math.log2(3)
L5 = 1 / math.log2(5)


# ---------------------------------------------------------------------------------------------- dedupe


def test_dedupe_keeps_first_occurrence_order() -> None:
    assert dedupe([X, G1, X, G2, G1]) == [X, G1, G2]
    assert dedupe([]) == []


def test_mean_ignores_none() -> None:
    assert mean([1.0, None, 0.0, None]) == 0.5
    assert mean([None, None]) is None
    assert mean([]) is None
    assert mean([True, False, False, True]) == 0.5


# ---------------------------------------------------------------------------------------------- recall / hit


def test_recall_perfect_partial_none() -> None:
    assert recall_at_k([G1, G2, X], {G1, G2}, k=2) == 1.0
    assert recall_at_k([X, G1, Y, G2], {G1, G2}, k=1) == 0.0
    assert recall_at_k([X, G1, Y, G2], {G1, G2}, k=2) == 0.5
    assert recall_at_k([X, G1, Y, G2], {G1, G2}, k=4) == 1.0
    assert recall_at_k([X, Y, Z], {G1}, k=3) == 0.0
    assert recall_at_k([], {G1}, k=5) == 0.0


def test_recall_duplicates_count_once_at_first_rank() -> None:
    # three chunks of G1 then G2: deduped [G1, G2] -> both in top 2 (without dedupe only G1 would be).
    assert recall_at_k([G1, G1, G1, G2], {G1, G2}, k=2) == 1.0
    # chunks of a non-gold paragraph do not push gold out of the top k either
    assert recall_at_k([X, X, X, G1], {G1}, k=2) == 1.0


def test_recall_gold_duplicates_and_empty_gold() -> None:
    assert recall_at_k([G1], [G1, G1, G2], k=1) == 0.5  # gold is a set: |G| = 2
    assert recall_at_k([G1, G2], set(), k=5) is None  # unanswerable: excluded, not 0 or 1
    assert hit_at_k([G1], [], k=5) is None


def test_hit_at_k() -> None:
    assert hit_at_k([X, Y, G2], {G1, G2}, k=2) == 0.0
    assert hit_at_k([X, Y, G2], {G1, G2}, k=3) == 1.0
    assert hit_at_k([X, X, X, G2], {G2}, k=2) == 1.0  # deduped: G2 is at rank 2


@pytest.mark.parametrize("bad", [0, -1, 1.5, True, "5"])
def test_bad_k_is_a_config_error(bad: object) -> None:
    with pytest.raises(ConfigError, match="k must be a positive integer") as ei:
        recall_at_k([G1], {G1}, k=bad)  # type: ignore[arg-type]
    assert isinstance(ei.value, UncacQAError)
    with pytest.raises(ConfigError):
        ndcg_at_k([G1], {G1}, k=bad)  # type: ignore[arg-type]


# ---------------------------------------------------------------------------------------------- MRR


def test_reciprocal_rank() -> None:
    assert reciprocal_rank([G1, X], {G1}) == 1.0
    assert reciprocal_rank([X, Y, G2, G1], {G1, G2}) == pytest.approx(1 / 3)  # first gold hit at rank 3
    assert reciprocal_rank([X, Y], {G1}) == 0.0  # no hit
    assert reciprocal_rank([], {G1}) == 0.0
    assert reciprocal_rank([X, Y], set()) is None  # empty gold


def test_reciprocal_rank_dedupes_and_cuts_at_k() -> None:
    # [X, X, G1] -> [X, G1]: G1 at rank 2 (not 3)
    assert reciprocal_rank([X, X, G1], {G1}) == 0.5
    assert reciprocal_rank([X, Y, G1], {G1}, k=2) == 0.0
    assert reciprocal_rank([X, Y, G1], {G1}, k=3) == pytest.approx(1 / 3)


# ---------------------------------------------------------------------------------------------- nDCG


def test_ndcg_perfect() -> None:
    # DCG = 1 + 1/log2(3) = IDCG -> 1.0
    assert ndcg_at_k([G1, G2, X], {G1, G2}) == pytest.approx(1.0)
    assert ndcg_at_k([G1], {G1}, k=1) == pytest.approx(1.0)


def test_ndcg_partial_hand_computed() -> None:
    # ranked [X, G1, Y, G2], gold {G1, G2}
    # DCG  = 1/log2(3) + 1/log2(5) = 0.6309298 + 0.4306766 = 1.0616064
    # IDCG = 1 + 1/log2(3)         = 1.6309298
    # nDCG = 1.0616064 / 1.6309298 = 0.6509209
    value = ndcg_at_k([X, G1, Y, G2], {G1, G2}, k=10)
    assert value == pytest.approx((L3 + L5) / (1 + L3))
    assert value == pytest.approx(0.6509209, abs=1e-6)


def test_ndcg_single_gold_at_rank_two() -> None:
    # DCG = 1/log2(3) = 0.6309298, IDCG = 1
    assert ndcg_at_k([X, G1], {G1}) == pytest.approx(0.6309298, abs=1e-6)


def test_ndcg_duplicates_count_once_at_first_rank() -> None:
    # [X, X, G1] dedupes to [X, G1]: G1 at rank 2 -> 1/log2(3) = 0.6309 (0.5 if the duplicate counted)
    assert ndcg_at_k([X, X, G1], {G1}) == pytest.approx(L3)
    # a gold paragraph repeated is gained once: [G1, G1] -> [G1]; DCG = 1, IDCG(|G|=2) = 1 + 0.6309
    assert ndcg_at_k([G1, G1], {G1, G2}) == pytest.approx(1 / (1 + L3))


def test_ndcg_ideal_truncated_at_k() -> None:
    # |G| = 3 > k = 2: IDCG = 1 + 1/log2(3) = 1.6309298; top 2 = [G1, X] -> DCG = 1
    # nDCG = 1 / 1.6309298 = 0.6131472
    assert ndcg_at_k([G1, X, G2], {G1, G2, G3}, k=2) == pytest.approx(0.6131472, abs=1e-6)


def test_ndcg_ties_in_relevance_are_order_invariant() -> None:
    # Binary relevance: swapping two gold paragraphs changes nothing; moving a gold one down does.
    assert ndcg_at_k([G1, G2, X], {G1, G2}) == ndcg_at_k([G2, G1, X], {G1, G2})
    assert ndcg_at_k([G1, X, G2], {G1, G2}) < ndcg_at_k([G1, G2, X], {G1, G2})


def test_ndcg_no_hit_and_empty_gold() -> None:
    assert ndcg_at_k([X, Y, Z], {G1}) == 0.0
    assert ndcg_at_k([], {G1}) == 0.0
    assert ndcg_at_k([G1], set()) is None


def test_ndcg_gold_beyond_k_is_ignored() -> None:
    assert ndcg_at_k([X, Y, G1], {G1}, k=2) == 0.0


def test_retrieval_scores_bundle() -> None:
    s = retrieval_scores([X, G1, G1, Y, G2], {G1, G2}, ks=(1, 3))
    # deduped: [X, G1, Y, G2]
    assert s["recall@1"] == 0.0 and s["recall@3"] == 0.5
    assert s["hit@1"] == 0.0 and s["hit@3"] == 1.0
    assert s["mrr"] == 0.5
    assert s["ndcg@10"] == pytest.approx((L3 + L5) / (1 + L3))
    assert all(v is None for v in retrieval_scores([X], set()).values())


# ---------------------------------------------------------------------------------------------- answers


def test_key_fact_recall_whitespace_insensitive() -> None:
    facts = ["2019 年 9 月", "国际观察站", "第 7/5 号决议"]
    answer = "秘书处于2019年9月报告：它继续履行国际\n观察站职责。"
    # "2019 年 9 月" and "国际观察站" match without whitespace; the resolution is missing -> 2/3
    assert key_fact_recall(answer, facts) == pytest.approx(2 / 3)


def test_key_fact_recall_nfkc_case_and_edges() -> None:
    assert key_fact_recall("２０１１年３月８日", ["2011 年 3 月 8 日"]) == 1.0  # full-width digits
    assert key_fact_recall("chaired by HARIB SAEED AL-AMIMI", ["Harib Saeed al-Amimi"]) == 1.0
    assert key_fact_recall("完全无关的回答", ["资产申报"]) == 0.0
    assert key_fact_recall("", ["资产申报"]) == 0.0
    assert key_fact_recall("任何回答", []) is None  # unanswerable: excluded
    assert key_fact_recall("资产申报", ["资产申报", "资产 申报"]) == 1.0  # same fact twice counts once


def test_citation_precision_recall_partial() -> None:
    # cited {G1, X}, gold {G1, G2}: precision 1/2, recall 1/2
    assert citation_precision([G1, X], {G1, G2}) == 0.5
    assert citation_recall([G1, X], {G1, G2}) == 0.5


def test_citation_perfect_and_duplicates() -> None:
    assert citation_precision([G1, G2], [G2, G1]) == 1.0
    assert citation_recall([G1, G2], [G2, G1]) == 1.0
    # the same paragraph cited three times (e.g. sub-items (a), (b), (c)) is one citation
    assert citation_precision([G1, G1, G1], {G1, G2}) == 1.0
    assert citation_recall([G1, G1, G1], {G1, G2}) == 0.5
    assert citation_precision([G1, X, X, X], {G1}) == 0.5


def test_citation_no_citations_and_unanswerable() -> None:
    assert citation_precision([], {G1}) == 0.0  # answerable, nothing cited: 0, not undefined
    assert citation_recall([], {G1}) == 0.0
    assert citation_precision([X], set()) is None  # unanswerable: excluded
    assert citation_recall([], set()) is None
    assert citation_precision([X, Y], {G1}) == 0.0


def test_refusal_metrics() -> None:
    # (answerable, refused)
    outcomes = [(False, True), (False, True), (False, False), (True, False), (True, True), (True, False),
                (True, False)]
    assert refusal_accuracy(outcomes) == pytest.approx(2 / 3)  # 2 of 3 unanswerable refused
    assert false_refusal_rate(outcomes) == pytest.approx(1 / 4)  # 1 of 4 answerable refused
    assert refusal_accuracy([(True, False)]) is None
    assert false_refusal_rate([(False, True)]) is None
    assert refusal_correct(answerable=False, refused=True) == 1.0
    assert refusal_correct(answerable=True, refused=True) is None
    assert false_refusal(answerable=True, refused=True) == 1.0
    assert false_refusal(answerable=False, refused=False) is None


# ---------------------------------------------------------------------------------------------- latency


def test_percentile_nearest_rank() -> None:
    xs = [float(i) for i in range(10, 0, -1)]  # 10 .. 1, unsorted on purpose
    assert percentile(xs, 50) == 5.0  # rank ceil(0.50*10) = 5
    assert percentile(xs, 95) == 10.0  # rank ceil(0.95*10) = 10
    assert percentile(xs, 90) == 9.0  # rank 9
    assert percentile(xs, 0) == 1.0
    assert percentile(xs, 100) == 10.0
    # 20 values: p95 -> rank 19, the second largest (an observed value, never interpolated)
    assert percentile(range(1, 21), 95) == 19
    assert percentile([0.3], 95) == 0.3
    assert percentile([], 50) is None


def test_percentile_ties_and_bad_q() -> None:
    assert percentile([2.0, 2.0, 2.0, 9.0], 50) == 2.0
    assert percentile([2.0, 2.0, 2.0, 9.0], 95) == 9.0
    with pytest.raises(ConfigError):
        percentile([1.0], 101)
    with pytest.raises(ConfigError):
        percentile([1.0], -1)


def test_latency_summary() -> None:
    s = latency_summary([0.4, 0.1, 0.2, 0.3])
    assert s == {"n": 4, "mean": pytest.approx(0.25), "p50": 0.2, "p95": 0.4, "max": 0.4}
    assert latency_summary([]) == {"n": 0, "mean": None, "p50": None, "p95": None, "max": None}


# ---------------------------------------------------------------------------------------------- aggregate


ROWS = [
    {"id": "zh-fact-001", "lang": "zh", "type": "fact", "recall@5": 1.0, "mrr": 1.0, "refused": False},
    {"id": "zh-fact-002", "lang": "zh", "type": "fact", "recall@5": 0.0, "mrr": 0.5, "refused": False},
    {"id": "en-list-001", "lang": "en", "type": "list", "recall@5": 0.5, "mrr": 0.25, "refused": True},
    {"id": "zh-unanswerable-001", "lang": "zh", "type": "unanswerable", "recall@5": None, "mrr": None,
     "refused": True},
]


def test_aggregate_overall_and_groups() -> None:
    agg = aggregate(ROWS)
    overall = agg["overall"]
    assert overall["n"] == 4
    assert set(overall["metrics"]) == {"recall@5", "mrr", "refused"}  # 'id' (a string) is not a metric
    assert overall["metrics"]["recall@5"] == pytest.approx(0.5)  # (1 + 0 + 0.5) / 3, None ignored
    assert overall["support"]["recall@5"] == 3
    assert overall["metrics"]["mrr"] == pytest.approx(1.75 / 3)
    assert overall["metrics"]["refused"] == 0.5  # booleans average as 1/0

    assert list(agg["lang"]) == ["en", "zh"]
    assert agg["lang"]["zh"]["n"] == 3
    assert agg["lang"]["zh"]["metrics"]["recall@5"] == 0.5  # (1 + 0) / 2
    assert agg["lang"]["en"]["metrics"]["mrr"] == 0.25

    assert agg["type"]["fact"]["metrics"]["mrr"] == 0.75
    un = agg["type"]["unanswerable"]
    assert un["metrics"]["recall@5"] is None and un["support"]["recall@5"] == 0
    assert un["metrics"]["refused"] == 1.0


def test_aggregate_explicit_metrics_and_grouping() -> None:
    agg = aggregate(ROWS, by=("lang",), metrics=["mrr"])
    assert set(agg) == {"overall", "lang"}
    assert set(agg["overall"]["metrics"]) == {"mrr"}
    assert aggregate([], by=("lang",)) == {"overall": {"n": 0, "metrics": {}, "support": {}}, "lang": {}}
