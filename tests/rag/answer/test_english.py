"""English facts of Chinese units: every English word from a span through a table or the gazetteer."""

from __future__ import annotations

from rag.answer.english import english_date, english_facts


def test_dates():
    assert english_date("2017 年 8 月 21 日至 23 日") == "21–23 August 2017"
    assert english_date("2010年12月13日至15日") == "13–15 December 2010"
    assert english_date("2011 年 5 月") == "May 2011"
    assert english_date("2011 年") == "2011"


def test_facts_by_type():
    t = "工作组的会议由缔约国会议主席 Alexander Kononov (俄罗斯联邦) 和副主席 Andrés Lamoliatte Vargas (智利) 主持。"
    assert english_facts(t, {"person"}) == ["Alexander Kononov (Russian Federation)", "Andrés Lamoliatte Vargas (Chile)"]
    assert english_facts("至今已有来自阿富汗各地的1,600多名检察官接受了培训。", {"count"}) == ["more than 1,600"]
    assert english_facts("依照第 8/7 号决议", {"reference"}) == ["resolution 8/7"]


def test_nothing_invented():
    # a Chinese name with no gazetteer entry is left out, not transliterated or guessed
    assert english_facts("某某协进会举办了讲习班。") == []
