"""The follow-up rewrite (``rag.retrieval.follow_up``): which questions are searched with the previous one."""

from __future__ import annotations

import pytest

from rag.retrieval.follow_up import follow_up_query

ZH = (("工作组关于资产申报提出了什么建议？", "…"),)
EN = (("What did the Working Group recommend on asset declarations?", "…"),)


@pytest.mark.parametrize("question, history", [
    ("那2017年呢？", ZH), ("它的目标是什么？", ZH), ("该工具有哪些功能？", ZH),
    ("And in 2020?", EN), ("What about its members?", EN),
])
def test_a_question_that_points_back_or_has_no_topic_joins_the_previous(question, history):
    assert follow_up_query(question, history) == f"{history[-1][0]} {question}"


@pytest.mark.parametrize("question, history", [
    ("工作组有哪些职能？", ZH), ("应该如何改进举报人保护？", ZH), ("其他国家有哪些做法？", ZH),
    ("Which countries reported on whistle-blower protection?", EN), ("资产申报", ()),
])
def test_a_question_with_its_own_topic_is_new(question, history):
    assert follow_up_query(question, history) == question


def test_the_topic_limits_are_settings():
    # "职能" alone: 2 content characters, a topic under the default of 3 but not under a limit of 1.
    assert follow_up_query("职能？", ZH) != "职能？"
    assert follow_up_query("职能？", ZH, topic_chars_zh=1) == "职能？"
    assert follow_up_query("Members?", EN, topic_words_en=1) == "Members?"
