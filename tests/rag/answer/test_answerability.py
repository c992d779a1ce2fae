"""Answerability of typed questions: refuse when no unit on the topic holds the asked-for thing."""

from __future__ import annotations

from rag.answer.answerability import anchors, missing_types
from rag.answer.question import analyze


def test_typed_thing_present_or_missing():
    city = analyze("工作组第十一次会议在哪个城市举行？")
    assert missing_types(city, [("工作组于2020年在维也纳举行了第十一次会议。", "")]) == []
    assert missing_types(city, [("工作组第十一次会议讨论了反腐败机构。", "")]) == ["place"]


def test_anchor_must_be_in_the_paragraph_or_its_document():
    q = analyze("缔约国会议第五届会议是在哪个城市举行的？")
    # Vienna is named, but not in the paragraph about the fifth session
    paras = [("工作组应在缔约国会议第五届会议之前举行两次会议。", ""), ("会议在维也纳举行。", "")]
    assert missing_types(q, paras) == ["place"]
    # the year may be the document's (its metadata), not the paragraph's
    y = analyze("2017年会议上有多少名代表出席？")
    assert missing_types(y, [("共有 300 名代表出席。", "Vienna 2017")]) == []


def test_count_needs_the_measure_word():
    q = analyze("各缔约国已向数据库提名了多少名专家？")
    assert missing_types(q, [("缔约国已提名 162 名反腐败专家。", "")]) == []
    assert missing_types(q, [("数据库共有 3 个模块。", "")]) == ["count"]


def test_untyped_questions_are_never_refused_here():
    assert missing_types(analyze("反腐败专家数据库如何确保信息的机密性？"), [("无关的句子。", "")]) == []


def test_anchors():
    assert [a.label for a in anchors("2017年和2019年的报告分别介绍了什么？")] == ["2017 / 2019"]
    assert [a.label for a in anchors("新加坡贪污调查局有哪些做法？")] == ["新加坡"]
