"""Export of one answer as plain text, Markdown and Word: UN-style footnotes (real ones in Word), the
labels in the interface language, refusals with the nearest paragraphs, hostile text kept as text."""

from __future__ import annotations

import io
import re
import zipfile
from datetime import UTC, datetime

import docx
import pytest
from docx.opc.constants import CONTENT_TYPE as CT
from docx.opc.constants import RELATIONSHIP_TYPE as RT
from docx.oxml.ns import qn
from lxml import etree
from markdown_it import MarkdownIt

from rag.corpus.records import Citation
from rag.errors import UncacQAError
from rag.result import REFUSAL, AnswerResult, AnswerSentence, Retrieved
from ui.doc_text import plain
from ui.export import FORMATS, export_answer
from ui.i18n import t

QUESTION = "工作组关于资产申报提出了什么建议？"
NOW = datetime(2026, 12, 1, 9, 30)
DOC = "wg4-2019-l1-add1"
SYMBOL = "CAC/COSP/WG.4/2019/L.1/Add.1"
LANGS = ("zh", "en")


def cite(para=5, quote="", doc=DOC, symbol=SYMBOL):
    return Citation(doc, symbol, para, None, f"{symbol}, para. {para}", f"{symbol}，第 {para} 段", quote,
                    f"/source/{doc}#p{para}")


def answer(*sentences: AnswerSentence, cites=(), question="q", **kw) -> AnswerResult:
    return AnswerResult(question, " ".join(s.text for s in sentences), False, tuple(cites), sentences=sentences, **kw)


def label(c: Citation, lang: str) -> str:
    return c.label_zh if lang == "zh" else c.label_en


def distinct_labels(result: AnswerResult, lang: str) -> list[str]:
    """The labels in the order the sentences first cite them: the footnotes' order."""
    return list(dict.fromkeys(label(result.citations[i], lang) for s in result.sentences for i in s.citations))


def text_of(result, fmt, lang, corpus=None) -> str:
    return export_answer(result, fmt, lang, corpus, now=NOW).data.decode("utf-8")


# --- reading a .docx back -----------------------------------------------------------------------------

def open_docx(data: bytes) -> docx.document.Document:
    return docx.Document(io.BytesIO(data))


def footnotes(data: bytes) -> dict[int, str]:
    """The footnotes part's notes (not the separators), id -> text."""
    root = etree.fromstring(open_docx(data).part.part_related_by(RT.FOOTNOTES).blob)
    notes = {int(fn.get(qn("w:id"))): "".join(fn.itertext()) for fn in root.iter(qn("w:footnote"))}
    assert notes.pop(-1) == "" and notes.pop(0) == ""  # the separator and continuation separator
    return notes


def body_marks(data: bytes) -> list[tuple[str, list[int], list[str]]]:
    """Each body paragraph: its text, its footnote references, its NOTEREF cross-references."""
    out = []
    for p in open_docx(data).paragraphs:
        refs = [int(r.get(qn("w:id"))) for r in p._p.iter(qn("w:footnoteReference"))]
        fields = [f.get(qn("w:instr")) for f in p._p.iter(qn("w:fldSimple"))]
        out.append((p.text, refs, fields))
    return out


def zip_parts(data: bytes) -> dict[str, str]:
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        assert z.testzip() is None
        return {n: z.read(n).decode("utf-8", "replace") for n in z.namelist()}


# --- Word ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("lang", LANGS)
def test_docx_has_a_real_footnote_per_citation_label_in_order(fake_engine, corpus, lang):
    result = fake_engine.ask(QUESTION)
    assert not result.refused and len(result.citations) >= 2
    data = export_answer(result, "docx", lang, corpus, now=NOW).data
    labels = distinct_labels(result, lang)
    notes = footnotes(data)
    assert sorted(notes) == list(range(1, len(labels) + 1))
    for n, lb in enumerate(labels, 1):
        assert lb in notes[n]
    for c in result.citations:
        assert plain(c.quote) in notes[labels.index(label(c, lang)) + 1]
    other = "en" if lang == "zh" else "zh"
    assert not any(label(c, other) in "".join(notes.values()) for c in result.citations)

    paragraphs = body_marks(data)
    assert paragraphs[0][0] == t("export_heading", lang, question=QUESTION)
    refs_in_order = [n for _, refs, _ in paragraphs for n in refs]
    assert refs_in_order == list(range(1, len(labels) + 1))
    for s in result.sentences:  # each sentence is a paragraph carrying the references of its citations
        _, refs, _ = next(p for p in paragraphs if plain(s.text) in p[0])
        assert refs == [labels.index(label(result.citations[i], lang)) + 1 for i in s.citations]


