"""The source viewer: ``/source/<doc_id>``, one whole document as plain server-rendered HTML, and the
document library ``/source/`` (every document of the corpus, one row each, in corpus order).

Every paragraph carries its anchor (``id="p12"``; a sub-paragraph ``id="p54-j"``), so a citation link
lands on it: CSS ``:target`` highlights a paragraph, and a small script also highlights the paragraph
around a sub-paragraph anchor and scrolls it into view. Section headings, footnotes and the document's
metadata (symbol or short reference, title, date, body, session, official link) frame the text; links
lead back to the chat, to the library and to the previous and next documents. The language switch keeps
the quotes to highlight (``?hl=``, server side) and the paragraph anchor (``#p5``, the script: the
fragment never reaches the server). A Markdown link left in the text ("（[CAC/COSP/WG.4/2017/3](#)）")
shows as its text, linked to the viewer when that symbol is indexed; its own target is never used.

A request's path never reaches the file system: the id is looked up in the corpus dict, and anything
else gets the 404 page. The pages are Jinja templates (``ui/templates/source``) with autoescape on, so
all document text is HTML-escaped, and the page's Content-Security-Policy only
lets its own script run (by hash), so even a document containing ``<script>`` cannot run code.

Example::

    app.include_router(source_router(corpus, default_lang="zh"))
    # GET /source/wg4-2019-l1-add1#p5     GET /source/?lang=en
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup

from rag.corpus.loader import Corpus
from rag.corpus.parser import ParsedDocument
from rag.corpus.records import DocumentMeta, Footnote, Paragraph, anchor
from rag.errors import QueryError
from ui.doc_text import runs
from ui.i18n import LANGS, NATIVE_NAMES, body_name, t
from ui.render import safe_href

_SUB_LINE = re.compile(r"^[(（]([^()（）\s]{1,3})[)）]\s*")

# Templates are package data (pyproject [tool.setuptools.package-data]), found next to this module both
# in a checkout and in an installed wheel. Autoescape is on for every template: only the viewer's own
# script and style, passed as Markup, are written unescaped.
TEMPLATES = Path(__file__).with_name("templates") / "source"
_ENV = Environment(
    loader=FileSystemLoader(TEMPLATES), autoescape=True, undefined=StrictUndefined,
    trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=False,
)
SCRIPT = (TEMPLATES / "viewer.js").read_text(encoding="utf-8")
STYLE = (TEMPLATES / "viewer.css").read_text(encoding="utf-8")

_SCRIPT_HASH = base64.b64encode(hashlib.sha256(SCRIPT.encode()).digest()).decode()
CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; "
    f"script-src 'sha256-{_SCRIPT_HASH}'; base-uri 'none'; form-action 'none'; frame-ancestors 'self'"
)


@dataclass(frozen=True)
class Segment:
    """A run of a paragraph's text (lines shown with ``<br>``); with an ``anchor`` it is a sub-paragraph:
    a block ``<div class="sub">``, or ``inline`` a ``<span class="sub inline">``."""

    lines: tuple[str, ...]
    anchor: str | None = None
    inline: bool = False


@dataclass(frozen=True)
class Heading:
    """A section heading shown before a paragraph (``level`` 2 to 6)."""

    level: int
    text: str


@dataclass(frozen=True)
class ParagraphView:
    """One paragraph as the page shows it: anchor, number, label in the page language, text, notes."""

    anchor: str
    number: int
    label: str
    segments: tuple[Segment, ...]
    footnotes: tuple[Footnote, ...] = ()


def _text(text: str, anchor_: str | None = None, inline: bool = False) -> Segment:
    return Segment(tuple(text.split("\n")), anchor_, inline)


def _inline_subs(p: Paragraph, labels: list[str]) -> tuple[Segment, ...]:
    """Sub-items written inline ("…：(a)…；(b)…"): each its own segment, carrying its anchor."""
    text = p.text
    marks: list[tuple[str, int]] = []
    pos = 0
    for label in labels:
        m = re.compile(rf"[(（]{re.escape(label)}[)）]").search(text, pos)
        if not m:
            break
        marks.append((label, m.start()))
        pos = m.end()
    if not marks:
        return (_text(text),)
    out = [_text(text[: marks[0][1]])]
    for j, (label, start) in enumerate(marks):
        if j + 1 < len(marks):
            end = marks[j + 1][1]
        else:
            stop = text.find("。", start)
            end = stop + 1 if stop >= 0 else len(text)
        out.append(_text(text[start:end], anchor(p.para, label), inline=True))
        if j + 1 == len(marks):
            out.append(_text(text[end:]))
    return tuple(out)


def paragraph_segments(p: Paragraph) -> tuple[Segment, ...]:
    """A paragraph's text as segments: lead-in, then each sub-paragraph with its anchor.

    Sub-items on their own line ("(a) …") become blocks (``<div class="sub" id="p54-a">``); nested
    lines such as "(一) …" inside item (b) stay in that item. Inline items get inline spans.
    """
    labels = [s.label for s in p.subs]
    lines = p.text.split("\n")
    line_subs = {m.group(1) for ln in lines if (m := _SUB_LINE.match(ln)) and m.group(1) in labels}
    if labels and not line_subs:
        return _inline_subs(p, labels)
    lead: list[str] = []
    subs: list[Segment] = []
    current: list[str] | None = None
    current_label = ""
    expected = iter(labels)
    want = next(expected, None)
    for ln in lines:
        m = _SUB_LINE.match(ln)
        if m and m.group(1) == want:
            if current is not None:
                subs.append(Segment(tuple(current), anchor(p.para, current_label)))
            current, current_label = [ln], want
            want = next(expected, None)
        elif current is not None:
            current.append(ln)
        else:
            lead.append(ln)
    if current is not None:
        subs.append(Segment(tuple(current), anchor(p.para, current_label)))
    return ((Segment(tuple(lead)),) if lead else ()) + tuple(subs)


def text_runs(text: str, hrefs: Mapping[str, str] | None = None) -> tuple[tuple[str, str | None], ...]:
    """``text`` as (shown text, link or None) runs: a Markdown link left in the text is shown as its text,
    linked only to a viewer page in ``hrefs`` (symbol -> URL); its own target (``#``, ``javascript:``)
    is never used.

    >>> text_runs("见（[CAC/X/1](#)）和[Y/2](javascript:x)。", {"CAC/X/1": "/source/x?lang=zh"})
    (('见（', None), ('CAC/X/1', '/source/x?lang=zh'), ('）和', None), ('Y/2', None), ('。', None))
    """
    hrefs = hrefs or {}
    return tuple((shown, hrefs.get(shown) if target is not None else None) for shown, target in runs(text))


def paragraph_body(p: Paragraph, hrefs: Mapping[str, str] | None = None) -> str:
    """A paragraph's text as HTML (what the page shows inside ``<div class="text">``), escaped.

    >>> from rag.corpus.records import SubParagraph
    >>> p = Paragraph("d", 3, "3. 建议：\\n(a) 第一项<b>；", subs=(SubParagraph("a", "第一项<b>；"),))
    >>> paragraph_body(p)
    '3. 建议：<div class="sub" id="p3-a">(a) 第一项&lt;b&gt;；</div>'
    >>> paragraph_body(Paragraph("d", 4, "见（[CAC/X/1](#)）。"), {"CAC/X/1": "/source/x"})
    '见（<a href="/source/x">CAC/X/1</a>）。'
    """
    macros = _ENV.get_template("macros.html.j2").module
    return str(macros.paragraph_text(paragraph_segments(p), lambda text: text_runs(text, hrefs)))


def _ref(meta: DocumentMeta, lang: str) -> str:
    return meta.symbol or (meta.short_ref_zh if lang == "zh" else meta.short_ref)


def _title(meta: DocumentMeta, lang: str) -> str:
    return (meta.title_zh or meta.title) if lang == "zh" else (meta.title_en or meta.title)


def _viewer_url(doc_id: str, lang: str) -> str:
    return f"/source/{quote(doc_id)}?{urlencode({'lang': lang})}"


def _official(meta: DocumentMeta, lang: str) -> str | None:
    return safe_href(meta.official_link(lang))  # javascript: and the like are not linked, just "none"


def _meta_rows(doc: ParsedDocument, lang: str) -> list[tuple[str, str, str | None]]:
    """(label, shown value, link or None) for the header's definition list."""
    m = doc.meta
    rows: list[tuple[str, str, str | None]] = [(t("viewer_symbol", lang), _ref(m, lang), None)]
    if m.date:
        rows.append((t("viewer_date", lang), m.date.isoformat(), None))
    if m.body:
        rows.append((t("viewer_body", lang), body_name(m.body, lang), None))
    if m.session:
        rows.append((t("viewer_session", lang), m.session, None))
    if m.agenda_item:
        rows.append((t("viewer_agenda", lang), m.agenda_item, None))
    official = _official(m, lang)
    rows.append((t("viewer_official", lang), official or t("viewer_none", lang), official))
    return rows


def _items(doc: ParsedDocument, lang: str) -> list[Heading | ParagraphView]:
    """Headings and paragraphs in reading order: a heading where a paragraph's section path changes."""
    items: list[Heading | ParagraphView] = []
    shown: tuple[str, ...] = ()
    for p in doc.paragraphs:
        same = 0
        while same < min(len(shown), len(p.section)) and shown[same] == p.section[same]:
            same += 1
        items += [Heading(min(level + 2, 6), p.section[level]) for level in range(same, len(p.section))]
        shown = p.section
        label = p.label_zh if lang == "zh" else p.label_en
        items.append(ParagraphView(anchor(p.para), p.para, label, paragraph_segments(p), tuple(p.footnotes)))
    return items


_ENV.tests["heading"] = lambda item: isinstance(item, Heading)  # `{% if item is heading %}`


def _render(template: str, lang: str, **values: object) -> str:
    return _ENV.get_template(template).render(
        lang=lang, tr=lambda key: t(key, lang), style=Markup(STYLE), script=Markup(SCRIPT), **values
    )


@dataclass(frozen=True)
class DocLink:
    """A link to another document of the corpus: its viewer URL and its symbol or short reference."""

    href: str
    ref: str


@dataclass(frozen=True)
class LibraryRow:
    """One document as the library lists it, every value in the page language."""

    href: str
    ref: str
    title: str
    date: str
    body: str
    session: str
    paragraphs: int
    official: str | None


def library_rows(corpus: Corpus, lang: str) -> list[LibraryRow]:
    """Every document of ``corpus`` in corpus order, as the library table shows it in ``lang``."""
    def ref(d: ParsedDocument) -> str:
        # Language versions of one symbol are rows of their own, named by their language.
        if len(corpus.versions(d.doc_id)) < 2:
            return _ref(d.meta, lang)
        return f"{_ref(d.meta, lang)} ({NATIVE_NAMES.get(d.meta.language, d.meta.language)})"

    return [
        LibraryRow(
            _viewer_url(d.doc_id, lang), ref(d), _title(d.meta, lang),
            d.meta.date.isoformat() if d.meta.date else "", body_name(d.meta.body, lang), d.meta.session or "",
            len(d.paragraphs), _official(d.meta, lang),
        )
        for d in corpus.documents
    ]


def symbol_links(corpus: Corpus | None, lang: str) -> dict[str, str]:
    """Symbol -> viewer URL of each indexed document that has a UN symbol: what a Markdown link in the
    text may point to."""
    docs = corpus.documents if corpus else []
    return {d.meta.symbol: _viewer_url(d.doc_id, lang) for d in docs if d.meta.symbol}


def _neighbours(corpus: Corpus | None, doc_id: str, lang: str) -> tuple[DocLink | None, DocLink | None]:
    """The previous and next documents in corpus order (None at either end, or without a corpus)."""
    docs = corpus.documents if corpus else []
    ids = [d.doc_id for d in docs]
    if doc_id not in ids:
        return None, None
    i = ids.index(doc_id)

    def link(d: ParsedDocument) -> DocLink:
        return DocLink(_viewer_url(d.doc_id, lang), _ref(d.meta, lang))

    return (link(docs[i - 1]) if i else None), (link(docs[i + 1]) if i + 1 < len(docs) else None)


def _other(lang: str) -> str:
    return "en" if lang == "zh" else "zh"


def lang_href(lang: str, hl: Sequence[str] = ()) -> str:
    """The language switch: this page in the other language, with the quotes it highlights (``?hl=``);
    the script adds the ``#p…`` fragment, which a server never sees.

    >>> lang_href("zh", ["甲。"])
    '?lang=en&hl=%E7%94%B2%E3%80%82'
    """
    return "?" + urlencode([("lang", _other(lang))] + [("hl", q) for q in hl])


def _render(template: str, lang: str, **values: object) -> str:
    return _ENV.get_template(template).render(
        lang=lang, other=_other(lang), tr=lambda key: t(key, lang), style=Markup(STYLE), script=Markup(SCRIPT),
        chat_href=f"/?{urlencode({'lang': lang})}", library_href=f"/source/?{urlencode({'lang': lang})}",
        **values,
    )


def render_document(doc: ParsedDocument, lang: str = "zh", corpus: Corpus | None = None, hl: Sequence[str] = ()) -> str:
    """The whole document page: metadata header, front matter, headings, paragraphs with anchors, footnotes.

    With the ``corpus`` the page links the previous and next documents and turns a Markdown link naming an
    indexed symbol into a viewer link; ``hl`` (the quotes the page highlights) travels with the language link.
    """
    m = doc.meta
    title, alt = _title(m, lang), m.title_en if lang == "zh" else m.title_zh
    hrefs = symbol_links(corpus, lang)
    prev, next_ = _neighbours(corpus, doc.doc_id, lang)
    return _render(
        "document.html.j2", lang, title=f"{_ref(m, lang)} — {title}", heading=title,
        versions=version_links(corpus, doc.doc_id, lang, hl),
        alt=alt if alt and alt != title else None, lang_href=lang_href(lang, hl),
        meta=_meta_rows(doc, lang), front_matter=list(doc.front_matter), items=_items(doc, lang),
        doc_footnotes=list(doc.footnotes), links=lambda text: text_runs(text, hrefs), prev=prev, next=next_,
    )


@dataclass(frozen=True)
class VersionLink:
    """One language version of the document in the viewer's version switch."""

    lang: str
    name: str
    href: str
    current: bool


def version_links(corpus: Corpus | None, doc_id: str, lang: str, hl: Sequence[str] = ()) -> list[VersionLink]:
    """The document's language versions (same symbol, same paragraph numbers), each linked to its own
    page in interface language ``lang``; empty when the document has one version. The page script
    carries the ``#p…`` anchor over, so the switch lands on the same paragraph.

    >>> version_links(None, "d", "zh")
    []
    """
    if corpus is None:
        return []
    versions = corpus.versions(doc_id)
    if len(versions) < 2:
        return []
    query = urlencode([("lang", lang)] + [("hl", q) for q in hl])
    return [VersionLink(ln, NATIVE_NAMES.get(ln, ln), f"/source/{other}?{query}", other == doc_id)
            for ln, other in sorted(versions.items(), key=lambda kv: kv[0] != "zh")]


def render_library(corpus: Corpus, lang: str = "zh") -> str:
    """The document library (``/source/``): every document with its metadata, linked to its viewer page."""
    return _render("library.html.j2", lang, title=t("library", lang), rows=library_rows(corpus, lang),
                   lang_href=lang_href(lang))


def render_not_found(corpus: Corpus, requested: str, lang: str = "zh") -> str:
    """The 404 page: names the requested id (escaped), then the library's table of the documents that exist."""
    return _render("not_found.html.j2", lang, title=t("not_found_title", lang), requested=requested,
                   rows=library_rows(corpus, lang), lang_href=lang_href(lang))


def source_router(corpus: Corpus, default_lang: str = "zh") -> APIRouter:
    """``GET /source/<doc_id>`` (one document) and ``GET /source/`` (the library). Unknown ids -> 404 page."""
    router = APIRouter()
    headers = {"Content-Security-Policy": CSP, "X-Content-Type-Options": "nosniff", "Referrer-Policy": "same-origin"}

    def page(html: str, status: int = 200) -> HTMLResponse:
        return HTMLResponse(html, status_code=status, headers=headers)

    @router.get("/source/{doc_id:path}", response_class=HTMLResponse, summary="One document, paragraph anchors #p12")
    def source(doc_id: str, lang: str | None = None, hl: Annotated[list[str] | None, Query()] = None) -> HTMLResponse:
        lang = lang if lang in LANGS else default_lang
        if doc_id == "":
            return page(render_library(corpus, lang))
        try:
            doc = corpus.document(doc_id)  # a dict lookup, never a path
        except QueryError:
            return page(render_not_found(corpus, doc_id, lang), 404)
        return page(render_document(doc, lang, corpus, hl or ()))

    @router.get("/source", include_in_schema=False)
    def source_index(lang: str | None = None) -> HTMLResponse:
        return source("", lang)

    return router
