"""The refusal policy's signals, on the real corpus (no model needed)."""

from __future__ import annotations

import pytest

from rag.answer.refusal import RefusalPolicy, asked_quantity, has_quantity
from rag.retrieval.query import parse_refs


@pytest.fixture(scope="module")
def policy(corpus, settings):
    return RefusalPolicy(corpus, settings.answer)


@pytest.mark.parametrize("q, gaps", [
    ("缔约国会议第 9/6 号决议决定了什么？", ["resolution 9/6"]),
    ("第 3/2 号决议设立了什么？", []),
    ("《公约》第三十三条方面发现了哪些问题？", ["article 33"]),
    ("《公约》第 13 条", []),
    ("2021年政治宣言", ["2021"]),
    ("工作组第十一次会议", []),
    ("工作组第二十次会议", ["meeting/session no. 20"]),
    ("CAC/COSP/WG.4/2019/L.1/Add.1, para. 5", []),
    ("CAC/COSP/WG.4/2019/L.1/Add.1, para. 25", ["CAC/COSP/WG.4/2019/L.1/Add.1, para. 25"]),
    ("CAC/COSP/WG.4/2017/3", []),  # mentioned in a paragraph's text
    ("A/RES/99/1", ["A/RES/99/1"]),
])
def test_named_references_missing_from_the_documents(policy, q, gaps):
    assert policy.missing(parse_refs(q), None) == gaps


def test_filters_narrow_what_counts_as_mentioned(policy):
    refs = parse_refs("第 3/2 号决议")
    assert policy.missing(refs, {"wg4-2019-l1-add1"}) == ["resolution 3/2"]  # 003 never mentions it


def test_quantity_questions():
    assert asked_quantity("有多少名专家？") == ("名", "专家")
    assert asked_quantity("举办了几次区域会议？") == ("次", "区域")
    assert asked_quantity("提供了多少资金？") is None  # no measure word: not checked
    assert has_quantity("提名了 162 名反腐败专家", "名", "专家")
    assert has_quantity("培训了1,600多名检察官", "名", "检察")
    assert has_quantity("举办了 3 次关于保护举报人和证人的区域会议", "次", "区域")
    assert not has_quantity("收到了许多腐败举报", "起", "腐败")


def test_decisions(policy, settings):
    t = settings.answer.refusal_threshold_zh
    assert policy.decide("资产申报", "zh", t + 0.01, None) .refused is False
    d = policy.decide("资产申报", "zh", t - 0.01, None)
    assert d.refused and "below the zh threshold" in d.reason
    d = policy.decide("每年收到多少起腐败举报？", "zh", 0.99, None, [("x", "西班牙设立了协调部门。")])
    assert d.refused and "no figure" in d.reason
    d = policy.decide("What percentage of assets?", "en", 0.99, None, [("x", "没有百分比数字的文本。")])
    assert d.refused and "percentage" in d.reason


def test_quoted_names_the_documents_never_use(policy):
    d = policy.decide("工作组对“旋转门”问题提出了什么建议？", "zh", 0.99, None)
    assert d.refused and "“旋转门”" in d.reason
    assert not policy.decide("《马拉喀什预防腐败宣言》的后续行动是什么？", "zh", 0.99, None).refused
    assert not policy.decide('What is the "revolving door" problem?', "en", 0.99, None).refused  # not checkable


def test_named_entities_must_be_in_the_evidence(policy, corpus):
    p = corpus.paragraph("wg4-report-2020", 21)  # Spain's anti-fraud coordination service
    assert not policy.decide("西班牙设立了哪些反腐败机构？", "zh", 0.99, None, [(p.doc_id, p.text)]).refused
    d = policy.decide("新加坡贪污调查局有哪些做法？", "zh", 0.99, None, [(p.doc_id, p.text)])
    assert d.refused and "新加坡" in d.reason
    # a venue written only in the document's session metadata counts as mentioned
    q = corpus.paragraph("wg4-report-2017", 35)
    assert not policy.decide("What was said in Vienna about education?", "en", 0.99, None, [(q.doc_id, q.text)]).refused
