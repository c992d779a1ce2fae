"""Rendering of answers, citations and sources: labels, links, highlights, escaping."""

from __future__ import annotations

import re

from rag.corpus.records import Citation
from rag.result import REFUSAL, AnswerResult, AnswerSentence, Retrieved
from ui.render import (
    answer_steps, citation_link, escape, highlight, render_answer, render_question, render_sources, safe_href,
)

DOC = "wg4-2019-l1-add1"
SYMBOL = "CAC/COSP/WG.4/2019/L.1/Add.1"


def cite(para=5, sub=None, quote="", doc=DOC):
    s = f" ({sub})" if sub else ""
    return Citation(doc, SYMBOL, para, sub, f"{SYMBOL}, para. {para}{s}", f"{SYMBOL}，第 {para} 段{s}", quote,
                    f"/source/{doc}#p{para}" + (f"-{sub}" if sub else ""))


def result_for(corpus, *cites, sentences=None, **kw):
    sents = sentences or tuple(AnswerSentence(c.quote or "x", (i,)) for i, c in enumerate(cites))
    return AnswerResult("q", " ".join(s.text for s in sents), False, tuple(cites), sentences=sents, **kw)


def test_citation_link_label_in_interface_language_and_viewer_anchor():
    zh, en = citation_link(cite(5), "zh"), citation_link(cite(5), "en")
    # the viewer opens in the reader's language (the widget's English links stayed Chinese before)
    assert 'href="/source/wg4-2019-l1-add1?lang=zh#p5"' in zh and "，第 5 段" in zh
    assert 'href="/source/wg4-2019-l1-add1?lang=en#p5"' in en and "para. 5" in en and 'target="_blank"' in en
    sub = citation_link(cite(54, "j", doc="cosp4-prevention-background-2011"), "en")
    assert 'href="/source/cosp4-prevention-background-2011?lang=en#p54-j"' in sub and "para. 54 (j)" in sub


def test_link_is_rebuilt_from_parts_not_trusted():
    c = Citation(DOC, SYMBOL, 5, None, "l", "l", "q", "javascript:alert(1)")
    assert "javascript" not in citation_link(c, "en")


def test_answer_each_sentence_followed_by_its_citations(corpus):
    p5 = corpus.paragraph(DOC, 5)
    r = result_for(corpus, cite(5, quote=p5.text[:30]), cite(6, quote="y"))
    html = render_answer(r, "zh", corpus)
    first, second = html.split("</p>")[:2]
    assert "#p5" in first and "#p6" not in first and "#p6" in second
    assert answer_steps(r) == 2
    assert "#p6" not in render_answer(r, "zh", corpus, upto=1)  # streaming: first sentence only


def test_refusal_says_not_found_and_links_nearest(corpus):
    r = AnswerResult("q", REFUSAL["en"], True, retrieved=(Retrieved(DOC, 5, 0.7), Retrieved(DOC, 6, 0.6)))
    html = render_answer(r, "en", corpus)
    assert "Not found in the documents" in html
    assert html.count('class="cite"') == 2 and "#p5" in html and "#p6" in html
    assert "未在文件中找到答案" in render_answer(r, "zh", corpus)
    assert "#p5" in render_sources(r, corpus, "zh")  # the nearest paragraphs in the panel too


def test_document_and_question_text_is_escaped_never_markup():
    evil = '<script>alert(1)</script><img src=x onerror=alert(2)> [x](javascript:alert(3)) **b** $x$ `c`'
    for html in (escape(evil), render_question(evil)):
        assert "<script" not in html and "<img" not in html and "](" not in html and "**" not in html
        assert "&#60;script&#62;" in html
    r = AnswerResult("q", evil, False, sentences=(AnswerSentence(evil, ()),))
    assert "<script" not in render_answer(r, "en") and "<img" not in render_answer(r, "en")
    assert "\ufffd" in escape("a\x00b") and "\x00" not in escape("a\x00b")


def test_attribute_values_cannot_break_out(corpus):
    c = Citation(DOC, SYMBOL, 5, None, 'x" onmouseover="alert(1)', 'x" onmouseover="alert(1)', "", "/source/x#p5")
    html = render_sources(result_for(corpus, c), corpus, "en")
    assert 'onmouseover="' not in html and "&quot; onmouseover=&quot;" in html


def test_highlight_marks_quotes_exactly_or_ignoring_whitespace():
    text = "工作组建议：缔约国 2019 年 9 月审议。其他。"
    html, missing = highlight(text, ["缔约国2019年9月审议。", "不存在的句子"])
    assert re.search(r"<mark>缔约国 2019 年 9 月审议。</mark>", html)
    assert missing == ["不存在的句子"]


