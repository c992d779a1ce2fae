"""Small frozen records with content-hash ids: documents, paragraphs, chunks, citations.

A paragraph's id is ``doc_id`` + paragraph number + a hash of its text, so it is stable across
rebuilds: citations, caches, feedback and incremental re-indexing survive re-parsing the same text.
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Any


def content_hash(*parts: str, length: int = 12) -> str:
    """Short, stable hex digest of the given strings (sha1; not for security)."""
    h = hashlib.sha1()
    for p in parts:
        h.update(p.encode("utf-8"))
        h.update(b"\x1f")
    return h.hexdigest()[:length]


@dataclass(frozen=True)
class DocumentMeta:
    """One document's metadata, from the manifest or detected from a user file's header."""

    doc_id: str
    file: str
    symbol: str | None
    short_ref: str
    short_ref_zh: str
    language: str = "zh"
    date: date | None = None
    body: str | None = None
    session: str | None = None
    agenda_item: str | None = None
    doc_type: str | None = None
    title_zh: str | None = None
    title_en: str | None = None
    official_url: str | None = None

    @property
    def ref_en(self) -> str:
        """What an English citation starts with: the UN symbol, else the short reference."""
        return self.symbol or self.short_ref

    @property
    def ref_zh(self) -> str:
        return self.symbol or self.short_ref_zh

    def official_link(self, lang: str) -> str | None:
        """The official UN link for the reader's language: undocs.org serves every language version of
        a symbol at ``/<lang>/<symbol>``, so the Chinese link becomes the English one for an English reader.

        >>> m = DocumentMeta("d", "f", "CAC/COSP/1", "r", "r", official_url="https://undocs.org/zh/CAC/COSP/1")
        >>> m.official_link("en")
        'https://undocs.org/en/CAC/COSP/1'
        """
        url = self.official_url
        if url and self.symbol and url.startswith("https://undocs.org/"):
            return f"https://undocs.org/{lang}/{self.symbol}"
        return url

    @property
    def year(self) -> int | None:
        return self.date.year if self.date else None

    @property
    def descriptive_text(self) -> str:
        """Titles, session and references: where a venue ("Vienna") or a year may be written although
        no paragraph repeats it."""
        return "\n".join(str(x) for x in (self.title_zh, self.title_en, self.session, self.short_ref, self.short_ref_zh) if x)

    @property
    def title(self) -> str:
        """Title in the document's own language, falling back to the other one."""
        if self.language == "zh":
            return self.title_zh or self.title_en or self.ref_zh
        return self.title_en or self.title_zh or self.ref_en


@dataclass(frozen=True)
class SubParagraph:
    """A lettered/numbered item inside a paragraph: ``(a) ...`` or ``(一) ...``."""

    label: str  # "a", "b", ..., or "一", "二"
    text: str  # the item's text without its "(a)" marker


@dataclass(frozen=True)
class Footnote:
    """A footnote attached to the paragraph that cites it (mark "1", "2", "*" ...)."""

    mark: str
    text: str


def format_label(doc: DocumentMeta, para: int, sub: str | None = None) -> tuple[str, str]:
    """UN citation labels (English, Chinese) for a paragraph or one of its sub-paragraphs.

    >>> d = DocumentMeta("x", "f", "CAC/COSP/WG.4/2019/L.1/Add.1", "s", "s")
    >>> format_label(d, 5)
    ('CAC/COSP/WG.4/2019/L.1/Add.1, para. 5', 'CAC/COSP/WG.4/2019/L.1/Add.1，第 5 段')
    >>> format_label(d, 54, "j")
    ('CAC/COSP/WG.4/2019/L.1/Add.1, para. 54 (j)', 'CAC/COSP/WG.4/2019/L.1/Add.1，第 54 段 (j)')
    >>> format_label(DocumentMeta("x", "f", "CAC/COSP/1", "s", "s", language="fr"), 5)
    ('CAC/COSP/1, paragraphe 5', 'CAC/COSP/1，第 5 段')
    """
    suffix = f" ({sub})" if sub else ""
    zh = f"{doc.ref_zh}，第 {para} 段{suffix}"
    if doc.language in _NATIVE_LABEL and doc.language not in ("zh", "en"):
        # A French, Spanish, Russian or Arabic document is cited as its own language cites it, also
        # in the English interface ("…, paragraphe 5"); the Chinese interface keeps "第 5 段".
        return citation_label(doc, para, sub), zh
    return f"{doc.ref_en}, para. {para}{suffix}", zh


# How each UN language cites a paragraph: the abbreviation its documents use, its list separator
# (Arabic "،", Chinese "，"), and how it writes a sub-item: "(a)" in English, Chinese and Arabic
# ("(أ)"), "a)" in French, Spanish and Russian.
_NATIVE_LABEL = {
    "ar": ("{ref}، الفقرة {para}", " ({sub})"),
    "en": ("{ref}, para. {para}", " ({sub})"),
    "es": ("{ref}, párr. {para}", " {sub})"),
    "fr": ("{ref}, paragraphe {para}", " {sub})"),
    "ru": ("{ref}, пункт {para}", " {sub})"),
    "zh": ("{ref}，第 {para} 段", " ({sub})"),
}