def test_docx_package_declares_the_footnotes_part_and_its_styles(fake_engine, corpus):
    out = export_answer(fake_engine.ask(QUESTION), "docx", "en", corpus, now=NOW)
    assert out.media_type == "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    parts = zip_parts(out.data)
    types = etree.fromstring(parts["[Content_Types].xml"].encode())
    overrides = {o.get("PartName"): o.get("ContentType") for o in types}
    assert overrides["/word/footnotes.xml"] == CT.WML_FOOTNOTES
    rels = etree.fromstring(parts["word/_rels/document.xml.rels"].encode())
    assert [r.get("Target") for r in rels if r.get("Type") == RT.FOOTNOTES] == ["footnotes.xml"]
    assert 'w:type="separator" w:id="-1"' in parts["word/footnotes.xml"]
    assert 'w:type="continuationSeparator" w:id="0"' in parts["word/footnotes.xml"]
    styles = etree.fromstring(parts["word/styles.xml"].encode())
    ref_style = next(s for s in styles.iter(qn("w:style")) if s.get(qn("w:styleId")) == "FootnoteReference")
    assert ref_style.find(f".//{qn('w:vertAlign')}").get(qn("w:val")) == "superscript"
    settings = etree.fromstring(parts["word/settings.xml"].encode())
    names = [etree.QName(c).localname for c in settings]
    assert names.index("footnotePr") < names.index("compat")  # the schema's order, which Word enforces


def test_docx_sets_an_east_asian_font_so_chinese_renders(fake_engine, corpus):
    result = fake_engine.ask(QUESTION)
    data = export_answer(result, "docx", "en", corpus, now=NOW).data
    styles = etree.fromstring(zip_parts(data)["word/styles.xml"].encode())
    defaults = styles.find(f"{qn('w:docDefaults')}//{qn('w:rFonts')}")
    assert defaults.get(qn("w:eastAsia")) == "SimSun"
    # a theme font would win over the explicit one, and the template's theme East Asian font is Japanese
    assert not any(rf.get(qn("w:eastAsiaTheme")) for rf in styles.iter(qn("w:rFonts")))
    assert styles.find(f"{qn('w:docDefaults')}//{qn('w:lang')}").get(qn("w:eastAsia")) == "zh-CN"
    doc = open_docx(data)
    body = "\n".join(p.text for p in doc.paragraphs)
    assert all(plain(s.text) in body for s in result.sentences) and "资产" in body
    assert doc.core_properties.title == f"Question: {QUESTION}"
    utc = NOW.replace(tzinfo=UTC)
    assert doc.core_properties.created == utc and doc.core_properties.modified == utc


def test_docx_repeated_label_is_one_footnote_and_a_cross_reference(corpus):
    a, b = cite(5, quote="甲。"), cite(5, quote="乙。")
    r = answer(AnswerSentence("一。", (0,)), AnswerSentence("二。", (2,)), AnswerSentence("三。", (1,)),
               cites=(a, b, cite(6, quote="丙。")))
    data = export_answer(r, "docx", "en", corpus, now=NOW).data
    notes = footnotes(data)
    assert sorted(notes) == [1, 2]
    assert f"{SYMBOL}, para. 5" in notes[1] and "“甲。”" in notes[1] and "“乙。”" in notes[1]
    assert f"{SYMBOL}, para. 6" in notes[2]
    marks = {text: (refs, fields) for text, refs, fields in body_marks(data)}
    assert marks["一。"][0] == [1] and marks["二。"][0] == [2]
    assert marks["三。"][0] == [] and marks["三。"][1] == [" NOTEREF _RefNote1 \\f \\h "]
    # the official UN link, in the reader's language, as a real external hyperlink of the footnotes part
    footnotes_part = open_docx(data).part.part_related_by(RT.FOOTNOTES)
    links = [rel.target_ref for rel in footnotes_part.rels.values() if rel.reltype == RT.HYPERLINK]
    assert links == [f"https://undocs.org/en/{SYMBOL}"] and all(rel.is_external for rel in footnotes_part.rels.values())
    assert len(etree.fromstring(footnotes_part.blob).findall(f".//{qn('w:hyperlink')}")) == 2  # one per note


