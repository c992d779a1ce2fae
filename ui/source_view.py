"""The source viewer: ``/source/<doc_id>``, one whole document as plain server-rendered HTML.

Every paragraph carries its anchor (``id="p12"``; a sub-paragraph ``id="p54-j"``), so a citation link
lands on it: CSS ``:target`` highlights a paragraph, and a small script also highlights the paragraph
around a sub-paragraph anchor and scrolls it into view. Section headings, footnotes and the document's
metadata (symbol or short reference, title, date, body, session, official link) frame the text.

A request's path never reaches the file system: the id is looked up in the corpus dict, and anything
else gets the 404 page. All document text is HTML-escaped, and the page's Content-Security-Policy only
lets its own script run (by hash), so even a document containing ``<script>`` cannot run code.

Example::

    app.include_router(source_router(corpus, default_lang="zh"))
    # GET /source/wg4-2019-l1-add1#p5
"""

from __future__ import annotations

import base64
import hashlib
import html
import re

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from rag.corpus.loader import Corpus
from rag.corpus.parser import ParsedDocument
from rag.corpus.records import Paragraph, anchor
from rag.errors import QueryError
from ui.i18n import LANGS, t
from ui.render import safe_href

_SUB_LINE = re.compile(r"^[(（]([^()（）\s]{1,3})[)）]\s*")

SCRIPT = """(function () {
  var marked = [];
  function show() {
    marked.forEach(function (e) { e.classList.remove("is-target"); });
    marked = [];
    var id = decodeURIComponent(location.hash.slice(1));
    var el = id && document.getElementById(id);
    if (!el) return;
    var para = el.closest(".para");
    [el, para].forEach(function (e) {
      if (e && marked.indexOf(e) < 0) { e.classList.add("is-target"); marked.push(e); }
    });
    el.scrollIntoView({block: "center"});
  }
  // ?hl=<quote>&hl=<quote>: every sentence the answer quoted from this paragraph gets a <mark>. The
  // quotes are matched as text and wrapped with DOM nodes, never parsed as HTML.
  function quotes() {
    var qs = new URLSearchParams(location.search).getAll("hl");
    var id = decodeURIComponent(location.hash.slice(1));
    var el = id && document.getElementById(id);
    var root = (el && el.closest(".para")) || document.querySelector("main");
    if (!root) return;
    qs.forEach(function (q) {
      q.split("\\n").forEach(function (piece) {
        piece = piece.trim();
        if (!piece) return;
        var walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT), node;
        while ((node = walker.nextNode())) {
          var i = node.data.indexOf(piece);
          if (i < 0 || (node.parentNode && node.parentNode.classList && node.parentNode.classList.contains("quote"))) continue;
          var r = document.createRange();
          r.setStart(node, i); r.setEnd(node, i + piece.length);
          var m = document.createElement("mark"); m.className = "quote";
          r.surroundContents(m);
          break;
        }
      });
    });
  }
  function marks() { try { quotes(); } catch (e) { /* a quote that spans elements stays unmarked */ } }
  window.addEventListener("hashchange", show);
  window.addEventListener("load", show);  // again after the browser's own jump to the fragment
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", show); else show();
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", marks); else marks();
})();"""

_SCRIPT_HASH = base64.b64encode(hashlib.sha256(SCRIPT.encode()).digest()).decode()
CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; "
    f"script-src 'sha256-{_SCRIPT_HASH}'; base-uri 'none'; form-action 'none'; frame-ancestors 'self'"
)

