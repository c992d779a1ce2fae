"""One answer exported with its citations, as a delegate pastes it into a statement or a briefing note:
plain text, Markdown or a Word document, each citation a UN-style footnote (the label, then the quoted
sentence, then the official UN link where the manifest has one).

The answer is laid out once, whatever the format (:class:`Draft`: heading, sentences with their footnote
numbers, the notes); each format then writes that layout. Citations with the same label share one
footnote number, numbered in order of first use, as a reader expects. Every piece of text from a
document, a question or an answer is exported as text: a Markdown link left in a document shows as its
text, Markdown and HTML syntax is escaped in the Markdown file, and only http(s) links are ever linked.

Example::

    out = export_answer(result, "docx", "en", corpus)
    Path(tmp, out.filename).write_bytes(out.data)   # uncac-answer-2026-12-01-1a2b3c4d.docx

The output is deterministic for a given ``now`` (the date shown, the file name and, in the Word file,
the created/modified properties and the zip entries' dates), so two exports of one answer are equal.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from urllib.parse import urlsplit

import docx
from docx.opc.constants import CONTENT_TYPE as CT
from docx.opc.constants import RELATIONSHIP_TYPE as RT
from docx.opc.packuri import PackURI
from docx.opc.part import XmlPart
from docx.oxml import OxmlElement
from docx.oxml.ns import nsdecls, qn
from docx.oxml.parser import parse_xml
from docx.text.paragraph import Paragraph as DocxParagraph

from rag.corpus.loader import Corpus
from rag.corpus.records import content_hash
from rag.errors import UncacQAError, one_of
from rag.result import AnswerResult, AnswerSentence
from ui.doc_text import plain
from ui.i18n import LANGS, t
from ui.render import citation_label, lead_in, retrieved_label, snippet

FORMATS: tuple[str, ...] = ("txt", "md", "docx")
MEDIA_TYPES: dict[str, str] = {
    "txt": "text/plain; charset=utf-8",
    "md": "text/markdown; charset=utf-8",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
}
SNIPPET_CHARS = 160  # of a nearest paragraph under a refusal: enough to recognise it, the label finds it


@dataclass(frozen=True)
class Exported:
    """An exported answer: what to name the file, its media type, its bytes."""

    filename: str
    media_type: str
    data: bytes


# --- text as exported -----------------------------------------------------------------------------

# Control characters (but tab and line breaks), lone surrogates and the two non-characters: no UTF-8
# file and no XML part can hold them (lxml refuses them), so they are shown as U+FFFD, as the chat does.
_UNWRITABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff\ufffe\uffff]")


# Any other [text](target), a target with parentheses too ("javascript:alert(1)"), which
# ui.doc_text leaves alone: a delegate pastes the text into a Markdown editor, where it would be a link.
_MD_LINK_LIKE = re.compile(r"\[([^\[\]\n]{1,200})\]\(([^()\s]|\([^()\s]*\))*\)")


def clean(text: str) -> str:
    """Document text as exported: Markdown links as their text, unwritable characters as U+FFFD, and
    whitespace runs (line breaks too) as one space, since every format writes a sentence or a note on
    one line (a line break in Markdown could start a list or a heading).

    >>> clean("见（[CAC/COSP/WG.4/2017/3](#)）\\n(a) 甲\\x00")
    '见（CAC/COSP/WG.4/2017/3） (a) 甲\\ufffd'
    >>> clean("[x](javascript:alert(1))")
    'x'
    """
    text = _MD_LINK_LIKE.sub(lambda m: m.group(1), plain(text))
    return " ".join(_UNWRITABLE.sub("\ufffd", text).split())


# HTML-active characters become entities (so no "<script" appears at all, even escaped) and the
# inline Markdown punctuation is backslash-escaped; both show as the character itself.
_MD_INLINE = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", **{c: "\\" + c for c in "\\`*_[]{}#|~$!^"}})
# What starts a block only at the start of a line: a list item ("- ", "+ ", "1. ", "1) ") or a rule.
_MD_BLOCK = re.compile(r"^(?:[-+=]|\d+(?=[.)]))")


def md_escape(text: str) -> str:
    """``text`` (one line, as :func:`clean` gives) as Markdown that shows exactly that text.

    >>> md_escape("<b>*x*</b> [a](javascript:b) & $y$")
    '&lt;b&gt;\\\\*x\\\\*&lt;/b&gt; \\\\[a\\\\](javascript:b) &amp; \\\\$y\\\\$'
    >>> md_escape("1. not a list"), md_escape("- nor this")
    ('1\\\\. not a list', '\\\\- nor this')
    """
    out = text.translate(_MD_INLINE)
    if m := _MD_BLOCK.match(out):
        at = m.end() if m.group().isdigit() else 0  # "1\." but "\-"
        out = out[:at] + "\\" + out[at:]
    return out


# No whitespace, quotes or angle brackets: the link is written bare (text), in <…> (Markdown), in an
# XML attribute (Word), and must stay one link in each.
_URL_BREAKING = re.compile(r"[\s<>\"'\\`\x00-\x1f\x7f]")


def http_only(url: str | None) -> str | None:
    """``url`` when it is an absolute http(s) link that every format can write as it is, else None.

    >>> http_only("https://undocs.org/en/CAC/COSP/1")
    'https://undocs.org/en/CAC/COSP/1'
    >>> [http_only(u) for u in ("javascript:alert(1)", "/source/d#p5", "https://x/a b", None)]
    [None, None, None, None]
    """
    if not url or _URL_BREAKING.search(url):
        return None
    parts = urlsplit(url)
    return url if parts.scheme in ("http", "https") and parts.netloc else None


_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September",
           "October", "November", "December")


def long_date(d: date, lang: str) -> str:
    """A date as UN documents write it, without depending on the server's locale.

    >>> long_date(date(2026, 12, 1), "en"), long_date(date(2026, 12, 1), "zh")
    ('1 December 2026', '2026年12月1日')
    """
    return f"{d.year}年{d.month}月{d.day}日" if lang == "zh" else f"{d.day} {_MONTHS[d.month - 1]} {d.year}"


def _gap(lang: str) -> str:
    """What separates a sentence from a trailing remark: nothing before a full-width "（" in Chinese."""
    return "" if lang == "zh" else " "


def _colon(lang: str) -> str:
    return "：" if lang == "zh" else ": "


def filename(question: str, now: datetime, fmt: str) -> str:
    """An ASCII file name: the date, then a short hash of the question (which may be all Chinese).

    >>> filename("工作组关于资产申报提出了什么建议？", datetime(2026, 12, 1), "docx")
    'uncac-answer-2026-12-01-78d3db13.docx'
    """
    return f"uncac-answer-{now:%Y-%m-%d}-{content_hash(question, length=8)}.{fmt}"


# --- the layout every format writes ------------------------------------------------------------------

@dataclass(frozen=True)
class Note:
    """One footnote: a citation label, the sentences quoted from it, the official link if any."""

    number: int
    label: str
    quotes: tuple[str, ...]
    link: str | None = None


@dataclass(frozen=True)
class Line:
    """One answer sentence and the numbers of the footnotes that back it."""

    text: str
    notes: tuple[int, ...]
    supported: bool = True


@dataclass(frozen=True)
class Nearest:
    """One of the nearest paragraphs listed under a refusal."""

    label: str
    snippet: str


@dataclass(frozen=True)
class Draft:
    """An answer laid out for export in interface language ``lang``; all text already :func:`clean`."""

    lang: str
    question: str
    day: date
    refused: bool = False
    lead: str = ""
    lines: tuple[Line, ...] = ()
    notes: tuple[Note, ...] = ()
    notice: str | None = None
    nearest: tuple[Nearest, ...] = ()

    @property
    def heading(self) -> str:
        return t("export_heading", self.lang, question=self.question)

    @property
    def generated(self) -> str:
        return t("export_generated", self.lang, app=t("widget_title", self.lang), date=long_date(self.day, self.lang))


def _sentences(result: AnswerResult) -> tuple[AnswerSentence, ...]:
    """The cited sentences; an answer without them is one sentence citing everything (as the chat shows it)."""
    if result.sentences:
        return result.sentences
    return (AnswerSentence(result.answer, tuple(range(len(result.citations)))),)


def _official(corpus: Corpus | None, doc_id: str, lang: str) -> str | None:
    if corpus is None or doc_id not in corpus.doc_ids:
        return None
    return http_only(corpus.meta(doc_id).official_link(lang))


def _footnotes(result: AnswerResult, lang: str, corpus: Corpus | None) -> tuple[tuple[Line, ...], tuple[Note, ...]]:
    """The sentences with footnote numbers, and the notes. Numbers go by label, in order of first use:
    two citations with one label (one paragraph quoted twice) are one note with both quotes. A citation
    no sentence uses gets no note (a Word footnote needs its reference in the text)."""
    numbers: dict[str, int] = {}
    quotes: dict[str, list[str]] = {}
    links: dict[str, str | None] = {}
    lines = []
    for s in _sentences(result):
        marks: list[int] = []
        for i in s.citations:
            if not 0 <= i < len(result.citations):
                continue  # an index the chain never wrote; the chat skips it too
            c = result.citations[i]
            label = clean(citation_label(c, lang))
            if label not in numbers:
                numbers[label], quotes[label], links[label] = len(numbers) + 1, [], _official(corpus, c.doc_id, lang)
            if (q := clean(c.quote)) and q not in quotes[label]:
                quotes[label].append(q)
            if numbers[label] not in marks:
                marks.append(numbers[label])
        lines.append(Line(clean(s.text), tuple(marks), s.supported))
    notes = tuple(Note(n, label, tuple(quotes[label]), links[label]) for label, n in numbers.items())
    return tuple(lines), notes


def _nearest(result: AnswerResult, lang: str, corpus: Corpus | None) -> Iterator[Nearest]:
    for r in result.retrieved:
        label = (r.label_zh if lang == "zh" else r.label_en) or retrieved_label(r, corpus, lang)
        p = corpus.paragraph(r.doc_id, r.para) if corpus is not None else None
        text = r.text or (p.text if p is not None else "")
        yield Nearest(clean(label), snippet(clean(text), SNIPPET_CHARS) if text else "")


def layout(result: AnswerResult, lang: str, corpus: Corpus | None, day: date) -> Draft:
    """What an export of ``result`` says, in interface language ``lang``, dated ``day``."""
    notice = clean(n) if (n := result.notice_in(lang)) else None
    if result.refused:
        return Draft(lang, clean(result.question), day, True, notice=notice,
                     nearest=tuple(_nearest(result, lang, corpus)))
    lines, notes = _footnotes(result, lang, corpus)
    return Draft(lang, clean(result.question), day, lead=clean(lead_in(result)), lines=lines, notes=notes,
                 notice=notice)


def _quoted(quotes: tuple[str, ...]) -> str:
    return " ".join(f"“{q}”" for q in quotes)


# --- plain text and Markdown ---------------------------------------------------------------------------

def to_txt(d: Draft) -> str:
    """Plain text: markers as ``[1]``, the notes under "Notes" / "注"."""
    blocks = [d.heading]
    if d.refused:
        blocks.append(t("not_found", d.lang))
        blocks += [d.notice] if d.notice else []
        if d.nearest:
            blocks.append("\n".join([t("nearest", d.lang), *(_txt_nearest(n) for n in d.nearest)]))
    else:
        blocks += [d.lead] if d.lead else []
        blocks += ["\n".join(_txt_line(line, d.lang) for line in d.lines)]
        blocks += [t("notice", d.lang) + _colon(d.lang) + d.notice] if d.notice else []
        if d.notes:
            blocks.append("\n".join([t("export_notes", d.lang), *(_txt_note(n) for n in d.notes)]))
    blocks.append(d.generated)
    return "\n\n".join(blocks) + "\n"


def _txt_line(line: Line, lang: str) -> str:
    flag = "" if line.supported else _gap(lang) + t("unsupported", lang)
    return line.text + "".join(f"[{n}]" for n in line.notes) + flag


def _txt_nearest(n: Nearest) -> str:
    return f"- {n.label}" + (f" — {n.snippet}" if n.snippet else "")


def _txt_note(n: Note) -> str:
    return " ".join(x for x in (f"[{n.number}] {n.label}", n.quotes and "— " + _quoted(n.quotes), n.link) if x)


def to_md(d: Draft) -> str:
    """Markdown: footnotes as ``[^1]`` with ``[^1]: label — “quote” <link>`` definitions at the end."""
    blocks = ["# " + t("export_heading", d.lang, question=md_escape(d.question))]
    if d.refused:
        blocks.append(f"**{md_escape(t('not_found', d.lang))}**")
        blocks += [md_escape(d.notice)] if d.notice else []
        if d.nearest:
            blocks.append(md_escape(t("nearest", d.lang)))
            blocks.append("\n".join(f"- {md_escape(n.label)}" + (f" — {md_escape(n.snippet)}" if n.snippet else "")
                                    for n in d.nearest))
    else:
        blocks += [md_escape(d.lead)] if d.lead else []
        blocks += [_md_line(line, d.lang) for line in d.lines]
        blocks += [f"*{md_escape(t('notice', d.lang))}*{_colon(d.lang)}{md_escape(d.notice)}"] if d.notice else []
    blocks += ["---", f"*{md_escape(d.generated)}*"]
    if d.notes:
        blocks.append("\n".join(_md_note(n) for n in d.notes))
    return "\n\n".join(blocks) + "\n"


def _md_line(line: Line, lang: str) -> str:
    flag = "" if line.supported else f"{_gap(lang)}*{md_escape(t('unsupported', lang))}*"
    return md_escape(line.text) + "".join(f"[^{n}]" for n in line.notes) + flag


def _md_note(n: Note) -> str:
    quoted = " — " + md_escape(_quoted(n.quotes)) if n.quotes else ""
    return f"[^{n.number}]: {md_escape(n.label)}{quoted}" + (f" <{n.link}>" if n.link else "")


# --- Word ---------------------------------------------------------------------------------------------

LATIN_FONT = "Times New Roman"  # UN documents' fonts: Times New Roman and, for Chinese, SimSun
EAST_ASIAN_FONT = "SimSun"
_THEME_FONTS = ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme")

_FOOTNOTES_XML = f"""<w:footnotes {nsdecls("w", "r")}>
<w:footnote w:type="separator" w:id="-1"><w:p><w:pPr><w:spacing w:after="0" w:line="240" w:lineRule="auto"/></w:pPr>
<w:r><w:separator/></w:r></w:p></w:footnote>
<w:footnote w:type="continuationSeparator" w:id="0"><w:p><w:pPr><w:spacing w:after="0" w:line="240" w:lineRule="auto"/>
</w:pPr><w:r><w:continuationSeparator/></w:r></w:p></w:footnote>
</w:footnotes>"""

# Word's built-in footnote styles (its names, its ids), which the python-docx template lacks.
_NOTE_STYLES = {
    "FootnoteText": f"""<w:style {nsdecls("w")} w:type="paragraph" w:styleId="FootnoteText">
