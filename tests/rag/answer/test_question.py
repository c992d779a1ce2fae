"""The question analyser on hand-written zh and en questions (no model, no corpus)."""

from __future__ import annotations

import pytest

from rag.answer.question import analyze, asked_quantity, quoted_terms, split_parts


@pytest.mark.parametrize("q, types", [
    ("有多少个会员国提交了信息？", {"count"}),
    ("How many regional workshops were held?", {"count"}),
    ("欧洲联盟提供了多少资金？", {"money"}),
    ("How much funding did the EU provide?", {"money"}),
    ("被没收资产的比例是多少？", {"percent"}),
    ("What percentage of assets was confiscated?", {"percent"}),
    ("工作组第一次会议何时举行？", {"date"}),
    ("In what year was the statement adopted?", {"date"}),
    ("2020年会议由谁主持？", {"person"}),
    ("Who presided over the eighth meeting?", {"person"}),
    ("会议在哪个城市举行？", {"place"}),
    ("Where was the round table held?", {"place"}),
    ("国际奥委会内由哪个机构负责监督道德？", {"org"}),
    ("Which institution is the main prevention body?", {"org"}),
    ("设立工作组的依据是《公约》的哪一条款？", {"reference"}),
    ("第 7/5 号决议的标题是什么？", {"title"}),
    ("工作组有哪些职能？", {"list"}),
    ("What are the functions of the Working Group?", {"list"}),
    ("为什么工作组无权制定这些措施？", {"purpose"}),
    ("What is the purpose of the commentary?", {"purpose"}),
    ("什么是“透明度队”？", {"definition"}),
    ("反腐败专家数据库如何确保机密性？", set()),  # a "how" question: no typed answer
])
def test_answer_types(q, types):
    assert set(analyze(q).types) == types


def test_negatives_are_not_typed():
    # "第几号决议" asks for a reference, not a date; "在哪一天" is a date, not a place
    assert analyze("工作组是依据第几号决议设立的？").types == {"reference"}
    assert analyze("报告是在哪一天通过的？").types == {"date"}
    # "首要目标" is a purpose, not a list
    assert analyze("其首要目标是什么？").types == {"purpose"}
    # "哪三步" asks for a list of three, not for a count
    assert analyze("是指哪三步？").types == {"list"}
    assert analyze("是指哪三步？").list_size == "三"
    assert analyze("What were the two focuses of the activities?").list_size == "两"


def test_parts_of_multi_part_questions():
    a = analyze("美国政府道德办公室是依据哪部法律设立的？其首要目标是什么？")
    assert [p.text for p in a.parts] == ["美国政府道德办公室是依据哪部法律设立的？", "其首要目标是什么？"]
    assert split_parts("Which institution is the main body, and what powers does it have?") == [
        "Which institution is the main body", "what powers does it have?"]
    assert split_parts("那利益冲突呢？") == ["那利益冲突呢？"]
    # a second part asking nothing typed is no separate question
    assert len(analyze("第 8/7 号决议的标题是什么？它与会议的议题有何关系？").parts) == 1


def test_two_counts_and_two_years():
    a = analyze("在阿富汗，有多少名检察官和司法官员接受了培训？")
    assert [p.quantity for p in a.parts] == [("名", "检察"), ("名", "司法")]
    a = analyze("2017年和2019年的报告分别介绍了哪些工作？")
    assert [p.year for p in a.parts] == [2017, 2019]


def test_quantity_quotes_and_numbers():
    assert asked_quantity("有多少名专家？") == ("名", "专家")
    assert asked_quantity("举办了几次区域会议？") == ("次", "区域")
    assert asked_quantity("提供了多少资金？") is None
    assert quoted_terms("厄瓜多尔的“透明度队”是什么？") == ["透明度队"]
    assert quoted_terms('What is the "revolving door"?') == []
    assert analyze("截至2011年5月27日，有多少个会员国？").numbers == ("2011", "5", "27")
