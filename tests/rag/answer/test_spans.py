"""Span detectors on hand-written UN Chinese sentences, positives and negatives."""

from __future__ import annotations

import pytest

from rag.answer.spans import count_matches, enumeration, find_spans, gazetteer, spans_of


def kinds(text: str, t: str) -> list[str]:
    return [s.text for s in spans_of(text, t)]


def test_counts_with_measure_words():
    assert kinds("总共有 28 个会员国提交了信息", "count") == ["28 个"]
    assert kinds("已被下载 9,000 多次", "count") == ["9,000 多次"]
    assert kinds("举行两次会议", "count") == ["两次"]
    assert kinds("1,600多名检察官", "count") == ["1,600多名"]


def test_ordinals_and_dates_are_not_counts():
    assert kinds("《公约》第 8 条", "count") == []
    assert kinds("特别是关于《公约》第 5、7、12 和 13 条", "count") == []
    assert kinds("2011 年 5 月 27 日", "count") == []
    assert kinds("几个国家", "count") == []  # vague


def test_count_matches_measure_and_noun():
    t = "在南亚、太平洋和东非举办了 3 次关于保护举报人和证人的区域会议或讲习班。"
    assert count_matches(t, "次", "区域") == 1.0
    assert count_matches(t, "名", "专家") == 0.3
    assert count_matches("收到了许多腐败举报", "起", "腐败") == 0.0


@pytest.mark.parametrize("text, dates", [
    ("于 2017 年 8 月 21 日至 23 日在维也纳举行", ["2017 年 8 月 21 日至 23 日"]),
    ("工作组于8月31日通过了议程", ["8月31日"]),
    ("自2006年以来", ["2006年"]),
    ("截至 2015 年", ["2015 年"]),
    ("CAC/COSP/WG.4/2019/L.1", []),  # a year inside a symbol is no date
])
def test_dates(text, dates):
    assert kinds(text, "date") == dates


def test_money_percent_reference_title():
    assert kinds("提供了 50 万美元", "money") == ["50 万美元"]
    assert kinds("利用 10% 的被没收资产", "percent") == ["10%"]
    assert kinds("百分之三十", "percent") == ["百分之三十"]
    assert kinds("第 8/7 号决议和《公约》第 6 条第 3 款", "reference") == ["第 8/7 号决议", "第 6 条第 3 款"]
    assert kinds("题为《保护举报人良好做法资源指南》的知识产品", "title") == ["《保护举报人良好做法资源指南》"]


def test_people_places_organisations():
    t = "会议由主席 Harib Saeed al-Amimi（阿拉伯联合酋长国）主持"
    assert kinds(t, "person") == ["Harib Saeed al-Amimi"]
    assert kinds(t, "place") == ["阿拉伯联合酋长国"]
    assert kinds(t, "role") == ["主席"]
    assert kinds("StAR 倡议和 UNDP", "person") == []  # acronyms are not names
    assert kinds("毒品和犯罪问题办公室与世界银行合作", "org") == ["毒品和犯罪问题办公室", "世界银行"]
    assert kinds("多民族玻利维亚国、佛得角", "place") == ["多民族玻利维亚国", "佛得角"]


def test_gazetteer_comes_from_pycountry_and_the_glossary():
    g = gazetteer()
    assert g.places["俄罗斯联邦"] == "Russian Federation"  # ISO 3166 via pycountry
    assert g.places["维也纳"] == "Vienna"  # glossary place
    assert g.orgs["毒品和犯罪问题办公室"] == "UNODC"
    assert len(g.places) > 200


def test_purpose_and_lists():
    assert kinds("这样可确保机密性。", "purpose") == ["可确保"]
    assert kinds("首要目标是预防腐败", "purpose") == ["首要目标"]
    assert enumeration("调职、降级、停职或开除") < 1.0 <= enumeration("服务自动化、在线资产披露、电子采购、数据挖掘和分析")
    assert [s.type for s in find_spans("一般性意见。")] == []


def test_one_as_an_article_is_no_count():
    assert kinds("应一个缔约国的请求，一位代表介绍了情况", "count") == []
    assert kinds("一百多个国家", "count") == ["一百多个"]


def test_english_text_has_counts_and_dates_and_chinese_text_is_unchanged():
    from rag.answer.spans import count_matches, find_spans

    en = "UNODC assisted 10 States parties; six regional workshops were held on 6 September 2019 (see para. 5)."
    assert [(s.type, s.text) for s in find_spans(en)] == [
        ("count", "10 States"), ("count", "six regional"), ("date", "6 September 2019")]
    assert count_matches(en, "", "国") >= 0.5  # an English version answers "how many States"
    zh = "到 2011 年 5 月 27 日，总共有 28 个会员国提交了这类信息"
    assert [(s.type, s.text) for s in find_spans(zh)] == [("date", "2011 年 5 月 27 日"), ("count", "28 个")]