def test_sources_panel_full_paragraph_mark_copy_and_official_link(corpus):
    p5 = corpus.paragraph(DOC, 5)
    quote = p5.text.split("。")[0] + "。"
    html = render_sources(result_for(corpus, cite(5, quote=quote)), corpus, "en")
    assert f"<mark>{escape(quote)}</mark>" in html
    assert escape(p5.text[-20:]) in html  # the whole paragraph, not only the quote
    assert f'data-label="{SYMBOL}, para. 5"' in html and "copy-cite" in html
    # the official link in the reader's language: English interface, English version
    assert 'href="https://undocs.org/en/CAC/COSP/WG.4/2019/L.1/Add.1"' in html
    zh = render_sources(result_for(corpus, cite(5, quote=quote)), corpus, "zh")
    assert 'href="https://undocs.org/zh/CAC/COSP/WG.4/2019/L.1/Add.1"' in zh
    other = corpus.paragraph("wg4-report-2020", 6)
    html2 = render_sources(result_for(corpus, cite(6, quote=other.text[:10], doc="wg4-report-2020")), corpus, "zh")
    assert "undocs.org" not in html2  # no official URL in the manifest: no link


def test_sources_panel_groups_citations_of_one_paragraph(corpus):
    p = corpus.paragraph("cosp4-prevention-background-2011", 54)
    a, j = p.sub("a"), p.sub("j")
    cites = (cite(54, "a", a.text, "cosp4-prevention-background-2011"), cite(54, "j", j.text, "cosp4-prevention-background-2011"))
    html = render_sources(result_for(corpus, *cites), corpus, "zh")
    assert html.count('class="src-card"') == 1 and html.count("<mark>") == 2
    assert "第 54 段 (a)" in html and "第 54 段 (j)" in html


def test_empty_panel_and_unsafe_urls(corpus):
    assert "sources" in render_sources(None, corpus, "en")
    assert safe_href("javascript:alert(1)") is None and safe_href("//evil.example") is None
    assert safe_href("https://undocs.org/zh/X") == "https://undocs.org/zh/X" and safe_href("/source/a#p1")


def test_framing_text_before_the_first_sentence_is_kept(corpus):
    s = AnswerSentence("工作组建议。", (0,))
    framed = AnswerResult("q", "The documents state (quoted in Chinese):\n- “工作组建议。” (label)", False, (cite(5),),
                          sentences=(s,), lang="en")
    html = render_answer(framed, "en", corpus)
    assert '<p class="lead">The documents state (quoted in Chinese):</p>' in html
    plain = AnswerResult("q", "工作组建议。（label）", False, (cite(5),), sentences=(s,))
    assert 'class="lead"' not in render_answer(plain, "zh", corpus)


def test_a_refusal_says_its_reason_in_the_interface_language_without_internal_words(corpus):
    r = AnswerResult("第9/6号决议说了什么？", "未在文件中找到答案。", True, retrieved=(Retrieved(DOC, 5, 0.6),),
                     lang="zh", notice="文件中没有提到第 9/6 号决议。",
                     notices=(("zh", "文件中没有提到第 9/6 号决议。"), ("en", "The documents never mention resolution 9/6.")))
    zh, en = render_answer(r, "zh", corpus), render_answer(r, "en", corpus)
    assert "文件中没有提到第 9/6 号决议。" in zh and "The documents never mention resolution 9/6." in en
    for html in (zh, en):
        assert "refused" not in html.replace('class="answer refused"', "").replace('data-refused="true"', "")
        assert "提示" not in html and "Note:" not in html  # the reason is the message, not a labelled note


def test_a_quoted_version_shows_the_other_language_version_beside_it(settings):
    from pathlib import Path

    from rag.corpus.loader import load_corpus

    en_file = Path(__file__).resolve().parents[1] / "fixtures" / "languages" / "wg4-2019-l1-add1.en.txt"
    bilingual = load_corpus(settings, [en_file])
    p = bilingual.paragraph("wg4-2019-l1-add1-en", 5)
    quote = p.text.split(". ")[0] + "."
    c = Citation(p.doc_id, p.label_en.split(",")[0], 5, None, p.label_en, p.label_zh, quote, "/source/x#p5")
    html = render_sources(result_for(bilingual, c), bilingual, "en")
    zh = bilingual.paragraph(DOC, 5)
    assert f"<mark>{escape(quote)}</mark>" in html  # the English text, quoted
    assert 'class="src-version"' in html and "Chinese version" in html and escape(zh.text[:30]) in html
    assert 'href="/source/wg4-2019-l1-add1?lang=en#p5"' in html  # the Chinese paragraph, same number
    one = render_sources(result_for(bilingual, cite(8, doc="wg4-report-2017", quote="x")), bilingual, "zh")
    assert 'class="src-version"' not in one  # a document with one version
