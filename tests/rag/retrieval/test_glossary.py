"""The English-Chinese glossary and named entities (``rag.retrieval.glossary``)."""

from __future__ import annotations

from rag.retrieval.glossary import load_glossary, translate_terms


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
