"""Scoring one item: exact rows for hand-made results (oracle), refusals and engine failures."""

from __future__ import annotations

from eval.dataset import QAItem
from eval.scoring import ROW_METRICS, answer_text, score_item
from rag.corpus.records import Citation
from rag.errors import QueryError
from rag.result import AnswerResult, Retrieved


def _cite(doc: str, para: int, quote: str) -> Citation:
    return Citation(doc, None, para, None, f"{doc}, para. {para}", f"{doc}，第 {para} 段", quote, f"/source/{doc}#p{para}")


ITEM = QAItem("en-x-1", "en", "multi", "q?", (("d", 1), ("d", 2)), "ref", ("混合形式", "2011年3月8日"))


def test_score_item_exact_values():
    # ranked paragraphs: d/9, d/1 (twice: two chunks), d/2 -> distinct [d9, d1, d2]
    res = AnswerResult(
        "q?", "The documents state: “会议以混合 形式举行”", False,
        citations=(_cite("d", 1, "于 2011 年 3 月 8 日"), _cite("d", 7, "无关")),
        retrieved=(Retrieved("d", 9, 0.9), Retrieved("d", 1, 0.8), Retrieved("d", 1, 0.7), Retrieved("d", 2, 0.6)),
        timings_ms={"retrieve": 5.0, "answer": 1.0, "total": 7.5},
    )
    row = score_item(ITEM, res)
    assert set(ROW_METRICS) <= set(row)
    assert row["recall@1"] == 0.0 and row["recall@2"] == 0.5 and row["recall@3"] == 1.0
    assert row["hit@1"] == 0.0 and row["hit@5"] == 1.0
    assert row["mrr"] == 0.5
    # key facts are looked for in the answer AND the quotes: "混合 形式" (answer) and "2011 年 3 月 8 日" (quote)
    assert row["kf_recall"] == 1.0
    assert row["cit_precision"] == 0.5 and row["cit_recall"] == 0.5
    assert row["refused"] is False and row["false_refusal"] == 0.0 and row["refusal_correct"] is None
    assert row["latency_ms"] == 7.5


def test_score_item_refusals_and_failures():
    unans = QAItem("zh-u-1", "zh", "unanswerable", "q", (), "ref", ())
    refused = AnswerResult("q", "未在文件中找到答案。", True, retrieved=(Retrieved("d", 3, 0.5),), timings_ms={"total": 1.0})
    row = score_item(unans, refused)
    assert row["refusal_correct"] == 1.0 and row["false_refusal"] is None
    assert row["recall@5"] is None and row["kf_recall"] is None and row["cit_precision"] is None
    # an engine error on an answerable item scores as a refusal with nothing found
    row = score_item(ITEM, QueryError("boom"))
    assert row["refused"] is True and row["false_refusal"] == 1.0 and row["recall@10"] == 0.0
    assert row["cit_recall"] == 0.0 and row["kf_recall"] == 0.0 and row["latency_ms"] is None


def test_answer_text_is_the_answer_and_its_quotes():
    res = AnswerResult("q", "answer", False, citations=(_cite("d", 1, "quote one"), _cite("d", 2, "quote two")))
    assert answer_text(res) == "answer\nquote one\nquote two"
    assert answer_text(QueryError("boom")) == "" and answer_text(None) == ""