STYLE = """
:root { --accent: #1f5fa8; --target: #fff1b8; --sub-target: #ffd966; }
body { font-family: "PingFang SC", "Microsoft YaHei", "Noto Sans CJK SC", "Source Han Sans SC", "WenQuanYi Micro Hei", system-ui, sans-serif;
       max-width: 56rem; margin: 0 auto; padding: 1rem 1.5rem 4rem; line-height: 1.75; color: #1d2330; }
a { color: var(--accent); }
header.doc-meta { border-bottom: 2px solid var(--accent); margin-bottom: 1.5rem; padding-bottom: .75rem; }
header h1 { font-size: 1.35rem; margin: .5rem 0 .25rem; }
header .title-alt { color: #555; margin: 0 0 .5rem; }
dl.meta { display: grid; grid-template-columns: max-content 1fr; gap: .15rem 1rem; margin: .5rem 0 0; font-size: .92rem; }
dl.meta dt { color: #555; } dl.meta dd { margin: 0; }
.nav { display: flex; justify-content: space-between; font-size: .9rem; }
details.front { color: #555; font-size: .9rem; margin-bottom: 1rem; }
h2, h3, h4, h5, h6 { color: #163d6b; margin: 1.6rem 0 .6rem; }
h2 { font-size: 1.2rem; } h3 { font-size: 1.08rem; } h4, h5, h6 { font-size: 1rem; }
.para { position: relative; padding: .35rem .6rem .35rem 3.2rem; margin: .2rem -.6rem; border-radius: 6px;
        scroll-margin-top: 4rem; }
.para .num { position: absolute; left: .6rem; top: .35rem; font-weight: 600; text-decoration: none; }
.para .label { display: none; font-size: .78rem; color: #666; }
.para:target, .para.is-target { background: var(--target); box-shadow: inset 4px 0 0 #e0a800; }
.para:target .label, .para.is-target .label { display: block; }
.sub { display: block; padding-left: 1.6rem; text-indent: -1.6rem; border-radius: 4px; scroll-margin-top: 4rem; }
.sub.inline { display: inline; padding: 0; text-indent: 0; }
.sub:target, .sub.is-target { background: var(--sub-target); }
mark.quote { background: #ffd966; padding: 0 .1rem; border-radius: 2px; }
.fn { font-size: .85rem; color: #444; border-left: 3px solid #ccd; padding-left: .6rem; margin: .4rem 0 0; }
.fn .mark { font-weight: 600; margin-right: .3rem; }
section.footnotes { margin-top: 2rem; border-top: 1px solid #ccd; }
ul.docs li { margin: .4rem 0; }
"""


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _page(title: str, body: str, lang: str) -> str:
    return (
        f'<!doctype html><html lang="{"zh-Hans" if lang == "zh" else "en"}"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width, initial-scale=1"><title>{_e(title)}</title>'
        f"<style>{STYLE}</style></head><body>{body}<script>{SCRIPT}</script></body></html>"
    )


def _lines(text: str) -> str:
    return "<br>".join(_e(ln) for ln in text.split("\n"))


def _inline_subs(p: Paragraph, text: str, labels: list[str]) -> str:
    """Sub-items written inline ("…：(a)…；(b)…"): each wrapped in a span carrying its anchor."""
    marks: list[tuple[str, int]] = []
    pos = 0
    for label in labels:
        m = re.compile(rf"[(（]{re.escape(label)}[)）]").search(text, pos)
        if not m:
            break
        marks.append((label, m.start()))
        pos = m.end()
    if not marks:
        return _lines(text)
    out = [_lines(text[: marks[0][1]])]
    for j, (label, start) in enumerate(marks):
        if j + 1 < len(marks):
            end = marks[j + 1][1]
        else:
            stop = text.find("。", start)
            end = stop + 1 if stop >= 0 else len(text)
        out.append(f'<span class="sub inline" id="{_e(anchor(p.para, label))}">{_lines(text[start:end])}</span>')
        if j + 1 == len(marks):
            out.append(_lines(text[end:]))
    return "".join(out)


def paragraph_body(p: Paragraph) -> str:
    """A paragraph's text as HTML: lead-in, then each sub-paragraph in an element with its anchor.

    Sub-items on their own line ("(a) …") become blocks ``<div class="sub" id="p54-a">``; nested
    lines such as "(一) …" inside item (b) stay in that item. Inline items get inline spans.
    """
    labels = [s.label for s in p.subs]
    lines = p.text.split("\n")
    line_subs = {m.group(1) for ln in lines if (m := _SUB_LINE.match(ln)) and m.group(1) in labels}
    if labels and not line_subs:
        return _inline_subs(p, p.text, labels)
    out: list[str] = []
    lead: list[str] = []
    current: list[str] | None = None
    current_label = ""
    expected = iter(labels)
    want = next(expected, None)

    def close() -> None:
        if current is not None:
            out.append(
                f'<div class="sub" id="{_e(anchor(p.para, current_label))}">{"<br>".join(current)}</div>'
            )

    for ln in lines:
        m = _SUB_LINE.match(ln)
        if m and m.group(1) == want:
            close()
            current, current_label = [_e(ln)], want
            want = next(expected, None)
        elif current is not None:
            current.append(_e(ln))
        else:
            lead.append(_e(ln))
    if lead:
        out.insert(0, "<br>".join(lead))
    close()
    return "".join(out)


def _meta_rows(doc: ParsedDocument, lang: str) -> str:
    m = doc.meta
    rows = [(t("viewer_symbol", lang), _e(m.symbol or (m.short_ref_zh if lang == "zh" else m.short_ref)))]
    if m.date:
        rows.append((t("viewer_date", lang), _e(m.date.isoformat())))
    if m.body:
        rows.append((t("viewer_body", lang), _e(m.body)))
    if m.session:
        rows.append((t("viewer_session", lang), _e(m.session)))
    if m.agenda_item:
        rows.append((t("viewer_agenda", lang), _e(m.agenda_item)))
    official = safe_href(m.official_url)
    rows.append((
        t("viewer_official", lang),
        f'<a class="official" href="{_e(official)}" rel="noopener">{_e(official)}</a>' if official else _e(t("viewer_none", lang)),
    ))
    return "".join(f"<dt>{_e(k)}</dt><dd>{v}</dd>" for k, v in rows)


