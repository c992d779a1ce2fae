"""Golden tests of the parser on the five real documents (see golden_paragraphs.yaml)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from rag.corpus.manifest import load_manifest
from rag.corpus.parser import parse_document
from rag.corpus.records import DocumentMeta
from rag.errors import CorpusError

GOLDEN = yaml.safe_load((Path(__file__).parent / "golden_paragraphs.yaml").read_text(encoding="utf-8"))


def test_every_document_has_exactly_its_paragraph_sequence(corpus):
    for doc in corpus.documents:
        nums = [p.para for p in doc.paragraphs]
        assert nums == list(range(1, GOLDEN["counts"][doc.doc_id] + 1)), doc.doc_id


@pytest.mark.parametrize("g", GOLDEN["paragraphs"], ids=lambda g: f"{g['doc']}-{g['para']}")
def test_golden_first_and_last_characters(corpus, g):
    p = corpus.paragraph(g["doc"], g["para"])
    assert p is not None
    assert p.text.startswith(g["first"])
    assert p.text.replace("\n", "").endswith(g["last"])


FURNITURE = [r"V\.\d{2}-\d{5}", r"\*\d{7}\*", r"^\s*\d{1,3}\s*$", r"^\s*-\s*$", r"Distr\.", r"Original: English"]


def test_no_page_furniture_or_footnote_text_in_any_paragraph(corpus):
    for p in corpus.paragraphs:
        for pat in FURNITURE:
            assert not re.search(pat, p.text, re.M), (p.label_en, pat)
        for line in p.text.split("\n"):
            assert line.strip() and line == line.strip(), (p.label_en, line)
        for d in corpus.documents:
            for f in [f for q in d.paragraphs for f in q.footnotes] + list(d.footnotes):
                assert f.text not in p.text, (p.label_en, f.text[:20])


def test_agenda_items_stay_inside_their_paragraph(corpus):
    for doc, n in (("wg4-report-2020", 11), ("wg4-report-2017", 28)):
        p = corpus.paragraph(doc, n)
        assert "\n1. 组织事项：" in p.text and "\n4. 通过报告。" in p.text
        assert p.subs == ()  # agenda (a)/(b) lines are not sub-paragraphs of the paragraph


def test_numbered_subheadings_become_sections(corpus):
    p = corpus.paragraph("cosp4-technical-assistance-2011", 19)
    assert p.section[-2:] == ("1. 立法和能力建设方面因地制宜的援助", "(a) “争取实现有效的全球反腐败制度”全球方案的实施")
    assert corpus.paragraph("cosp4-technical-assistance-2011", 41).section[-1] == "(b) 资产追回方面的援助"
    assert corpus.paragraph("wg4-report-2017", 34).section[-1].startswith("(一) 在中小学和大学开展反腐败努力")
    assert corpus.paragraph("cosp4-prevention-background-2011", 54).section == ("四. 工作组第二次会议商定的结论和建议",)


def test_wrapped_pdf_heading_is_joined(corpus):
    sec = corpus.paragraph("wg4-2019-l1-add1", 1).section
    assert sec[0] == ("三. 执行缔约国会议题为“促进预防腐败措施”的第 7/5 号决议和题为“《马拉喀什预防腐败宣言》"
                      "的后续行动”的第 7/6 号决议以及工作组 2018 年 9 月举行的会议商定的建议")
    assert sec[1] == "口头报告执行缔约国会议第 7/5 号决议和第 7/6 号决议的最新情况"
    assert corpus.paragraph("wg4-2019-l1-add1", 16).section[-1] == "B. 其他建议"


def test_sub_paragraphs_are_addressable(corpus):
    p = corpus.paragraph("cosp4-prevention-background-2011", 54)
    assert [s.label for s in p.subs] == list("abcdefghijklmnop")
    assert p.sub("j").text.startswith("工作组重申缔约国应当在社会所有各部门继续加强提高认识和教育工作")
    assert p.sub("j").text.endswith("集中注意与年轻人和儿童展开合作；")
    # (一)/(二) nested in (b) belong to (b), not to the paragraph's own list
    assert "\n(一) 实施《公约》第 12 条" in p.sub("b").text and "(二) 利益冲突、举报腐败行为和资产申报" in p.sub("b").text
    assert "\n(j) 工作组重申" in p.text


def test_inline_sub_items_are_split_out(corpus):
    p = corpus.paragraph("cosp4-technical-assistance-2011", 17)
    assert [s.label for s in p.subs] == list("abcde")
    assert p.sub("d").text == "同其他联合国实体进行更有效的合作和规划；"
    q = corpus.paragraph("cosp4-prevention-background-2011", 50)
    assert [s.label for s in q.subs] == list("abcdef")
    assert q.sub("e").text == "腐败和社会投资；" and q.sub("f").text == "内部信息。"
    # "第十三条第一款第(三)项" is a citation of the Convention, not an item run
    assert all(s.label != "三" for s in corpus.paragraph("wg4-report-2017", 5).subs)


def test_footnotes_attached_to_the_citing_paragraph(corpus):
    p = corpus.paragraph("cosp4-prevention-background-2011", 12)
    assert [f.mark for f in p.footnotes] == ["1"] and p.footnotes[0].text.startswith("阿塞拜疆、白俄罗斯")
    assert "¹" in p.text  # the mark stays where the author put it
    # a footnote cited from a section heading goes to the first paragraph under it
    assert corpus.paragraph("wg4-report-2020", 16).footnotes[0].text.startswith("题为“促进《联合国反腐败公约》")
    assert corpus.paragraph("wg4-report-2020", 17).footnotes[0].mark == "3"
    # the header's "*" note (provisional agenda) is a note on the document, not on a paragraph
    doc = corpus.document("cosp4-prevention-background-2011")
    assert [f.text for f in doc.footnotes] == ["CAC/COSP/2011/1。"]


def test_labels_use_symbol_else_short_ref(corpus):
    p = corpus.paragraph("wg4-2019-l1-add1", 5)
    assert p.label_en == "CAC/COSP/WG.4/2019/L.1/Add.1, para. 5"
    assert p.label_zh == "CAC/COSP/WG.4/2019/L.1/Add.1，第 5 段"
    q = corpus.paragraph("wg4-report-2017", 12)
    assert q.label_en == "Report of the Working Group on Prevention, Vienna, 21-23 Aug 2017, para. 12"
    assert q.label_zh == "2017年预防腐败问题工作组会议报告，第 12 段"


def test_ids_are_stable_and_content_addressed(corpus, settings):
    meta = load_manifest(settings.path(settings.corpus.manifest))[3]
    text = settings.path(settings.corpus.manifest).parent.joinpath(meta.file).read_text(encoding="utf-8")
    again = parse_document(text, meta)
    assert [p.id for p in again.paragraphs] == [p.id for p in corpus.document(meta.doc_id).paragraphs]
    edited = parse_document(text.replace("主席介绍了", "主席简要介绍了"), meta)
    assert edited.paragraphs[0].id != again.paragraphs[0].id and edited.paragraphs[1].id == again.paragraphs[1].id
    assert len({p.id for p in corpus.paragraphs}) == len(corpus.paragraphs)


def test_text_without_numbered_paragraph_is_rejected():
    meta = DocumentMeta("empty", "empty.txt", None, "Empty", "Empty")
    with pytest.raises(CorpusError, match=r"'empty' \(empty.txt\) has no numbered paragraph"):
        parse_document("一. 导言\n\n这里没有编号段落。\n", meta)