<w:name w:val="footnote text"/><w:basedOn w:val="Normal"/><w:uiPriority w:val="99"/><w:unhideWhenUsed/>
<w:pPr><w:spacing w:after="0" w:line="240" w:lineRule="auto"/></w:pPr><w:rPr><w:sz w:val="20"/><w:szCs w:val="20"/></w:rPr>
</w:style>""",
    "FootnoteReference": f"""<w:style {nsdecls("w")} w:type="character" w:styleId="FootnoteReference">
<w:name w:val="footnote reference"/><w:basedOn w:val="DefaultParagraphFont"/><w:uiPriority w:val="99"/><w:unhideWhenUsed/>
<w:rPr><w:vertAlign w:val="superscript"/></w:rPr></w:style>""",
}

# w:settings children that must come after w:footnotePr (the schema's order; Word rejects others).
_AFTER_FOOTNOTE_PR = {qn(f"w:{x}") for x in (
    "endnotePr", "compat", "docVars", "rsids", "attachedSchema", "themeFontLang", "clrSchemeMapping",
    "doNotIncludeSubdocsInStats", "doNotAutoCompressPictures", "forceUpgrade", "captions", "readModeInkLockDown",
    "smartTagType", "shapeDefaults", "doNotEmbedSmartTags", "decimalSymbol", "listSeparator",
)} | {"{http://schemas.openxmlformats.org/officeDocument/2006/math}mathPr"}


def _set_fonts(document: docx.document.Document) -> None:
    """Times New Roman and SimSun in every style. The template's theme fonts win over explicit ones and
    its theme's East Asian font is Japanese, so they are dropped, and East Asian text is marked zh-CN."""
    styles = document.styles.element
    for rfonts in styles.iter(qn("w:rFonts")):
        for attr in _THEME_FONTS:
            rfonts.attrib.pop(qn(attr), None)
        for attr, font in (("w:ascii", LATIN_FONT), ("w:hAnsi", LATIN_FONT), ("w:cs", LATIN_FONT),
                           ("w:eastAsia", EAST_ASIAN_FONT)):
            rfonts.set(qn(attr), font)
    for lang in styles.iter(qn("w:lang")):
        lang.set(qn("w:val"), "en-GB")
        lang.set(qn("w:eastAsia"), "zh-CN")
    for theme_lang in document.settings.element.iter(qn("w:themeFontLang")):
        theme_lang.set(qn("w:eastAsia"), "zh-CN")