def test_docx_is_deterministic_for_a_given_time(fake_engine, corpus):
    result = fake_engine.ask(QUESTION)
    one, two = (export_answer(result, "docx", "zh", corpus, now=NOW) for _ in range(2))
    assert one == two
    assert re.fullmatch(r"uncac-answer-2026-12-01-[0-9a-f]{8}\.docx", one.filename)
    assert one.filename.isascii()


# --- plain text and Markdown ----------------------------------------------------------------------------

@pytest.mark.parametrize("lang", LANGS)
def test_txt_has_each_label_once_and_a_marker_after_each_sentence(fake_engine, corpus, lang):
    result = fake_engine.ask(QUESTION)
    out = export_answer(result, "txt", lang, corpus, now=NOW)
    assert out.media_type.startswith("text/plain") and out.filename.endswith(".txt")
    text = out.data.decode("utf-8")
    labels = distinct_labels(result, lang)
    assert text.startswith(t("export_heading", lang, question=QUESTION) + "\n")
    body, _, notes = text.partition("\n" + t("export_notes", lang) + "\n")
    for n, lb in enumerate(labels, 1):
        assert text.count(lb) == 1 and f"[{n}] {lb} — “" in notes
    for s in result.sentences:
        marks = "".join(f"[{labels.index(label(result.citations[i], lang)) + 1}]" for i in s.citations)
        assert f"{plain(s.text)}{marks}\n" in body


@pytest.mark.parametrize("lang", LANGS)
def test_md_footnotes_are_valid_and_each_label_appears_once(fake_engine, corpus, lang):
    result = fake_engine.ask(QUESTION)
    out = export_answer(result, "md", lang, corpus, now=NOW)
    assert out.media_type.startswith("text/markdown") and out.filename.endswith(".md")
    md = out.data.decode("utf-8")
    labels = distinct_labels(result, lang)
    definitions = re.findall(r"^\[\^(\d+)\]: (.+)$", md, flags=re.MULTILINE)
    assert [int(n) for n, _ in definitions] == list(range(1, len(labels) + 1))
    for (_, note), lb in zip(definitions, labels):
        assert note.startswith(f"{lb} — “")
        assert md.count(lb) == 1
    references = re.findall(r"(?<=\S)\[\^(\d+)\](?!:)", md)
    assert sorted(set(references), key=int) == [n for n, _ in definitions]  # every note referenced, none missing
    assert md.startswith("# ") and md.index("\n[^1]: ") > max(md.index(f"[^{n}]") for n in references)  # notes last
    for s in result.sentences:
        marks = "".join(f"[^{labels.index(label(result.citations[i], lang)) + 1}]" for i in s.citations)
        assert f"{plain(s.text)}{marks}\n" in md


def test_official_link_in_the_readers_language_in_every_format(corpus):
    r = answer(AnswerSentence("一。", (0,)), cites=(cite(5, quote="甲。"),))
    assert f"[1] {SYMBOL}, para. 5 — “甲。” https://undocs.org/en/{SYMBOL}" in text_of(r, "txt", "en", corpus)
    assert f"[^1]: {SYMBOL}，第 5 段 — “甲。” <https://undocs.org/zh/{SYMBOL}>" in text_of(r, "md", "zh", corpus)
    assert "undocs.org" not in text_of(r, "txt", "en")  # no corpus, no link


def test_unsupported_sentence_lead_in_and_notice_are_exported(corpus):
    r = AnswerResult(
        "q", "The documents state (quoted in the original Chinese):\n甲。 乙。", False, (cite(5, quote="甲。"),),
        sentences=(AnswerSentence("甲。", (0,)), AnswerSentence("乙。", (), supported=False)),
        notice="x", notices=(("zh", "提示文字"), ("en", "A note")),
    )
    text = text_of(r, "txt", "en", corpus)
    assert "\nThe documents state (quoted in the original Chinese):\n" in text
    assert "甲。[1]\n乙。 (not supported by a source)\n" in text and "Note: A note" in text
    assert "乙。 *(not supported by a source)*" in text_of(r, "md", "en", corpus)
    assert "乙。（无来源支持）" in text_of(r, "txt", "zh", corpus) and "提示：提示文字" in text_of(r, "txt", "zh", corpus)
    body = [p.text for p in open_docx(export_answer(r, "docx", "en", corpus, now=NOW).data).paragraphs]
    assert "乙。 (not supported by a source)" in body and "Note: A note" in body


