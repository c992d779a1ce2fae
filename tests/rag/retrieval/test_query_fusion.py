"""Pure parts of retrieval: reference parsing, reciprocal-rank fusion, the glossary."""

from __future__ import annotations

import pytest

from rag.retrieval.fusion import rrf
from rag.retrieval.glossary import load_glossary, translate_terms
from rag.retrieval.query import from_chinese_numeral, parse_refs, to_chinese_numeral


def test_rrf_matches_hand_computed_scores_and_is_stable_on_ties():
    # a: 1/(1+1) + 0 ; b: 1/(1+2) + 1/(1+1) ; c: 1/(1+3) + 1/(1+2) ; d: 1/(1+3)
    fused = rrf([["a", "b", "c"], ["b", "c", "d"]], k=1)
    assert [x for x, _ in fused] == ["b", "c", "a", "d"]
    assert fused[0][1] == pytest.approx(1 / 3 + 1 / 2)
    tie = rrf([["x", "y"], ["y", "x"]], k=60)
    assert [x for x, _ in tie] == ["x", "y"]  # equal scores keep first appearance
    assert rrf([["a", "a", "b"]], k=1) == [("a", 0.5), ("b", 0.25)]  # duplicates count once, at best rank
    assert rrf([["a"], ["b"]], k=1, weights=[1.0, 3.0])[0][0] == "b"
    with pytest.raises(ValueError, match="2 weights for 1 rankings"):
        rrf([["a"]], weights=[1, 2])


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


def test_glossary_translates_phrases_longest_first_and_plurals():
    terms = translate_terms("asset declarations and conflicts of interest of public officials in Pakistan")
    assert terms[:3] == ["资产申报", "申报", "利益冲突"] and "公职人员" in terms and "巴基斯坦" in terms
    assert translate_terms("Working Group on Prevention")[0] == "预防腐败问题工作组"
    assert translate_terms("nothing relevant here") == []


def test_glossary_terms_mostly_occur_in_corpus(corpus):
    """The glossary is written for the UN's Chinese terminology; its domain terms must be the forms the
    documents use (a mistranslated term silently costs recall)."""
    terms = load_glossary().zh
    text = "".join(p.text for p in corpus.paragraphs)
    domain = ["asset declaration", "conflict of interest", "whistleblower", "code of conduct", "public procurement",
              "technical assistance", "implementation review mechanism", "anti-corruption body", "civil society",
              "private sector", "south-south cooperation", "osce", "greco", "iaca", "siemens", "unodc", "undp"]
    for en in domain:
        assert terms[en][0] in text, en


def test_named_entities_in_both_languages():
    from rag.retrieval.glossary import named_entities

    assert named_entities("What did the OSCE and the World Bank do in Kenya?") == [("欧安组织",), ("世界银行",), ("肯尼亚",)]
    assert named_entities("阿拉伯联合酋长国的国家审计院") == [("阿拉伯联合酋长国",)]  # not also a shorter name inside it
    assert named_entities("资产申报制度") == []
