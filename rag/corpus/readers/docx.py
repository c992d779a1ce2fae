"""Word documents (.docx): one line per Word paragraph, numbers and footnotes as a reader sees them.

Word keeps two things outside the paragraph text that a UN citation needs:

- **Automatic numbering.** A paragraph numbered by Word ("5." from a list, "(a)" from its second
  level) holds only its text; the number is ``w:numPr`` (``numId``, ``ilvl``) pointing into
  ``word/numbering.xml``. :class:`Numbering` replays Word's counters (start values, overrides,
  deeper levels restarting under a new higher one, ``lvlText`` such as ``%1.`` or ``(%2)``,
  formats decimal, lowerLetter, lowerRoman, Chinese counting...) and the line becomes "5. text".
- **Footnotes.** A ``w:footnoteReference`` becomes its mark in the text (Word numbers them 1, 2, 3
  in order; a custom mark such as "*" is the run after it) and the footnote's text follows the
  paragraph as a "¹ text" line, which the parser attaches to the citing paragraph.

The first page's header comes first (a UN document's symbol is there). Text in tables and text boxes
is read too; deleted tracked changes and field codes are not. Before
python-docx parses anything, the zip directory is checked: a document whose parts add up to more
than ``corpus.docx_max_unzipped_mb`` uncompressed is refused as a zip bomb (zipfile never inflates a
part beyond its declared size, so the directory cannot lie about it). python-docx parses XML with
entity resolution off, so an entity bomb inside a part expands to nothing.

Example::

    DocxReader().read("report.docx").text.splitlines()[:2]   # ['一. 导言', '1. 2009年11月9日至13日…']
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from rag.corpus.readers.base import ACCEPTED, DocumentReader, ReadDocument
from rag.errors import CorpusError

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_SUPERSCRIPT = str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹")
_MAX_PARTS = 10_000
CN_DIGITS = "零一二三四五六七八九"


def format_number(n: int, fmt: str) -> str:
    """A list counter in a Word number format.

    >>> [format_number(n, f) for n, f in [(5, "decimal"), (2, "lowerLetter"), (28, "lowerLetter"), (4, "lowerRoman"),
    ...  (3, "chineseCounting"), (12, "chineseCounting")]]
    ['5', 'b', 'bb', 'iv', '三', '十二']
    """
    if fmt in ("lowerLetter", "upperLetter"):
        s = chr(ord("a") + (n - 1) % 26) * ((n - 1) // 26 + 1) if n > 0 else str(n)
        return s.upper() if fmt == "upperLetter" else s
    if fmt in ("lowerRoman", "upperRoman"):
        s = _roman(n)
        return s.upper() if fmt == "upperRoman" else s
    if fmt in ("chineseCounting", "chineseCountingThousand", "ideographTraditional", "taiwaneseCounting",
               "chineseLegalSimplified", "ideographDigital"):
        return _chinese(n)
    if fmt == "decimalZero":
        return f"{n:02d}"
    if fmt in ("bullet", "none"):
        return ""
    return str(n)  # decimal and the formats a UN document does not use


def _roman(n: int) -> str:
    out = ""
    for v, s in ((1000, "m"), (900, "cm"), (500, "d"), (400, "cd"), (100, "c"), (90, "xc"), (50, "l"), (40, "xl"),
                 (10, "x"), (9, "ix"), (5, "v"), (4, "iv"), (1, "i")):
        while n >= v:
            out += s
            n -= v
    return out


def _chinese(n: int) -> str:
    if not 0 < n < 100:
        return str(n)
    tens, ones = divmod(n, 10)
    return (("" if tens == 1 else CN_DIGITS[tens]) + "十" if tens else "") + (CN_DIGITS[ones] if ones else "")


@dataclass
class _Level:
    start: int = 0  # the spec's default when w:start is absent
    fmt: str = "decimal"
    text: str = ""


@dataclass
class Numbering:
    """Word's list counters, replayed in document order (see the module docstring).

    ``label(num_id, ilvl)`` advances the counter of that list level and returns the rendered label
    ("5.", "(a)"), or "" for bullets and paragraphs whose list is not defined.
    """

    levels: dict[str, dict[int, _Level]] = field(default_factory=dict)  # abstractNumId -> levels
    nums: dict[str, tuple[str, dict[int, int]]] = field(default_factory=dict)  # numId -> (abstract, start overrides)
    counters: dict[str, dict[int, int]] = field(default_factory=dict)

    @classmethod
    def from_xml(cls, root) -> Numbering:
        nb = cls()
        if root is None:
            return nb
        for a in root.iter(f"{W}abstractNum"):
            levels: dict[int, _Level] = {}
            for lvl in a.iter(f"{W}lvl"):
                lv = _Level()
                if (s := lvl.find(f"{W}start")) is not None:
                    lv.start = _int(s.get(f"{W}val"), 0)
                if (f := lvl.find(f"{W}numFmt")) is not None:
                    lv.fmt = f.get(f"{W}val") or "decimal"
                if (t := lvl.find(f"{W}lvlText")) is not None:
                    lv.text = t.get(f"{W}val") or ""
                levels[_int(lvl.get(f"{W}ilvl"), 0)] = lv
            nb.levels[a.get(f"{W}abstractNumId") or ""] = levels
        for n in root.iter(f"{W}num"):
            abstract = n.find(f"{W}abstractNumId")
            overrides = {}
            for o in n.iter(f"{W}lvlOverride"):
                if (so := o.find(f"{W}startOverride")) is not None:
                    overrides[_int(o.get(f"{W}ilvl"), 0)] = _int(so.get(f"{W}val"), 0)
            nb.nums[n.get(f"{W}numId") or ""] = (abstract.get(f"{W}val") if abstract is not None else "", overrides)
        return nb

    def label(self, num_id: str, ilvl: int) -> str:
        if num_id not in self.nums:
            return ""  # numId 0 ("no numbering") or a list numbering.xml does not define
        abstract, overrides = self.nums[num_id]
        levels = self.levels.get(abstract, {})
        # Lists of one abstract definition continue each other, unless a list restarts a level.
        key = f"num:{num_id}" if overrides else f"abstract:{abstract}"
        counts = self.counters.setdefault(key, {})
        start = overrides.get(ilvl, levels.get(ilvl, _Level()).start)
        counts[ilvl] = counts[ilvl] + 1 if ilvl in counts else start
        for deeper in [k for k in counts if k > ilvl]:
            del counts[deeper]  # a new higher-level item restarts its sub-levels
        lv = levels.get(ilvl)
        if lv is None or lv.fmt in ("bullet", "none"):
            return ""
        out = lv.text
        for k in range(9, -1, -1):
            if f"%{k + 1}" in out:
                kl = levels.get(k, _Level())
                out = out.replace(f"%{k + 1}", format_number(counts.get(k, overrides.get(k, kl.start)), kl.fmt))
        return out.strip()


def _int(s: str | None, default: int) -> int:
    try:
        return int(s) if s is not None else default
    except ValueError:
        return default


class DocxReader(DocumentReader):
    """A .docx body in order (paragraphs, tables, text boxes), with Word numbering and footnotes."""

    format = "docx"
    suffixes = (".docx",)
    name = "docx"

    def _read(self, path: Path) -> ReadDocument:
        self._check_zip(path)
        import docx
        from docx.opc.constants import RELATIONSHIP_TYPE as RT

        document = docx.Document(str(path))
        part = document.part
        try:
            numbering_root = part.numbering_part.element
        except (KeyError, NotImplementedError):
            numbering_root = None
        numbering = Numbering.from_xml(numbering_root)
        styles = _style_numbering(part)
        notes = _footnotes(part, RT.FOOTNOTES)
        lines: list[str] = _header_lines(document)
        note_no = 0
        for p in document.element.body.iter(f"{W}p"):
            if _inside_other_paragraph(p):
                continue
            text, refs = _paragraph_text(p)
            marks = []
            for note_id, custom in refs:
                if custom is None:
                    note_no += 1
                    marks.append((note_id, str(note_no).translate(_SUPERSCRIPT)))
                else:
                    marks.append((note_id, custom))
            for note_id, mark in marks:  # an automatic mark's placeholder becomes its number
                text = text.replace(f"\ufff9{note_id}\ufffb", mark, 1)
            num_id, ilvl = _num_pr(p, styles)
            label = numbering.label(num_id, ilvl) if num_id else ""
            line = f"{label} {text.strip()}".strip() if label else text
            if line.strip():
                lines.append(line)
            for note_id, mark in marks:
                body = notes.get(note_id, "").strip()
                if body.startswith(mark):  # a custom mark is typed again at the footnote's start
                    body = body[len(mark):].strip()
                if body:
                    lines.append(f"{mark} {body}")
        return ReadDocument(path, "\n".join(lines) + "\n", self.format, self.name)

    def _check_zip(self, path: Path) -> None:
        limit = self.settings.docx_max_unzipped_mb
        try:
            with zipfile.ZipFile(path) as z:
                infos = z.infolist()
        except zipfile.BadZipFile as e:
            raise CorpusError(f"{str(path)!r} is not a readable .docx (broken zip: {e}); accepted: {ACCEPTED}") from None
        total = sum(i.file_size for i in infos)
        if len(infos) > _MAX_PARTS or total > limit * 1_000_000:
            raise CorpusError(
                f"{str(path)!r} would unpack to {total / 1_000_000:,.0f} MB in {len(infos)} parts, over the "
                f"{limit:g} MB limit (corpus.docx_max_unzipped_mb); refused as a zip bomb"
            )


def _header_lines(document) -> list[str]:
    """The first page's header text: where a UN Word document prints its symbol (the parser drops the
    symbol line as page furniture; the loader finds the document's symbol in it)."""
    if not document.sections:
        return []
    s = document.sections[0]
    headers = ([s.first_page_header] if s.different_first_page_header_footer else []) + [s.header]
    out: list[str] = []
    for h in headers:
        if h.is_linked_to_previous:
            continue  # the first section has no header of this kind
        for p in h._element.iter(f"{W}p"):
            t = _paragraph_text(p)[0].strip()
            if t and t not in out:
                out.append(t)
    return out