def _add_note_styles(document: docx.document.Document) -> None:
    styles = document.styles.element
    have = {s.get(qn("w:styleId")) for s in styles.iter(qn("w:style"))}
    for style_id, xml in _NOTE_STYLES.items():
        if style_id not in have:
            styles.append(parse_xml(xml))


def _add_footnote_pr(document: docx.document.Document) -> None:
    """Name the separator notes in the settings, where Word itself writes them, in the schema's place."""
    settings = document.settings.element
    pr = OxmlElement("w:footnotePr")
    for note_id in ("-1", "0"):
        ref = OxmlElement("w:footnote")
        ref.set(qn("w:id"), note_id)
        pr.append(ref)
    successor = next((child for child in settings if child.tag in _AFTER_FOOTNOTE_PR), None)
    if successor is None:
        settings.append(pr)
    else:
        successor.addprevious(pr)


def _footnotes_part(document: docx.document.Document) -> XmlPart:
    """A new ``word/footnotes.xml`` with the two separator notes, related to the main document
    (python-docx 1.2 has no footnote API; its OPC layer writes any part with its content type)."""
    part = XmlPart(PackURI("/word/footnotes.xml"), CT.WML_FOOTNOTES, parse_xml(_FOOTNOTES_XML), document.part.package)
    document.part.relate_to(part, RT.FOOTNOTES)
    _add_footnote_pr(document)
    return part


