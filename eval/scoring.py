"""Scoring one evaluated item: the metric row of a dataset item and the engine's answer to it.

A *row* holds the grouping fields (``id``, ``lang``, ``type``, ``answer_type``), then every metric of
:data:`ROW_METRICS`:

- retrieval, from ``result.retrieved`` (distinct paragraphs in rank order): ``recall@1..10``,
  ``hit@1/5/10``, ``mrr``, ``ndcg@10``;
- ``kf_recall``: key facts found in the answer text AND the citation quotes (key facts are Chinese; an
  English answer frames Chinese quotes);
- ``cit_precision`` / ``cit_recall``: the cited ``(doc_id, para)`` against the gold paragraphs;
- ``refused``, ``refusal_correct`` (unanswerable items), ``false_refusal`` (answerable items);
- ``latency_ms``: the engine's ``timings_ms["total"]`` (batch mode: retrieval time is the batch's
  share per question).

Rows also carry ``evidence`` (the best retrieved paragraph's cosine with the question, what the
refusal threshold is compared with); it is reported, not averaged. Metrics that do not apply to an
item are ``None`` and left out of its means (see :func:`eval.metrics.aggregate`).

Example::

    row = score_item(item, engine.ask(item.question))
    row["recall@5"], row["kf_recall"]
"""

from __future__ import annotations

from typing import Any

from eval.dataset import QAItem
from eval.metrics import (
    citation_precision,
    citation_recall,
    false_refusal,
    key_fact_recall,
    refusal_correct,
    retrieval_scores,
)

RECALL_KS: tuple[int, ...] = tuple(range(1, 11))
HIT_KS: tuple[int, ...] = (1, 5, 10)

#: Per-item metric columns (averaged by ``aggregate``), in report order.
ROW_METRICS: tuple[str, ...] = (
    *(f"recall@{k}" for k in RECALL_KS),
    *(f"hit@{k}" for k in HIT_KS),
    "mrr",
    "ndcg@10",
    "kf_recall",
    "cit_precision",
    "cit_recall",
    "refused",
    "refusal_correct",
    "false_refusal",
    "latency_ms",
)

#: The metrics a person reads first (tables, thresholds), with a short description each.
HEADLINE: dict[str, str] = {
    "recall@1": "gold paragraphs in the top 1 retrieved",
    "recall@5": "gold paragraphs in the top 5 retrieved",
    "recall@10": "gold paragraphs in the top 10 retrieved",
    "mrr": "mean reciprocal rank of the first gold paragraph",
    "ndcg@10": "nDCG@10, binary relevance",
    "kf_recall": "key facts found in the answer and its quotes",
    "cit_precision": "share of cited paragraphs that are gold",
    "cit_recall": "share of gold paragraphs that are cited",
    "refusal_correct": "refusal accuracy: unanswerable questions refused",
    "false_refusal": "false-refusal rate: answerable questions refused (lower is better)",
}


#: The order in which a question's answer types name its one reported type (a "how many … which" question is a count).
ANSWER_TYPE_ORDER = ("count", "money", "percent", "date", "person", "place", "org", "reference", "title",
                     "list", "purpose", "definition")


def answer_type(question: str) -> str:
    """The question's main expected answer type (``rag.answer.question``), or "other" for an untyped
    "how/what" question; the eval report breaks every metric down by it.

    >>> answer_type("有多少个会员国提交了信息？"), answer_type("Who chaired the meeting?"), answer_type("如何确保机密性？")
    ('count', 'person', 'other')
    """
    from rag.answer.question import analyze

    types = analyze(question).types
    return next((t for t in ANSWER_TYPE_ORDER if t in types), "other")


def score_item(item: QAItem, result: Any) -> dict[str, Any]:
    """The row of one item: grouping fields, then every metric of :data:`ROW_METRICS`.

    ``result`` is an ``AnswerResult``; an exception in its place (the engine failed on this item) scores
    as a refused answer with nothing retrieved, so a failure can only lower the numbers.
    """
    row: dict[str, Any] = {"id": item.id, "lang": item.lang, "type": item.type, "answer_type": answer_type(item.question)}
    failed = isinstance(result, Exception)
    ranked = [] if failed else [(r.doc_id, r.para) for r in result.retrieved]
    cited = [] if failed else [(c.doc_id, c.para) for c in result.citations]
    refused = True if failed else bool(result.refused)
    gold = item.gold_set
    scores = retrieval_scores(ranked, gold, ks=RECALL_KS, ndcg_k=10)
    row |= {f"recall@{k}": scores[f"recall@{k}"] for k in RECALL_KS}
    row |= {f"hit@{k}": scores[f"hit@{k}"] for k in HIT_KS}
    row["mrr"] = scores["mrr"]
    row["ndcg@10"] = scores["ndcg@10"]
    text = answer_text(result)
    row["kf_recall"] = key_fact_recall(text, item.key_facts) if item.answerable else None
    row["cit_precision"] = citation_precision(cited, gold)
    row["cit_recall"] = citation_recall(cited, gold)
    row["refused"] = refused
    row["refusal_correct"] = refusal_correct(item.answerable, refused)
    row["false_refusal"] = false_refusal(item.answerable, refused)
    row["latency_ms"] = None if failed else float(result.timings_ms.get("total", 0.0))
    row["evidence"] = None if failed else max((float(r.score) for r in result.retrieved), default=0.0)
    return row


def answer_text(result: Any) -> str:
    """Where key facts are looked for: the answer and its citation quotes; "" for a failed item
    (an exception or no result)."""
    if isinstance(result, Exception) or result is None:
        return ""
    return "\n".join([result.answer, *(c.quote for c in result.citations)])