def _inside_other_paragraph(p) -> bool:
    """A paragraph in a text box sits inside another paragraph's run; the outer one reads it."""
    a = p.getparent()
    while a is not None:
        if a.tag == f"{W}p":
            return True
        a = a.getparent()
    return False


def _paragraph_text(p) -> tuple[str, list[tuple[str, str | None]]]:
    """The paragraph's visible text, footnote references as placeholders, and the references
    (id, custom mark or None) in order."""
    out: list[str] = []
    refs: list[tuple[str, str | None]] = []
    custom_next: str | None = None

    def walk(el) -> None:
        nonlocal custom_next
        for child in el:
            tag = child.tag
            if not isinstance(tag, str):
                continue  # a comment or processing instruction
            if tag in (f"{W}del", f"{W}instrText", f"{W}delText", f"{W}pPr", f"{W}rPr"):
                continue
            if tag == f"{W}t":
                t = child.text or ""
                if custom_next is not None:
                    refs.append((custom_next, t.strip() or "*"))
                    custom_next = None
                out.append(t)
            elif tag == f"{W}tab":
                out.append("\t")
            elif tag in (f"{W}br", f"{W}cr"):
                out.append("\n")
            elif tag == f"{W}noBreakHyphen":
                out.append("-")
            elif tag == f"{W}footnoteReference":
                note_id = child.get(f"{W}id") or ""
                if child.get(f"{W}customMarkFollows") in ("1", "true", "on"):
                    custom_next = note_id  # the mark is the next run's text, already in the paragraph
                else:
                    refs.append((note_id, None))
                    out.append(f"\ufff9{note_id}\ufffb")
            elif tag == f"{W}txbxContent":
                for q in child.iter(f"{W}p"):
                    t, r = _paragraph_text(q)
                    out.append("\n" + t)
                    refs.extend(r)
            else:
                walk(child)

    walk(p)
    return "".join(out), refs