def _run(text: str | None = None, *, style: str | None = None, italic: bool = False) -> OxmlElement:
    r = OxmlElement("w:r")
    if style or italic:
        rpr = OxmlElement("w:rPr")
        if style:
            rstyle = OxmlElement("w:rStyle")
            rstyle.set(qn("w:val"), style)
            rpr.append(rstyle)
        if italic:
            rpr.append(OxmlElement("w:i"))
        r.append(rpr)
    if text is not None:
        wt = OxmlElement("w:t")
        wt.set("{http://www.w3.org/XML/1998/namespace}space", "preserve")
        wt.text = text
        r.append(wt)
    return r


def _bookmark(n: int) -> str:
    return f"_RefNote{n}"  # "_" hides it from Word's bookmark list, as Word's own "_Ref…" names are


def _add_reference(paragraph: DocxParagraph, n: int, first: bool) -> None:
    """Footnote ``n``'s mark at the end of ``paragraph``. The first use is the real reference (in a
    bookmark); a later use of the same note is what Word writes for a cross-reference to a footnote:
    a NOTEREF field to that bookmark, formatted as a footnote mark, its number as the field's result."""
    p = paragraph._p
    if first:
        start, end = OxmlElement("w:bookmarkStart"), OxmlElement("w:bookmarkEnd")
        start.set(qn("w:id"), str(n))
        start.set(qn("w:name"), _bookmark(n))
        end.set(qn("w:id"), str(n))
        ref = _run(style="FootnoteReference")
        mark = OxmlElement("w:footnoteReference")
        mark.set(qn("w:id"), str(n))
        ref.append(mark)
        p.extend([start, ref, end])
    else:
        field = OxmlElement("w:fldSimple")
        field.set(qn("w:instr"), f" NOTEREF {_bookmark(n)} \\f \\h ")
        field.append(_run(str(n), style="FootnoteReference"))
        p.append(field)


