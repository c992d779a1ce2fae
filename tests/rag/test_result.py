"""The result schema (``rag.result``): what every front end serves."""

from __future__ import annotations

import pytest

from rag.result import AnswerResult, AnswerSentence, Retrieved


def test_retrieved_labels_are_carried_but_not_served_nor_compared():
    r = Retrieved("d", 5, 0.87123, label_en="X, para. 5", label_zh="X，第 5 段", symbol="X", text="甲。")
    assert r.to_json() == {"doc_id": "d", "para": 5, "score": 0.8712}
    assert r == Retrieved("d", 5, 0.87123) and r.label_zh == "X，第 5 段"


def test_to_json_keys():
    r = AnswerResult("q", "a", False, retrieved=(Retrieved("d", 5, 0.5),), timings_ms={"total": 1.234},
                     sentences=(AnswerSentence("a", ()),), notice="n")
    assert set(r.to_json()) == {"question", "answer", "refused", "citations", "retrieved", "timings_ms", "notice"}
    assert set(r.to_json(full=True)) == {"question", "answer", "refused", "citations", "retrieved", "timings_ms",
                                         "sentences", "lang", "backend", "notice", "notices"}
    assert "notice" not in AnswerResult("q", "a", True).to_json()


def test_from_json_round_trip_and_strict_fields():
    from rag.corpus.records import Citation

    c = Citation("d", "CAC/X", 5, "a", "CAC/X, para. 5 (a)", "CAC/X，第 5 段 (a)", "引文。", "/source/d#p5-a")
    r = AnswerResult("q", "引文。", False, (c,), (Retrieved("d", 5, 0.5),), {"total": 1.0},
                     (AnswerSentence("引文。", (0,)),), "zh", "extractive", "n", (("zh", "甲"), ("en", "A")))
    assert AnswerResult.from_json(r.to_json(full=True)) == r
    bad = r.to_json(full=True) | {"citations": [{"doc_id": 3}]}
    with pytest.raises(ValueError, match="citations.0.doc_id"):
        AnswerResult.from_json(bad)
    with pytest.raises(ValueError, match="sentences.0.citations"):
        AnswerResult.from_json(r.to_json(full=True) | {"sentences": [{"text": "x", "citations": [7]}]})
