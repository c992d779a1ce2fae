"""Reference parsing (``rag.retrieval.query``)."""

from __future__ import annotations

import pytest

from rag.retrieval.query import from_chinese_numeral, parse_refs, to_chinese_numeral


@pytest.mark.parametrize("q, field, want", [
    ("第 3/2 号决议设立了什么？", "resolutions", ("3/2",)),
    ("What does resolution 7/5 request?", "resolutions", ("7/5",)),
    ("《公约》第 6 条和第十三条", "articles", (6, 13)),
    ("article 12 of the Convention", "articles", (12,)),
    ("CAC/COSP/WG.4/2019/L.1/Add.1, para. 5 (b)", "paras", ((5, "b"),)),
    ("第 54 段 (j) 说了什么", "paras", ((54, "j"),)),
    ("the twelfth meeting of the Working Group", "meetings", (12,)),
    ("工作组第十一次会议", "meetings", (11,)),
    ("2017年会议", "years", (2017,)),
    ("CAC/COSP/WG.4/2019/L.1/Add.1", "years", ()),  # the year inside a symbol is not a year asked about
])
def test_parse_refs(q, field, want):
    assert getattr(parse_refs(q), field) == want


def test_chinese_numerals_round_trip():
    for n in range(1, 100):
        assert from_chinese_numeral(to_chinese_numeral(n)) == n
    assert from_chinese_numeral("abc") is None


def test_reference_patterns_find_mentions_in_corpus(corpus):
    def hits(q):
        pats = parse_refs(q).patterns()
        return {p.key for p in corpus.paragraphs if any(x.search(p.text) for x in pats)}

    assert ("cosp4-prevention-background-2011", 1) in hits("第 3/2 号决议")  # "第3/2号决议" without spaces
    assert ("cosp4-prevention-background-2011", 11) in hits("article 12")  # "第 5、7、12 和 13 条"
    assert ("wg4-report-2017", 5) in hits("第十三条")  # "第十三条第一款"
    assert ("cosp4-prevention-background-2011", 11) not in hits("article 2")