def _add_note(part: XmlPart, note: Note) -> None:
    """Footnote ``note.number``: its own mark, the label, the quotes, the official link."""
    footnote = OxmlElement("w:footnote")
    footnote.set(qn("w:id"), str(note.number))
    p = OxmlElement("w:p")
    ppr, pstyle = OxmlElement("w:pPr"), OxmlElement("w:pStyle")
    pstyle.set(qn("w:val"), "FootnoteText")
    ppr.append(pstyle)
    mark = _run(style="FootnoteReference")
    mark.append(OxmlElement("w:footnoteRef"))
    p.extend([ppr, mark, _run(" " + note.label + (" — " + _quoted(note.quotes) if note.quotes else ""))])
    if note.link:
        p.extend([_run(" "), _hyperlink(part, note.link)])
    footnote.append(p)
    part.element.append(footnote)


def _hyperlink(part: XmlPart, url: str) -> OxmlElement:
    link = OxmlElement("w:hyperlink")
    link.set(qn("r:id"), part.relate_to(url, RT.HYPERLINK, is_external=True))
    link.set(qn("w:history"), "1")
    r = _run(url)
    rpr = OxmlElement("w:rPr")
    color, underline = OxmlElement("w:color"), OxmlElement("w:u")
    color.set(qn("w:val"), "0563C1")  # Word's hyperlink blue: the template has no Hyperlink style
    underline.set(qn("w:val"), "single")
    rpr.extend([color, underline])
    r.insert(0, rpr)
    link.append(r)
    return link