def _style_numbering(part) -> dict[str, tuple[str, int]]:
    """Paragraph styles that carry numbering themselves (Word's "List Number"): style id -> (numId, ilvl)."""
    out: dict[str, tuple[str, int]] = {}
    try:
        root = part.styles.element
    except (KeyError, NotImplementedError):
        return out
    for s in root.iter(f"{W}style"):
        pr = s.find(f"{W}pPr/{W}numPr")
        if pr is not None and (n := pr.find(f"{W}numId")) is not None:
            lv = pr.find(f"{W}ilvl")
            out[s.get(f"{W}styleId") or ""] = (n.get(f"{W}val") or "", _int(lv.get(f"{W}val") if lv is not None else None, 0))
    return out


def _num_pr(p, styles: dict[str, tuple[str, int]]) -> tuple[str, int]:
    """(numId, ilvl) of a paragraph: its own w:numPr, else its style's; ("", 0) when not numbered."""
    ppr = p.find(f"{W}pPr")
    num_id, ilvl = "", 0
    if ppr is not None:
        st = ppr.find(f"{W}pStyle")
        if st is not None and (s := styles.get(st.get(f"{W}val") or "")):
            num_id, ilvl = s
        pr = ppr.find(f"{W}numPr")
        if pr is not None:
            if (n := pr.find(f"{W}numId")) is not None:
                num_id = n.get(f"{W}val") or ""
            if (lv := pr.find(f"{W}ilvl")) is not None:
                ilvl = _int(lv.get(f"{W}val"), 0)
    return ("" if num_id == "0" else num_id), ilvl


def _footnotes(part, rel_type: str) -> dict[str, str]:
    """Footnote id -> its text (the reference mark inside it left out), from word/footnotes.xml."""
    from lxml import etree

    for rel in part.rels.values():
        if rel.reltype == rel_type and not rel.is_external:
            target = rel.target_part
            root = getattr(target, "element", None)
            if root is None:
                parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)
                root = etree.fromstring(target.blob, parser)
            out = {}
            for fn in root.iter(f"{W}footnote"):
                if fn.get(f"{W}type") in ("separator", "continuationSeparator", "continuationNotice"):
                    continue
                texts = [_paragraph_text(q)[0] for q in fn.iter(f"{W}p")]
                out[fn.get(f"{W}id") or ""] = " ".join(t.strip() for t in texts if t.strip())
            return out
    return {}