# --- refusals --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("lang", LANGS)
def test_refusal_says_not_found_and_lists_the_nearest_paragraphs(fake_engine, corpus, fmt, lang):
    result = fake_engine.ask("What about quantum teleportation?")  # no term the fake engine knows
    assert result.refused and len(result.retrieved) == 2
    data = export_answer(result, fmt, lang, corpus, now=NOW).data
    text = "\n".join(p.text for p in open_docx(data).paragraphs) if fmt == "docx" else data.decode("utf-8")
    assert ("未在文件中找到答案" if lang == "zh" else "Not found in the documents") in text
    assert t("nearest", lang) in text
    for r in result.retrieved:
        p = corpus.paragraph(r.doc_id, r.para)
        lb = p.label_zh if lang == "zh" else p.label_en
        assert (lb.replace("[", "\\[") if fmt == "md" else lb) in text
        assert " ".join(p.text.split())[:20] in text  # a snippet of the paragraph
    if fmt == "docx":
        assert "footnotes.xml" not in zip_parts(data)  # nothing to footnote


def test_refusal_uses_the_labels_it_carries_and_the_notice_in_the_readers_language():
    r = AnswerResult(
        "q", REFUSAL["zh"], True,
        retrieved=(Retrieved("gone", 3, 0.4, label_en="X/1, para. 3", label_zh="X/1，第 3 段", text="某段落。"),),
        notice="n", notices=(("zh", "文件中没有提到量子。"), ("en", "The documents never mention quantum.")),
    )
    en, zh = text_of(r, "txt", "en"), text_of(r, "txt", "zh")
    assert "- X/1, para. 3 — 某段落。" in en and "The documents never mention quantum." in en
    assert "- X/1，第 3 段 — 某段落。" in zh and "文件中没有提到量子。" in zh
    assert en.index("Not found") < en.index("never mention") < en.index("X/1")


# --- hostile text ------------------------------------------------------------------------------------------

def hostile_answer(hostile_corpus) -> AnswerResult:
    p = hostile_corpus.paragraph("evil-doc", 2)
    c = Citation("evil-doc", "CAC/COSP/<b>1</b>", 2, None, p.label_en, p.label_zh, p.text, "javascript:alert(8)")
    extra = "另一句 <script>alert(9)</script> *星* [x](javascript:alert(10)) <a href=javascript:alert(11)>a</a>\x00。"
    return answer(AnswerSentence(p.text, (0,)), AnswerSentence(extra, (0,), supported=False), cites=(c,),
                  question="<script>alert(12)</script> **q** [y](javascript:alert(13))")


def test_hostile_text_stays_text_in_markdown(hostile_corpus):
    md = text_of(hostile_answer(hostile_corpus), "md", "en", hostile_corpus)
    assert "<script" not in md and "<b>" not in md and "<img" not in md and "<a " not in md
    html = MarkdownIt("commonmark").render(md)
    assert "<script" not in html and "<img" not in html and "<b>" not in html and "<a " not in html
    assert "*星*" in html and "$x$" in html and "<em>星" not in html  # the asterisks are shown, not emphasis
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "javascript:alert(3)" not in md and "\x00" not in md


@pytest.mark.parametrize("fmt", FORMATS)
def test_no_javascript_link_in_any_format(hostile_corpus, fmt):
    data = export_answer(hostile_answer(hostile_corpus), fmt, "zh", hostile_corpus, now=NOW).data
    texts = zip_parts(data).values() if fmt == "docx" else [data.decode("utf-8")]
    for text in texts:  # no Markdown link to javascript: (text is pasted into Markdown) nor Word hyperlink
        assert not re.search(r"\]\(\s*javascript:|Target=\"javascript:", text)
        assert "alert(7)" not in text and "alert(8)" not in text  # the official URL and the citation url
    if fmt == "docx":
        notes = footnotes(data)
        assert "CAC/COSP/<b>1</b>" in notes[1]  # the label as the document wrote it, as text
        assert any("<script>alert(9)</script>" in p.text for p in open_docx(data).paragraphs)
        rels = open_docx(data).part.part_related_by(RT.FOOTNOTES).rels.values()
        assert not [r for r in rels if r.reltype == RT.HYPERLINK]


# --- errors ---------------------------------------------------------------------------------------------------

def test_bad_format_or_language_is_one_clear_error():
    r = answer(AnswerSentence("甲。", ()))
    with pytest.raises(UncacQAError, match=r"export format 'pdf'; allowed: 'txt', 'md', 'docx'"):
        export_answer(r, "pdf", "en")
    with pytest.raises(UncacQAError, match=r"export language 'fr'; allowed: 'zh', 'en'"):
        export_answer(r, "txt", "fr")