def _set_properties(document: docx.document.Document, d: Draft, now: datetime) -> None:
    """Title, author and dates fixed by the answer and ``now`` (the template says "python-docx", 2013)."""
    utc = now.astimezone(UTC).replace(tzinfo=None) if now.tzinfo else now  # python-docx writes "Z"
    props = document.core_properties
    props.title = snippet(d.heading, 255)  # the property's limit
    props.author = props.last_modified_by = t("widget_title", d.lang)
    props.comments = d.generated
    props.language = "zh-CN" if d.lang == "zh" else "en-GB"
    props.created = props.modified = utc
    props.revision = 1


def _write_body(document: docx.document.Document, d: Draft, notes: XmlPart | None) -> None:
    document.add_heading(d.heading, level=1)
    if d.refused:
        document.add_paragraph().add_run(t("not_found", d.lang)).bold = True
        if d.notice:
            document.add_paragraph(d.notice)
        if d.nearest:
            document.add_paragraph(t("nearest", d.lang))
        for n in d.nearest:
            document.add_paragraph(n.label + (f" — {n.snippet}" if n.snippet else ""), style="List Bullet")
    else:
        if d.lead:
            document.add_paragraph(d.lead)
        used: set[int] = set()
        for line in d.lines:
            p = document.add_paragraph(line.text)
            for n in line.notes:
                _add_reference(p, n, n not in used)
                used.add(n)
            if not line.supported:
                p.add_run(_gap(d.lang) + t("unsupported", d.lang)).italic = True
        if d.notice:
            p = document.add_paragraph()
            p.add_run(t("notice", d.lang)).italic = True
            p.add_run(_colon(d.lang) + d.notice)
    document.add_paragraph().add_run(d.generated).italic = True
    for note in d.notes if notes is not None else ():
        _add_note(notes, note)