def render_document(doc: ParsedDocument, lang: str = "zh") -> str:
    """The whole document page: metadata header, front matter, headings, paragraphs with anchors, footnotes."""
    m = doc.meta
    other = "en" if lang == "zh" else "zh"
    title = m.title_zh or m.title if lang == "zh" else (m.title_en or m.title)
    alt = m.title_en if lang == "zh" else m.title_zh
    parts = [
        '<header class="doc-meta"><div class="nav">'
        f'<a href="/">← {_e(t("viewer_back", lang))}</a>'
        f'<a href="?lang={other}" class="lang">{"English" if other == "en" else "中文"}</a></div>'
        f'<h1>{_e(title)}</h1>' + (f'<p class="title-alt">{_e(alt)}</p>' if alt and alt != title else "")
        + f'<dl class="meta">{_meta_rows(doc, lang)}</dl></header>'
    ]
    if doc.front_matter:
        parts.append(
            f'<details class="front"><summary>{_e(t("viewer_front", lang))}</summary>'
            f'<p>{"<br>".join(_e(x) for x in doc.front_matter)}</p></details>'
        )
    parts.append("<main>")
    shown: tuple[str, ...] = ()
    for p in doc.paragraphs:
        same = 0
        while same < min(len(shown), len(p.section)) and shown[same] == p.section[same]:
            same += 1
        for level in range(same, len(p.section)):
            h = min(level + 2, 6)
            parts.append(f'<h{h} class="section">{_e(p.section[level])}</h{h}>')
        shown = p.section
        label = p.label_zh if lang == "zh" else p.label_en
        notes = "".join(
            f'<p class="fn"><span class="mark">{_e(f.mark)}</span>{_e(f.text)}</p>' for f in p.footnotes
        )
        parts.append(
            f'<section class="para" id="{_e(anchor(p.para))}" data-label="{_e(label)}">'
            f'<a class="num" href="#{_e(anchor(p.para))}">{p.para}.</a>'
            f'<span class="label">{_e(label)}</span><div class="text">{paragraph_body(p)}</div>{notes}</section>'
        )
    parts.append("</main>")
    if doc.footnotes:
        notes = "".join(f'<p class="fn"><span class="mark">{_e(f.mark)}</span>{_e(f.text)}</p>' for f in doc.footnotes)
        parts.append(f'<section class="footnotes"><h2>{_e(t("viewer_footnotes", lang))}</h2>{notes}</section>')
    head = m.symbol or (m.short_ref_zh if lang == "zh" else m.short_ref)
    return _page(f"{head} — {title}", "".join(parts), lang)


def render_not_found(corpus: Corpus, requested: str, lang: str = "zh") -> str:
    """The 404 page: names the requested id (escaped) and links the documents that exist."""
    items = "".join(
        f'<li><a href="/source/{_e(d.doc_id)}">{_e(d.meta.symbol or (d.meta.short_ref_zh if lang == "zh" else d.meta.short_ref))}</a>'
        f" — {_e(d.meta.title_zh if lang == 'zh' else d.meta.title_en or d.meta.title)}</li>"
        for d in corpus.documents
    )
    body = (
        f'<div class="nav"><a href="/">← {_e(t("viewer_back", lang))}</a></div>'
        f'<h1>{_e(t("not_found_title", lang))}</h1>'
        + (f"<p><code>{_e(requested)}</code></p>" if requested else "")
        + f'<p>{_e(t("not_found_body", lang))}</p><ul class="docs">{items}</ul>'
    )
    return _page(t("not_found_title", lang), body, lang)


def source_router(corpus: Corpus, default_lang: str = "zh") -> APIRouter:
    """``GET /source/<doc_id>`` (and ``/source/`` listing the documents). Unknown ids -> 404 page."""
    router = APIRouter()
    headers = {"Content-Security-Policy": CSP, "X-Content-Type-Options": "nosniff", "Referrer-Policy": "same-origin"}

    @router.get("/source/{doc_id:path}", response_class=HTMLResponse, summary="One document, paragraph anchors #p12")
    def source(doc_id: str, lang: str | None = None) -> HTMLResponse:
        lang = lang if lang in LANGS else default_lang
        try:
            doc = corpus.document(doc_id)  # a dict lookup, never a path
        except QueryError:
            status = 200 if doc_id == "" else 404
            return HTMLResponse(render_not_found(corpus, doc_id, lang), status_code=status, headers=headers)
        return HTMLResponse(render_document(doc, lang), headers=headers)

    @router.get("/source", include_in_schema=False)
    def source_index(lang: str | None = None) -> HTMLResponse:
        return source("", lang)

    return router