def citation_label(doc: DocumentMeta, para: int, sub: str | None = None, lang: str | None = None) -> str:
    """The UN citation label in ``lang`` (default: the document's own language), for the document's
    readers; ``format_label`` gives the interface's English and Chinese ones.

    >>> d = DocumentMeta("x", "f", "CAC/COSP/WG.4/2024/TEST/1", "s", "s", language="fr")
    >>> citation_label(d, 5), citation_label(d, 5, "a")
    ('CAC/COSP/WG.4/2024/TEST/1, paragraphe 5', 'CAC/COSP/WG.4/2024/TEST/1, paragraphe 5 a)')
    >>> [citation_label(d, 5, lang=lang) for lang in ("es", "ru", "ar")]
    ['CAC/COSP/WG.4/2024/TEST/1, párr. 5', 'CAC/COSP/WG.4/2024/TEST/1, пункт 5', 'CAC/COSP/WG.4/2024/TEST/1، الفقرة 5']
    >>> citation_label(d, 54, "j", "zh") == format_label(d, 54, "j")[1]
    True
    """
    lang = lang or doc.language
    try:
        head, sub_form = _NATIVE_LABEL[lang]
    except KeyError:
        raise ValueError(f"language {lang!r} is not supported, must be one of {sorted(_NATIVE_LABEL)}") from None
    ref = doc.ref_zh if lang == "zh" else doc.ref_en
    return head.format(ref=ref, para=para) + (sub_form.format(sub=sub) if sub else "")


def anchor(para: int, sub: str | None = None) -> str:
    """HTML anchor of a paragraph in the source viewer: ``p12`` or ``p54-j``."""
    return f"p{para}-{sub}" if sub else f"p{para}"


def source_url(doc_id: str, para: int, sub: str | None = None) -> str:
    """Link to the paragraph in the app's source viewer (``/source/<doc_id>#p<para>``)."""
    return f"/source/{doc_id}#{anchor(para, sub)}"


@dataclass(frozen=True)
class Paragraph:
    """One numbered UN paragraph with everything needed to cite it.

    ``text`` is the whole paragraph as a reader sees it (lead-in, then each sub-item on its own line
    as "(a) ...", or "a) ..." where the document writes it so); ``subs`` holds the same sub-items
    parsed out so "para. 54 (j)" is addressable. Footnote texts are in ``footnotes``, never mixed into
    ``text``. ``label_en``/``label_zh`` are the interface languages' labels, ``label_native`` the
    document's own ("…, пункт 5"); it is not in ``to_json``, whose keys are a published schema.
    """

    doc_id: str
    para: int
    text: str
    section: tuple[str, ...] = ()
    subs: tuple[SubParagraph, ...] = ()
    footnotes: tuple[Footnote, ...] = ()
    label_en: str = ""
    label_zh: str = ""
    id: str = field(default="")
    label_native: str = ""  # the label in the document's own language ("…, paragraphe 5"); see citation_label

    def __post_init__(self) -> None:
        if not self.id:
            object.__setattr__(self, "id", f"{self.doc_id}:{self.para}:{content_hash(self.text)}")

    @property
    def key(self) -> tuple[str, int]:
        """(doc_id, para): what gold answers and citations are compared on."""
        return (self.doc_id, self.para)

    @property
    def section_path(self) -> str:
        return " / ".join(self.section)

    def sub(self, label: str) -> SubParagraph | None:
        return next((s for s in self.subs if s.label == label), None)

    def to_json(self) -> dict[str, Any]:
        """The ``uncac-qa paragraphs --jsonl`` schema."""
        return {
            "doc_id": self.doc_id,
            "para": self.para,
            "subs": [asdict(s) for s in self.subs],
            "section": self.section_path,
            "text": self.text,
            "footnotes": [asdict(f) for f in self.footnotes],
            "label_en": self.label_en,
            "label_zh": self.label_zh,
            "id": self.id,
        }


@dataclass(frozen=True)
class Chunk:
    """The unit that is embedded and indexed: a paragraph, or one sentence-aligned part of a long one.

    ``text`` is the paragraph (part) itself; ``embed_text`` adds the document title and section so that
    "the Working Group recommended..." is still findable by topic. Every part keeps its paragraph's
    citation.
    """

    paragraph_id: str
    doc_id: str
    para: int
    part: int  # 0-based; a paragraph that fits the budget has one part 0
    n_parts: int
    text: str
    embed_text: str
    label_en: str
    label_zh: str
    id: str = field(default="")

    def __post_init__(self) -> None:
        if not self.id:
            object.__setattr__(self, "id", f"{self.paragraph_id}:{self.part}:{content_hash(self.embed_text, length=8)}")

    @property
    def key(self) -> tuple[str, int]:
        return (self.doc_id, self.para)


@dataclass(frozen=True)
class Citation:
    """A citation in an answer: which paragraph (and sub-item) backs which quote."""

    doc_id: str
    symbol: str | None
    para: int
    sub: str | None
    label_en: str
    label_zh: str
    quote: str
    url: str

    def to_json(self) -> dict[str, Any]:
        return asdict(self)
