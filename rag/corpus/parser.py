"""Turn the text of a UN document into numbered paragraphs with sub-items, sections and footnotes.

UN documents number their paragraphs ``N. text`` in one continuous sequence; that number is what a
citation names, identically in all six languages. The parser therefore trusts the sequence: a
numbered line is a paragraph only if it continues it (``expected = last + 1``). Other numbered lines
are agenda items inside an open paragraph ("…通过了以下议程：" then "1. 组织事项：") or numbered
sub-headings. ``(a)``/``(一)`` lines are sub-paragraphs of the paragraph above while that paragraph is
open (it ends with a colon or a list is running), else they are headings.

Text comes in two layouts. Word-exported text has one line per paragraph; raw PDF text is
hard-wrapped at the page width. The layout is detected per document: in PDF text most paragraph lines
do not end a sentence. Wrapped lines are joined (no space between Chinese characters); a line after a
footnote continues the paragraph the page break cut. Page furniture (page numbers, job numbers such
as ``V.19-08845 (C)``, barcodes ``*1908845*``, repeated symbol lines) is dropped.

Example::

    doc = parse_document(text, meta)
    doc.paragraphs[53].label_en   # "…, para. 54"
    doc.paragraphs[53].sub("j")   # SubParagraph("j", "工作组重申…")
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from statistics import quantiles

from rag.corpus.records import DocumentMeta, Footnote, Paragraph, SubParagraph, format_label
from rag.errors import CorpusError
from rag.text import TERMINAL, display_width, join_wrapped

CN_NUMERALS = "一二三四五六七八九十"
_SUPERSCRIPTS = "⁰¹²³⁴⁵⁶⁷⁸⁹"
_SUP_TO_DIGIT = str.maketrans(_SUPERSCRIPTS, "0123456789")

_NUMBERED = re.compile(r"^(\d{1,4})[.．](?!\d)\s*(.*)$")
_HEADING_CN = re.compile(rf"^([{CN_NUMERALS}]+)[.．、]\s*(\S.*)$")
_HEADING_LATIN = re.compile(r"^([A-Z])\.\s+(\S.*)$")
_SUB = re.compile(rf"^(?:[-*•]\s*)?[(（]([a-z]{{1,2}}|[{CN_NUMERALS}]+)[)）]\s*(.*)$")
_FOOTNOTE = re.compile(rf"^([{_SUPERSCRIPTS}]+|\*{{1,3}})\s*(\S.*)$")
_FURNITURE = [
    re.compile(r"^\d{1,3}$"),  # page number
    re.compile(r"^[A-Z]\.\d{2}-\d{5}\b"),  # job number "V.19-08845 (C)  060919"
    re.compile(r"^\*\d{5,}\*$"),  # barcode "*1908845*"
    re.compile(r"^(?:联\s*合\s*国\s+|United Nations\s+)?[A-Z]{1,8}(?:/[A-Za-z0-9.\-]+)+$"),  # symbol line
]
_MD_PREFIX = re.compile(r"^(?:#{1,6}\s+|>\s*)")
_MD_BOLD = re.compile(r"\*\*(.+?)\*\*")


@dataclass(frozen=True)
class ParsedDocument:
    """A parsed document: its paragraphs in order, plus what is not a paragraph but worth keeping."""

    meta: DocumentMeta
    paragraphs: tuple[Paragraph, ...]
    front_matter: tuple[str, ...] = ()
    footnotes: tuple[Footnote, ...] = ()  # cited by no paragraph (e.g. the agenda note in the header)

    @property
    def doc_id(self) -> str:
        return self.meta.doc_id


# --- line classification ---------------------------------------------------------------------------

@dataclass
class _Line:
    kind: str  # blank | furniture | footnote | numbered | heading | sub | text
    text: str  # the line with its marker removed (for numbered/heading/sub/footnote) or the whole line
    raw: str  # stripped line as in the file
    num: int | None = None
    label: str | None = None
    level: int = 0


def _clean(raw: str) -> str:
    s = raw.replace("\u3000", " ").strip()
    s = _MD_PREFIX.sub("", s)
    s = _MD_BOLD.sub(r"\1", s).strip()
    return "" if s in ("-", "*", "•", "–", "—", "---") else s  # an empty list marker or a rule


def _classify(raw: str, star_seen: bool) -> _Line:
    s = _clean(raw)
    if not s:
        return _Line("blank", "", s)
    if any(p.match(s) for p in _FURNITURE):
        return _Line("furniture", s, s)
    if m := _FOOTNOTE.match(s):
        if m.group(1)[0] != "*" or star_seen:
            return _Line("footnote", m.group(2).strip(), s, label=m.group(1).translate(_SUP_TO_DIGIT))
    if m := _NUMBERED.match(s):
        return _Line("numbered", m.group(2).strip(), s, num=int(m.group(1)))
    if m := _HEADING_CN.match(s):
        return _Line("heading", s, s, level=1)
    if m := _HEADING_LATIN.match(s):
        return _Line("heading", s, s, level=2)
    if m := _SUB.match(s):
        return _Line("sub", m.group(2).strip(), s, label=m.group(1))
    return _Line("text", s, s)


def _next_label(label: str) -> str | None:
    if len(label) == 1 and "a" <= label < "z":
        return chr(ord(label) + 1)
    if label in CN_NUMERALS[:-1]:
        return CN_NUMERALS[CN_NUMERALS.index(label) + 1]
    return None


def _is_latin_label(label: str) -> bool:
    return label.isascii()


# --- paragraph assembly ----------------------------------------------------------------------------

@dataclass
class _Block:
    kind: str  # text | sub | item (an inner enumeration line such as an agenda item)
    text: str
    label: str | None = None

    def render(self) -> str:
        return f"({self.label}) {self.text}" if self.kind == "sub" else self.text


@dataclass
class _Para:
    num: int
    section: tuple[str, ...]
    blocks: list[_Block] = field(default_factory=list)
    inner_list: bool = False  # an agenda-style "1. …" list runs inside: its (a) lines are not subs
    last_raw: str = ""  # the last source line added, to judge whether the next one continues it

    def open_for_items(self) -> bool:
        last = self.blocks[-1]
        return last.text.rstrip().endswith(("：", ":")) or last.kind in ("sub", "item")


class _Parser:
    def __init__(self, meta: DocumentMeta, lines: list[_Line]) -> None:
        self.meta = meta
        self.lines = lines
        self.wrapped, self.wrap_width = _detect_layout(lines)
        self.sections: dict[int, str] = {}
        self.paras: list[_Para] = []
        self.front: list[str] = []
        self.footnotes: list[tuple[str, str, int]] = []  # (mark, text, index of the paragraph then current)
        self.heading_marks: list[tuple[str, int]] = []  # footnote marks in headings: (heading, next para index)
        self.heading_since_para = False
        self.last_heading_raw: str | None = None  # for joining a heading wrapped over several PDF lines
        self.heading_width = 0
        self.expected = 1

    # A line "is cut" (the next line continues it) when it is full width in PDF text, or, in either
    # layout, when it stops without ending a sentence. Headings are centred and narrower than the
    # page: a wrapped heading's lines are about as wide as its first line, its last line is shorter.
    def _cut(self, raw: str, *, heading_width: int | None = None) -> bool:
        full = heading_width or self.wrap_width
        if self.wrapped and display_width(raw) >= 0.85 * full:
            return True
        return heading_width is None and not raw.rstrip().endswith(TERMINAL + ("”", "）", ")"))

    def _set_heading(self, level: int, title: str) -> None:
        self.sections = {k: v for k, v in self.sections.items() if k < level}
        self.sections[level] = title
        self.heading_since_para = True
        self.last_heading_raw = title
        self.heading_width = display_width(title)

    @property
    def section(self) -> tuple[str, ...]:
        return tuple(self.sections[k] for k in sorted(self.sections))

    def run(self) -> None:
        for ln in self.lines:
            getattr(self, f"_on_{ln.kind}")(ln)

    def _on_blank(self, ln: _Line) -> None:
        pass

    def _on_furniture(self, ln: _Line) -> None:
        if not self.paras and not self.sections:
            self.front.append(ln.raw)

    def _on_footnote(self, ln: _Line) -> None:
        self.footnotes.append((ln.label or "", ln.text, len(self.paras) - 1))

    def _on_numbered(self, ln: _Line) -> None:
        cur = self.paras[-1] if self.paras else None
        inner_continues = (
            cur is not None and cur.inner_list and not self.heading_since_para
            and cur.blocks[-1].kind == "item" and not cur.blocks[-1].text.endswith("。")
        )
        if ln.num == self.expected and not inner_continues:
            self.paras.append(_Para(ln.num, self.section, [_Block("text", ln.text)], last_raw=ln.raw))
            self.expected += 1
            self.heading_since_para = False
            self.last_heading_raw = None
        elif cur is not None and not self.heading_since_para and cur.open_for_items():
            cur.blocks.append(_Block("item", ln.raw))
            cur.inner_list = True
            cur.last_raw = ln.raw
        elif self.paras or self.sections:
            self._set_heading(3, ln.raw)
        else:
            self.front.append(ln.raw)

    def _on_heading(self, ln: _Line) -> None:
        self._set_heading(ln.level, ln.text)
        self._note_heading_marks(ln.text)

    def _on_sub(self, ln: _Line) -> None:
        cur = self.paras[-1] if self.paras else None
        if cur is None or self.heading_since_para or not cur.open_for_items():
            if self.paras or self.sections:
                self._set_heading(4, ln.raw)
            else:
                self.front.append(ln.raw)
            return
        last = cur.blocks[-1]
        label = ln.label or ""
        if cur.inner_list:
            cur.blocks.append(_Block("item", f"({label}) {ln.text}"))
        elif last.kind == "sub" and _is_latin_label(last.label or "") and not _is_latin_label(label):
            # (一)/(二) nested inside a lettered item: part of that item's text, e.g. 54 (b).
            last.text += f"\n({label}) {ln.text}"
        else:
            cur.blocks.append(_Block("sub", ln.text, label))
        cur.last_raw = ln.raw

    def _on_text(self, ln: _Line) -> None:
        cur = self.paras[-1] if self.paras else None
        if self.heading_since_para and self.last_heading_raw is not None:
            if self.wrapped and self._cut(self.last_heading_raw, heading_width=self.heading_width):
                # A heading the PDF wrapped over several lines.
                level = max(self.sections)
                joined = join_wrapped(self.sections[level], ln.text)
                self.sections[level] = joined
                self.last_heading_raw = ln.raw
                self._note_heading_marks(ln.text)
                return
            if not ln.text.endswith(("。", ".")):
                self._set_heading(5, ln.text)  # an unnumbered sub-heading
                self._note_heading_marks(ln.text)
                return
        if cur is None:
            if self.sections:
                self._set_heading(5, ln.text)
            else:
                self.front.append(ln.raw)
            return
        last = cur.blocks[-1]
        if self._cut(cur.last_raw):
            last.text = join_wrapped(last.text, ln.text)
        else:
            # Unnumbered text after a finished sentence belongs to the paragraph above (UN style:
            # a chapeau or closing sentence has no number of its own).
            cur.blocks.append(_Block("text", ln.text))
        cur.last_raw = ln.raw

    def _note_heading_marks(self, text: str) -> None:
        for ch in text:
            if ch in _SUPERSCRIPTS:
                self.heading_marks.append((ch.translate(_SUP_TO_DIGIT), len(self.paras)))

    # --- output ---

    def build(self) -> ParsedDocument:
        self.run()
        if not self.paras:
            raise CorpusError(
                f"document {self.meta.doc_id!r} ({self.meta.file}) has no numbered paragraph "
                "('1. text' lines); nothing was indexed from it"
            )
        attached: dict[int, list[Footnote]] = {}
        loose: list[Footnote] = []
        for mark, text, at in self.footnotes:
            idx = self._citing_paragraph(mark, at)
            (attached.setdefault(idx, []) if idx is not None else loose).append(Footnote(mark, text))
        paragraphs = tuple(self._finish(i, p, tuple(attached.get(i, ()))) for i, p in enumerate(self.paras))
        return ParsedDocument(self.meta, paragraphs, tuple(self.front), tuple(loose))

    def _citing_paragraph(self, mark: str, at: int) -> int | None:
        """The paragraph whose text carries the footnote mark: the nearest one at or before the footnote,
        else a paragraph under a heading that carries it, else None (a note on the document header)."""
        sup = mark.translate(str.maketrans("0123456789", _SUPERSCRIPTS))
        for i in range(min(at, len(self.paras) - 1), -1, -1):
            if any(sup in b.text for b in self.paras[i].blocks):
                return i
        for m, nxt in self.heading_marks:
            if m == mark and nxt < len(self.paras):
                return nxt
        for i in range(at + 1, len(self.paras)):
            if any(sup in b.text for b in self.paras[i].blocks):
                return i
        return None

    def _finish(self, i: int, p: _Para, notes: tuple[Footnote, ...]) -> Paragraph:
        blocks = p.blocks
        subs = [SubParagraph(b.label or "", b.text) for b in blocks if b.kind == "sub"]
        if not subs and not p.inner_list:
            subs = _inline_subs(blocks[0].text)
        text = "\n".join(b.render() for b in blocks)
        en, zh = format_label(self.meta, p.num)
        return Paragraph(self.meta.doc_id, p.num, text, p.section, tuple(subs), notes, en, zh)


def _detect_layout(lines: list[_Line]) -> tuple[bool, int]:
    """(is the text hard-wrapped PDF output?, its wrap width in columns)."""
    starts = [ln.raw for ln in lines if ln.kind == "numbered"]
    body = [display_width(ln.raw) for ln in lines if ln.kind in ("numbered", "text", "sub")]
    if len(starts) < 3 or len(body) < 3:
        return False, 0
    unfinished = sum(not s.endswith(TERMINAL + ("”",)) for s in starts) / len(starts)
    width = int(quantiles(body, n=20)[-1])  # 95th percentile: the page width
    return unfinished > 0.5, width


def _inline_subs(text: str) -> list[SubParagraph]:
    """Sub-items written inline: "…确保：(a) 通过…；(b) 建立…；以及(e)与…". Only a run that starts at
    (a)/(一) and continues without a gap counts, so a lone "第(三)项" is never taken for an item."""
    for first in ("a", "一"):
        marks = []
        label: str | None = first
        pos = 0
        while label:
            m = re.compile(rf"[(（]{re.escape(label)}[)）]").search(text, pos)
            if not m:
                break
            marks.append((label, m.start(), m.end()))
            pos = m.end()
            label = _next_label(label)
        if len(marks) >= 2:
            out = []
            for j, (lab, _s, e) in enumerate(marks):
                if j + 1 < len(marks):
                    end = marks[j + 1][1]
                else:  # the last item ends with its sentence; what follows is the paragraph's own text
                    stop = text.find("。", e)
                    end = stop + 1 if stop >= 0 else len(text)
                item = re.sub(r"(以及|和|及|and)\s*$", "", text[e:end].strip()).strip()
                out.append(SubParagraph(lab, item))
            return out
    return []


def parse_document(text: str, meta: DocumentMeta) -> ParsedDocument:
    """Parse a document's text into paragraphs. Raises CorpusError when no numbered paragraph is found."""
    star_seen = False
    lines = []
    for raw in text.splitlines():
        ln = _classify(raw, star_seen)
        star_seen = star_seen or ("*" in ln.raw[1:] and ln.kind != "furniture")
        lines.append(ln)
    return _Parser(meta, lines).build()
