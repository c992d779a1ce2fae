"""The refusal policy's signals, on the real corpus (no model needed)."""

from __future__ import annotations

import pytest

from rag.answer.refusal import RefusalPolicy, gap_label_zh
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


def test_gap_labels_read_as_chinese_text():
    assert gap_label_zh("resolution 9/6") == "第 9/6 号决议"
    assert gap_label_zh("CAC/COSP/WG.4/2019/L.1/Add.1, para. 25") == "CAC/COSP/WG.4/2019/L.1/Add.1，第 25 段"


def test_decisions(policy, settings):
    t = settings.answer.refusal_threshold_zh
    assert policy.decide("资产申报", "zh", t + 0.01, None) .refused is False
    d = policy.decide("资产申报", "zh", t - 0.01, None)
    assert d.refused and "below the zh threshold" in d.reason
    assert d.message("zh") == "文件中没有与该问题足够接近的段落。"  # plain words for the reader, no numbers
    d = policy.decide("每年收到多少起腐败举报？", "zh", 0.99, None, [("x", "西班牙设立了协调部门。")])
    assert d.refused and "gives count" in d.reason and d.message("zh") == "文件中没有给出所问的数目。"
    d = policy.decide("What percentage of assets?", "en", 0.99, None, [("x", "没有百分比数字的文本。")])
    assert d.refused and "percent" in d.reason and d.message("en") == "The documents do not give the percentage asked for."
    d = policy.decide("会议在哪个城市举行？", "zh", 0.99, None, [("x", "工作组讨论了教育问题。")])
    assert d.refused and d.message("zh") == "文件中没有给出所问的地点（城市或国家）。"
    assert not policy.decide("会议在哪个城市举行？", "zh", 0.99, None, [("x", "会议在维也纳举行。")]).refused


def test_quoted_names_the_documents_never_use(policy):
    d = policy.decide("工作组对“旋转门”问题提出了什么建议？", "zh", 0.99, None)
    assert d.refused and "“旋转门”" in d.reason and d.message("zh") == "文件中没有提到“旋转门”。"
    d = policy.decide("缔约国会议第 9/6 号决议决定了什么？", "zh", 0.99, None)
    assert d.message("zh") == "文件中没有提到第 9/6 号决议。" and d.message("en") == "The documents never mention resolution 9/6."
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
