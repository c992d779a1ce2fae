"""Turn the text of a UN document into numbered paragraphs with sub-items, sections and footnotes.

UN documents number their paragraphs ``N. text`` (Arabic: ``N- text``) in one continuous sequence;
that number is what a citation names, identically in all six languages. The parser therefore trusts
the sequence: a numbered line is a paragraph only if it continues it (``expected = last + 1``). Other
numbered lines are agenda items inside an open paragraph ("…通过了以下议程：" then "1. 组织事项：") or
numbered sub-headings. Sub-item lines — ``(a)``/``(一)`` in English and Chinese, ``a)`` in French,
Spanish and Russian (also typed with a Cyrillic "а"), ``(أ)`` in Arabic — are sub-paragraphs of the
paragraph above while that paragraph is open (it ends with a colon or a list is running), else they
are headings. Headings are "三. …", "I. …"/"A. …" (Russian too) and Arabic "أولاً- …"/"ألف- …".

Text comes in two layouts. Word-exported text has one line per paragraph; raw PDF text is
hard-wrapped at the page width. The layout is detected per document: in PDF text most paragraph lines
do not end a sentence. Wrapped lines are joined (no space between Chinese characters, one between
words of the other languages); a line after a footnote continues the paragraph the page break cut.
Footnotes are "¹ text" lines (superscripts, as Word writes them) or, in PDF text where the
superscript became a plain digit ("…the Convention.1", "…la Convención1."), "1 text" / Arabic
"(1) text" lines whose number is the next footnote's and whose mark was seen in the text above.
Page furniture (page numbers "3" or "3/8", job numbers such as ``V.19-08845 (C)`` with any language
letter, barcodes ``*1908845*``, repeated symbol lines) is dropped. Arabic text stays in its logical
(reading) order; bidirectional control marks are ignored when lines are classified and kept in the
text.

Example::

    doc = parse_document(text, meta)
    doc.paragraphs[53].label_en   # "…, para. 54"
    doc.paragraphs[53].sub("j")   # SubParagraph("j", "工作组重申…")
    doc.paragraphs[4].label_native  # in the document's language: "…，第 5 段", "…, paragraphe 5"
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from statistics import quantiles

from rag.corpus.language import BIDI_MARKS, guess_language, strip_bidi
from rag.corpus.records import (
    DocumentMeta,
    Footnote,
    Paragraph,
    SubParagraph,
    citation_label,
    format_label,
)
from rag.errors import CorpusError
from rag.text import TERMINAL, display_width, join_wrapped

CN_NUMERALS = "一二三四五六七八九十"
_SUPERSCRIPTS = "⁰¹²³⁴⁵⁶⁷⁸⁹"
_SUP_TO_DIGIT = str.maketrans(_SUPERSCRIPTS, "0123456789")

# Arabic sub-items and lists follow the abjad order: (أ) (ب) (ج) (د) (هـ) (و) (ز) (ح) (ط) (ي) …
AR_LETTERS = ("أ", "ب", "ج", "د", "هـ", "و", "ز", "ح", "ط", "ي", "ك", "ل", "م", "ن", "س", "ع", "ف", "ص", "ق", "ر")
_AR_LABEL = "|".join(["هـ", "ه", *AR_LETTERS[:4], *AR_LETTERS[5:]])
_AR_ORDINALS = ("حادي عشر|ثاني عشر|ثالث عشر|رابع عشر|خامس عشر|"
                "أول|ثاني|ثالث|رابع|خامس|سادس|سابع|ثامن|تاسع|عاشر")
_AR_LETTER_HEADINGS = "ألف|باء|جيم|دال|هاء|واو|زاي|حاء|طاء|ياء|كاف|لام"
_DASH = r"\s*[-–—]\s*"
# Cyrillic letters that Russian typists use for the Latin ones of a list or heading ("а)", "В.").
_CYR_LOOKALIKE = str.maketrans("аbсеорхуАВСЕНКМОРТХ", "abceopxyABCEHKMOPTX")
_CYR_ALPHABET = "абвгдежзиклмнопрстуфхцчшщэюя"

# "12." / "12．" everywhere; "12- " as Arabic documents number paragraphs.
_NUMBERED = re.compile(r"^(\d{1,4})(?:[.．](?!\d)|\s?[-–](?=\s))\s*(.*)$")
_HEADING_CN = re.compile(rf"^([{CN_NUMERALS}]+)[.．、]\s*(\S.*)$")
_HEADING_ROMAN = re.compile(r"^([IVX]{1,6})[.．]\s+(\S.*)$")
_HEADING_AR = re.compile(rf"^((?:{_AR_ORDINALS})(?:اً|ًا|ا)?){_DASH}(\S.*)$")
_HEADING_LATIN = re.compile(r"^([A-ZАВСЕНКМОРТХ])\.\s+(\S.*)$")
_HEADING_AR_LETTER = re.compile(rf"^({_AR_LETTER_HEADINGS}){_DASH}(\S.*)$")
_SUB = re.compile(
    rf"^(?:[-*•]\s*)?(?:[(（]([a-z]{{1,2}}|[{CN_NUMERALS}]+|{_AR_LABEL})[)）]|([a-z]{{1,2}}|[а-яё])\))\s*(.*)$"
)
_FOOTNOTE = re.compile(rf"^([{_SUPERSCRIPTS}]+|\*{{1,3}})\s*(\S.*)$")
# A PDF footnote whose superscript became a digit: "1 See…" / Arabic "(1) انظر…" (no "." after the
# number, which would make it a paragraph). Taken only in sequence and when its mark was seen.
_FOOTNOTE_DIGIT = re.compile(r"^(?:\((\d{1,2})\)|(\d{1,2}))\s+(\S.*)$")
# Its mark in the text: a digit right after a lower-case word or its punctuation ("Convention.1",
# "Convención1.", "corruption”,2") or in brackets after a word (Arabic "الاتفاقية(1)").
_DIGIT_MARK = re.compile(r"(?:(?<=[^\W\d_][.,;:!?])|(?<=[^\W\d_])|(?<=[”’\"»)])|(?<=[”’\"»)][.,;:]))(\d{1,2})(?![\w/]|[.,]\d)|(?<=\S)\((\d{1,2})\)")
_UN = r"(?:联\s*合\s*国|United Nations|Nations Unies|Naciones Unidas|Организация Объединенных Наций|الأمم المتحدة)"
_FURNITURE = [
    re.compile(r"^\d{1,3}$"),  # page number
    re.compile(r"^\d{1,3}\s*/\s*\d{1,3}$"),  # page "3/8"
    re.compile(r"^[A-Z]{1,2}\.\d{2}-\d{5}\b"),  # job number "V.19-08845 (C)  060919", "GE.24-01234(E)"
    re.compile(r"^\d{2}-\d{5}\s*\([ACEFRS]\)"),  # New York job number "24-01234 (E)"
    re.compile(r"^\*\d{5,}\*$"),  # barcode "*1908845*"
    re.compile(rf"^(?:{_UN}\s+)?[A-Z]{{1,8}}(?:/[A-Za-z0-9.\-]+)+(?:\s+{_UN})?$"),  # symbol line
]
# A line ending one of these ends a sentence (Latin/Cyrillic ".", Arabic "؛" and "؟" too).
_TERMINAL = TERMINAL + (".", "؛", "؟")
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
    mark: str | None = None  # a sub-item's marker as written, when it is not "(label)": "a)", "а)"
    digit_note: bool = False  # a footnote found by its plain-digit number (PDF text)


def _clean(raw: str) -> str:
    s = raw.replace("\u3000", " ").strip()
    s = _MD_PREFIX.sub("", s)
    s = _MD_BOLD.sub(r"\1", s).strip()
    return "" if s in ("-", "*", "•", "–", "—", "---") else s  # an empty list marker or a rule


def _tail(s: str, t: str, start: int) -> str:
    """The text after position ``start`` of ``t`` (``s`` without bidi marks, stripped), taken from ``s``
    itself: a marker is found in the cleaned line, the text after it keeps its marks."""
    if s == t:
        return s[start:].strip()
    u = strip_bidi(s)
    target = start + len(u) - len(u.lstrip())
    seen = 0
    for i, ch in enumerate(s):
        if seen == target:
            return s[i:].strip()
        if ch not in BIDI_MARKS:
            seen += 1
    return ""


@dataclass
class _Notes:
    """What the classifier remembers between lines about footnotes: whether a "*" was cited, the
    plain-digit marks seen in the text, and the number the next numbered footnote must have."""

    star_seen: bool = False
    marks: set[str] = field(default_factory=set)
    next_number: int = 1


def _digit_marks(text: str) -> set[str]:
    """Plain-digit footnote marks in PDF text: "the Convention.1" -> {"1"}; never a digit inside a
    symbol ("L.1/Add.1"), an abbreviation ("WG.4") or a decimal ("1.5")."""
    out = set()
    for m in _DIGIT_MARK.finditer(text):
        if m.group(2):
            out.add(str(int(m.group(2))))  # Arabic "(١)" is mark "1"
            continue
        before = text[: m.start()]
        letter = before.rstrip(".,;:!?”’\"»)")[-1:]
        token = before[before.rfind(" ") + 1:]
        if letter.isalpha() and not letter.islower():
            continue  # "WG.4", "G20"; Chinese and Arabic letters have no case and use other marks
        if "/" in token:
            continue
        out.add(str(int(m.group(1))))
    return out


def _classify(raw: str, notes: _Notes) -> _Line:
    s = _clean(raw)
    t = strip_bidi(s).strip()  # matched without bidi marks; the kept text has them
    if not t:
        return _Line("blank", "", s)
    if any(p.match(t) for p in _FURNITURE):
        return _Line("furniture", s, s)
    if m := _FOOTNOTE.match(t):
        if m.group(1)[0] != "*" or notes.star_seen:
            return _Line("footnote", _tail(s, t, m.start(2)), s, label=m.group(1).translate(_SUP_TO_DIGIT))
    if (m := _FOOTNOTE_DIGIT.match(t)) and (num := int(m.group(1) or m.group(2))) == notes.next_number \
            and str(num) in notes.marks:
        return _Line("footnote", _tail(s, t, m.start(3)), s, label=str(num), digit_note=True)
    if m := _NUMBERED.match(t):
        return _Line("numbered", _tail(s, t, m.start(2)), s, num=int(m.group(1)))
    if m := _HEADING_CN.match(t):
        return _Line("heading", s, s, level=1)
    if m := _HEADING_ROMAN.match(t):
        return _Line("heading", s, s, level=1, label=m.group(1))
    if m := _HEADING_AR.match(t):
        return _Line("heading", s, s, level=1)
    if m := _HEADING_LATIN.match(t):
        return _Line("heading", s, s, level=2, label=m.group(1).translate(_CYR_LOOKALIKE))
    if m := _HEADING_AR_LETTER.match(t):
        return _Line("heading", s, s, level=2)
    if m := _SUB.match(t):
        if m.group(1):
            return _Line("sub", _tail(s, t, m.start(3)), s, label=m.group(1))
        return _Line("sub", _tail(s, t, m.start(3)), s, label=m.group(2), mark=f"{m.group(2)})")
    return _Line("text", s, s)


def _note_seen(ln: _Line, notes: _Notes) -> None:
    if ln.kind == "furniture":
        return
    notes.star_seen = notes.star_seen or "*" in ln.raw[1:]
    if ln.kind == "footnote" and ln.label and ln.label.isdigit():
        notes.next_number = max(notes.next_number, int(ln.label) + 1)
    elif ln.kind not in ("blank", "footnote"):
        notes.marks |= _digit_marks(strip_bidi(ln.text))


def _next_label(label: str) -> str | None:
    if len(label) == 1 and "a" <= label < "z":
        return chr(ord(label) + 1)
    if label in CN_NUMERALS[:-1]:
        return CN_NUMERALS[CN_NUMERALS.index(label) + 1]
    if label in AR_LETTERS[:-1]:
        return AR_LETTERS[AR_LETTERS.index(label) + 1]
    return None


def _latin_label(label: str, previous: str | None) -> str:
    """A Russian sub-item label in the Latin letters every language version cites it by: "а)" typed
    with a Cyrillic "а" is item a; a list in Cyrillic order ("а) б) в)") is a, b, c. Whichever reading
    continues the list decides; other labels are kept ("هـ" as "هـ", and Arabic "ه" as "هـ")."""
    if label == "ه":
        return "هـ"
    if not ("а" <= label <= "я" or label == "ё"):
        return label
    expected = _next_label(previous) if previous else "a"
    look = label.translate(_CYR_LOOKALIKE)
    pos = chr(ord("a") + _CYR_ALPHABET.index(label)) if label in _CYR_ALPHABET else None
    if look.isascii() and (look == expected or pos != expected):
        return look
    return pos or look


def _is_latin_label(label: str) -> bool:
    return label.isascii()


# --- paragraph assembly ----------------------------------------------------------------------------

@dataclass
class _Block:
    kind: str  # text | sub | item (an inner enumeration line such as an agenda item)
    text: str
    label: str | None = None
    mark: str | None = None  # the sub-item marker as the document writes it, when not "(label)"

    def render(self) -> str:
        if self.kind != "sub":
            return self.text
        return f"{self.mark or f'({self.label})'} {self.text}"


@dataclass
class _Para:
    num: int
    section: tuple[str, ...]
    blocks: list[_Block] = field(default_factory=list)
    inner_list: bool = False  # an agenda-style "1. …" list runs inside: its (a) lines are not subs
    last_raw: str = ""  # the last source line added, to judge whether the next one continues it

    def open_for_items(self) -> bool:
        last = self.blocks[-1]
        return strip_bidi(last.text).rstrip().endswith(("：", ":")) or last.kind in ("sub", "item")


class _Parser:
    def __init__(self, meta: DocumentMeta, lines: list[_Line]) -> None:
        self.meta = meta
        self.lines = lines
        self.wrapped, self.wrap_width = _detect_layout(lines)
        self.sections: dict[int, str] = {}
        self.paras: list[_Para] = []
        self.front: list[str] = []
        # (mark, text, index of the paragraph then current, found by its plain digit?)
        self.footnotes: list[tuple[str, str, int, bool]] = []
        self.heading_marks: list[tuple[str, int]] = []  # footnote marks in headings: (heading, next para index)
        self.heading_since_para = False
        self.last_heading_raw: str | None = None  # for joining a heading wrapped over several PDF lines
        self.heading_width = 0
        self.expected = 1
        self.last_letter: str | None = None  # the last "A."/"B." heading, to read "I." after "H." as a letter
        # Chinese joins wrapped lines without a space; every other language with one.
        self.cjk = guess_language("\n".join(ln.text for ln in lines[:400])) == "zh"

    # A line "is cut" (the next line continues it) when it is full width in PDF text, or, in either
    # layout, when it stops without ending a sentence. Headings are centred and narrower than the
    # page: a wrapped heading's lines are about as wide as its first line, its last line is shorter.
    def _cut(self, raw: str, *, heading_width: int | None = None) -> bool:
        raw = strip_bidi(raw)
        full = heading_width or self.wrap_width
        if self.wrapped and display_width(raw) >= 0.85 * full:
            return True
        return heading_width is None and not raw.rstrip().endswith(_TERMINAL + ("”", "）", ")", "»"))

    def _join(self, left: str, right: str) -> str:
        """Join a line the PDF wrapped: Chinese as ``join_wrapped`` does; other languages with a space
        between words, none after a hyphen that ends a line ("anti-" + "corruption")."""
        if self.cjk:
            return join_wrapped(left, right)
        left, right = left.rstrip(), right.lstrip()
        if not left or not right:
            return left + right
        if left.endswith(("-", "‐")) and len(left) > 1 and left[-2].isalpha():
            return left + right
        return f"{left} {right}"

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
        self.footnotes.append((ln.label or "", ln.text, len(self.paras) - 1, ln.digit_note))

    def _on_numbered(self, ln: _Line) -> None:
        cur = self.paras[-1] if self.paras else None
        inner_continues = (
            cur is not None and cur.inner_list and not self.heading_since_para
            and cur.blocks[-1].kind == "item" and not cur.blocks[-1].text.endswith("。")
        )
        if (cur is not None and ln.num >= 1000 and not self.heading_since_para and self._cut(cur.last_raw)
                and ln.num != self.expected):
            # "…dated 15 January" + "2024." in PDF text: a year that the wrap put first on a line.
            self._on_text(_Line("text", ln.raw, ln.raw))
            return
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
        level = ln.level
        if level == 1 and ln.label in ("I", "V", "X") and self.last_letter \
                and _next_label(self.last_letter.lower()) == ln.label.lower():
            level = 2  # "I." after "H.": the ninth letter heading, not Roman one
        if level == 2 and ln.label:
            self.last_letter = ln.label
        elif level == 1:
            self.last_letter = None
        self._set_heading(level, ln.text)
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
        previous = next((b.label for b in reversed(cur.blocks) if b.kind == "sub"), None)
        label = _latin_label(ln.label or "", previous)
        shown = ln.mark or f"({ln.label})"
        if cur.inner_list:
            cur.blocks.append(_Block("item", f"{shown} {ln.text}"))
        elif last.kind == "sub" and _is_latin_label(last.label or "") and not _is_latin_label(label):
            # (一)/(二) nested inside a lettered item: part of that item's text, e.g. 54 (b).
            last.text += f"\n{shown} {ln.text}"
        else:
            cur.blocks.append(_Block("sub", ln.text, label, ln.mark))
        cur.last_raw = ln.raw

    def _on_text(self, ln: _Line) -> None:
        cur = self.paras[-1] if self.paras else None
        if self.heading_since_para and self.last_heading_raw is not None:
            if self.wrapped and self._cut(self.last_heading_raw, heading_width=self.heading_width):
                # A heading the PDF wrapped over several lines.
                level = max(self.sections)
                joined = self._join(self.sections[level], ln.text)
                self.sections[level] = joined
                self.last_heading_raw = ln.raw
                self._note_heading_marks(ln.text)
                return
            if not strip_bidi(ln.text).endswith(("。", ".")):
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
            last.text = self._join(last.text, ln.text)
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
        for mark, text, at, digit in self.footnotes:
            idx = self._citing_paragraph(mark, at, digit)
            (attached.setdefault(idx, []) if idx is not None else loose).append(Footnote(mark, text))
        paragraphs = tuple(self._finish(i, p, tuple(attached.get(i, ()))) for i, p in enumerate(self.paras))
        return ParsedDocument(self.meta, paragraphs, tuple(self.front), tuple(loose))

    def _citing_paragraph(self, mark: str, at: int, digit: bool = False) -> int | None:
        """The paragraph whose text carries the footnote mark: the nearest one at or before the footnote,
        else a paragraph under a heading that carries it, else None (a note on the document header).
        A footnote found by its plain digit (``digit``) is looked for by its plain-digit mark."""
        sup = mark.translate(str.maketrans("0123456789", _SUPERSCRIPTS))

        def carries(i: int) -> bool:
            if digit:
                return any(mark in _digit_marks(strip_bidi(b.text)) for b in self.paras[i].blocks)
            return any(sup in b.text for b in self.paras[i].blocks)

        for i in range(min(at, len(self.paras) - 1), -1, -1):
            if carries(i):
                return i
        for m, nxt in self.heading_marks:
            if m == mark and nxt < len(self.paras):
                return nxt
        for i in range(at + 1, len(self.paras)):
            if carries(i):
                return i
        return None

    def _finish(self, i: int, p: _Para, notes: tuple[Footnote, ...]) -> Paragraph:
        blocks = p.blocks
        subs = [SubParagraph(b.label or "", b.text) for b in blocks if b.kind == "sub"]
        if not subs and not p.inner_list:
            subs = _inline_subs(blocks[0].text)
        text = "\n".join(b.render() for b in blocks)
        en, zh = format_label(self.meta, p.num)
        return Paragraph(self.meta.doc_id, p.num, text, p.section, tuple(subs), notes, en, zh,
                         label_native=citation_label(self.meta, p.num))


def _detect_layout(lines: list[_Line]) -> tuple[bool, int]:
    """(is the text hard-wrapped PDF output?, its wrap width in columns)."""
    starts = [ln.raw for ln in lines if ln.kind == "numbered"]
    body = [display_width(ln.raw) for ln in lines if ln.kind in ("numbered", "text", "sub")]
    if len(starts) < 3 or len(body) < 3:
        return False, 0
    unfinished = sum(not strip_bidi(s).endswith(_TERMINAL + ("”", "»")) for s in starts) / len(starts)
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
    notes = _Notes()
    lines = []
    for raw in text.splitlines():
        ln = _classify(raw, notes)
        _note_seen(ln, notes)
        lines.append(ln)
    return _Parser(meta, lines).build()