def _dated_zip(data: bytes, now: datetime) -> bytes:
    """The same package with every entry dated ``now``: python-docx dates them at the time of saving,
    so two exports of one answer would differ byte for byte."""
    stamp = max(now.timetuple()[:6], (1980, 1, 1, 0, 0, 0))  # the zip format starts in 1980
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            entry = zipfile.ZipInfo(info.filename, date_time=stamp)
            entry.compress_type = zipfile.ZIP_DEFLATED
            dst.writestr(entry, src.read(info))
    return out.getvalue()


def to_docx(d: Draft, now: datetime) -> bytes:
    """A Word document with real footnotes (``w:footnoteReference`` in the text, the notes in
    ``word/footnotes.xml``), fonts for Chinese, and the answer's title and date in its properties."""
    document = docx.Document()
    _set_fonts(document)
    _add_note_styles(document)
    notes = _footnotes_part(document) if d.notes else None
    _write_body(document, d, notes)
    _set_properties(document, d, now)
    buf = io.BytesIO()
    document.save(buf)
    return _dated_zip(buf.getvalue(), now)


# --- the entry point ------------------------------------------------------------------------------------

_WRITERS: dict[str, Callable[[Draft, datetime], bytes]] = {
    "txt": lambda d, now: to_txt(d).encode("utf-8"),
    "md": lambda d, now: to_md(d).encode("utf-8"),
    "docx": to_docx,
}


def export_answer(
    result: AnswerResult, fmt: str, lang: str, corpus: Corpus | None = None, *, now: datetime | None = None,
) -> Exported:
    """``result`` as a file in format ``fmt`` (``txt``, ``md``, ``docx``) for a reader of interface
    language ``lang`` (``zh``, ``en``): labels, headings and notes in that language.

    ``corpus`` supplies the official UN links and the nearest paragraphs' labels and text; ``now``
    (default: the current time) dates the export. Raises ``UncacQAError`` naming a bad ``fmt`` or
    ``lang`` and the allowed ones.

    >>> r = AnswerResult("q", "甲。", False, sentences=(AnswerSentence("甲。", ()),))
    >>> out = export_answer(r, "txt", "en", now=datetime(2026, 12, 1))
    >>> out.filename, out.media_type
    ('uncac-answer-2026-12-01-962ba66e.txt', 'text/plain; charset=utf-8')
    >>> print(out.data.decode())
    Question: q
    <BLANKLINE>
    甲。
    <BLANKLINE>
    Generated by UNCAC CoSP document Q&A on 1 December 2026. Check each citation against the official UN document.
    <BLANKLINE>
    """
    if fmt not in FORMATS:
        raise UncacQAError(f"export format {one_of(fmt, FORMATS)}")
    if lang not in LANGS:
        raise UncacQAError(f"export language {one_of(lang, LANGS)}")
    now = now or datetime.now(UTC)
    draft = layout(result, lang, corpus, now.date())
    return Exported(filename(result.question, now, fmt), MEDIA_TYPES[fmt], _WRITERS[fmt](draft, now))
