"""HTML for answers, citations and sources, shared by the chat, the widget and the sources panel.

Every piece of text that comes from a document, a question or an answer goes through ``escape``;
markup is only ever produced here, from fixed strings. ``escape`` also neutralises Markdown syntax,
because the chat renders messages as Markdown: a ``*`` or ``[x](y)`` in a document must stay text.

Example::

    html = render_answer(result, "en", corpus)      # the chat message
    panel = render_sources(result, corpus, "en")    # the sources panel beside the chat
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence
from urllib.parse import urlencode

from rag.corpus.loader import Corpus
from rag.corpus.records import Citation, Paragraph, source_url
from rag.request import Filters
from rag.result import AnswerResult, AnswerSentence, Retrieved
from rag.retrieval.scope import allowed_docs
from ui.doc_text import plain
from ui.i18n import body_name, language_name, t

# HTML- and Markdown-active characters become numeric entities, in one pass: a browser shows the
# character, neither HTML nor Markdown sees syntax.
_ESCAPE = str.maketrans({c: f"&#{ord(c)};" for c in "&<>\"'\\`*_[]{}#|~$"})
# Control characters (but tab and newline) are shown as U+FFFD: they are invalid in HTML.
_ESCAPE.update({c: "\ufffd" for c in [*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0x7F]})
_SNIPPET_CHARS = 90


def escape(text: str) -> str:
    """Text -> HTML that shows exactly that text, in plain HTML and in Markdown; newlines become <br>.

    >>> escape("<b>*x*</b>\\n")
    '&#60;b&#62;&#42;x&#42;&#60;/b&#62;<br>'
    """
    return text.replace("\r\n", "\n").replace("\r", "\n").translate(_ESCAPE).replace("\n", "<br>")


def attr(value: str) -> str:
    """An attribute value (always written between double quotes)."""
    return html.escape(value, quote=True)


def safe_href(url: str | None) -> str | None:
    """Only http(s) URLs and site-relative paths are linked; anything else (javascript:, data:) is dropped."""
    if not url:
        return None
    if url.startswith(("https://", "http://")) or (url.startswith("/") and not url.startswith("//")):
        return url
    return None


def citation_label(c: Citation, lang: str) -> str:
    """The UN label in the interface language: ``…, para. 5`` or ``…，第 5 段``."""
    return c.label_zh if lang == "zh" else c.label_en


def paragraph_label(p: Paragraph, lang: str) -> str:
    return p.label_zh if lang == "zh" else p.label_en


QUOTE_IN_URL = 300  # characters of a quote carried to the viewer for highlighting


def highlight_url(doc_id: str, para: int, sub: str | None, quotes: Sequence[str] = (), lang: str | None = None) -> str:
    """The viewer link in the reader's language, with the quoted sentences to highlight:
    ``/source/<doc>?lang=…&hl=…&hl=…#p5``. The viewer shows Markdown links as their text, so the quotes
    are sent the same way (``ui.doc_text.plain``).

    >>> highlight_url("d", 5, None, ["甲。", "乙。"], "en")
    '/source/d?lang=en&hl=%E7%94%B2%E3%80%82&hl=%E4%B9%99%E3%80%82#p5'
    """
    base, _, frag = source_url(doc_id, para, sub).partition("#")
    params = [("lang", lang)] if lang else []
    params += [("hl", plain(q)[:QUOTE_IN_URL]) for q in dict.fromkeys(quotes) if q and q.strip()]
    return base + ("?" + urlencode(params) if params else "") + "#" + frag


def citation_url(c: Citation, lang: str | None = None) -> str:
    """Rebuilt from the citation's parts rather than trusted as given: always this app's viewer, in the
    reader's language, with the quoted sentence to highlight there."""
    return highlight_url(c.doc_id, c.para, c.sub, [c.quote], lang)


def link(href: str, label: str, cls: str = "cite") -> str:
    """A citation link; it opens the source in a new tab so the conversation stays where it is."""
    return f'<a class="{cls}" href="{attr(href)}" target="_blank" rel="noopener">{escape(label)}</a>'


def citation_link(c: Citation, lang: str) -> str:
    return link(citation_url(c, lang), citation_label(c, lang))


def retrieved_label(r: Retrieved, corpus: Corpus | None, lang: str) -> str:
    p = corpus.paragraph(r.doc_id, r.para) if corpus else None
    if p is not None:
        return paragraph_label(p, lang)
    return f"{r.doc_id}，第 {r.para} 段" if lang == "zh" else f"{r.doc_id}, para. {r.para}"


def snippet(text: str, n: int = _SNIPPET_CHARS) -> str:
    flat = " ".join(plain(text).split())
    return flat if len(flat) <= n else flat[: n - 1] + "…"


# --- filters ----------------------------------------------------------------------------------------

def describe_filters(filters: Filters, lang: str, corpus: Corpus | None = None) -> str:
    """The filters in words a delegate reads: document references, body names, years.

    >>> describe_filters(Filters(bodies=("WG.4",), years=(2019, 2020)), "en")
    'body: Working Group on the Prevention of Corruption (WG.4); year: 2019, 2020'
    >>> describe_filters(Filters(years=(2011,)), "zh")
    '年份：2011'
    """
    known = set(corpus.doc_ids) if corpus is not None else set()

    def ref(doc_id: str) -> str:
        if doc_id not in known:
            return doc_id
        meta = corpus.meta(doc_id)
        return meta.ref_zh if lang == "zh" else meta.ref_en

    comma, colon, sep = ("、", "：", "；") if lang == "zh" else (", ", ": ", "; ")
    groups = (
        ("filter_docs", [ref(d) for d in filters.doc_ids]),
        ("filter_bodies", [body_name(b, lang) for b in filters.bodies]),
        ("filter_years", [str(y) for y in filters.years]),
    )
    named = [(t(key, lang) if lang == "zh" else t(key, lang).lower(), vals) for key, vals in groups if vals]
    return sep.join(f"{name}{colon}{comma.join(vals)}" for name, vals in named)


def render_filter_marker(filters: Filters, lang: str, corpus: Corpus | None = None) -> str:
    """The line under the question box saying a filter is on (empty when none), with a warning when
    the chosen values match no document together."""
    if not filters:
        return ""
    text = f'{t("filtered", lang)}{"：" if lang == "zh" else ": "}{describe_filters(filters, lang, corpus)}'
    empty = corpus is not None and not allowed_docs(filters, corpus)
    warn = f' <span class="filter-empty">{escape(t("no_match_short", lang))}</span>' if empty else ""
    return f'<div class="filter-marker" role="status">{escape(text)}{warn}</div>'


# --- chat messages ----------------------------------------------------------------------------------

def render_question(question: str) -> str:
    """The user's message as shown in the chat: always text, never markup."""
    return f'<div class="q">{escape(question)}</div>'


def render_message(text: str, cls: str = "msg") -> str:
    """A one-line message from the interface (searching…, an input error)."""
    return f'<div class="{cls}">{escape(text)}</div>'


def _sentences(result: AnswerResult) -> tuple[AnswerSentence, ...]:
    if result.sentences:
        return result.sentences
    return (AnswerSentence(result.answer, tuple(range(len(result.citations)))),)


def lead_in(result: AnswerResult) -> str:
    """The answer's framing text before its first cited sentence, if any (e.g. "The documents state
    (quoted in the original Chinese…):" above Chinese quotes answering an English question)."""
    if not result.sentences:
        return ""
    at = result.answer.find(result.sentences[0].text)
    return result.answer[:at].rstrip(" \t\n-*•“\"「『") if at > 0 else ""


def answer_steps(result: AnswerResult) -> int:
    """How many partial renderings ``render_answer(..., upto=i)`` the chat streams before the full one."""
    return 1 if result.refused else len(_sentences(result))


def render_answer(result: AnswerResult, lang: str, corpus: Corpus | None = None, *, upto: int | None = None) -> str:
    """The answer as a chat message: each sentence followed by its citations as links to the viewer.

    A refusal says "not found in the documents" and lists the nearest paragraphs, linked. ``upto``
    renders only the first sentences (streaming).
    """
    if result.refused:
        return _render_refusal(result, lang, corpus)
    parts = [f'<p class="lead">{escape(lead)}</p>'] if (lead := lead_in(result)) else []
    for s in _sentences(result)[:upto]:
        cites = [citation_link(result.citations[i], lang) for i in s.citations if 0 <= i < len(result.citations)]
        cite_html = f' <span class="cites">[{"; ".join(cites)}]</span>' if cites else ""
        flag = "" if s.supported else f' <span class="unsupported">{escape(t("unsupported", lang))}</span>'
        cls = "sent" if s.supported else "sent unsupported"
        parts.append(f'<p class="{cls}">{escape(plain(s.text))}{cite_html}{flag}</p>')
    if upto is None and (notice := result.notice_in(lang)):
        parts.append(f'<p class="notice">{escape(t("notice", lang))}: {escape(notice)}</p>')
    return f'<div class="answer" data-refused="false">{"".join(parts)}</div>'


def _render_refusal(result: AnswerResult, lang: str, corpus: Corpus | None) -> str:
    items = []
    for r in result.retrieved:
        p = corpus.paragraph(r.doc_id, r.para) if corpus else None
        text = f' — <span class="snippet">{escape(snippet(p.text))}</span>' if p else ""
        items.append(f"<li>{link(highlight_url(r.doc_id, r.para, None, (), lang), retrieved_label(r, corpus, lang))}{text}</li>")
    nearest = f'<p>{escape(t("nearest", lang))}</p><ul class="nearest">{"".join(items)}</ul>' if items else ""
    said = result.notice_in(lang)
    notice = f'<p class="notice">{escape(said)}</p>' if said else ""
    return (
        f'<div class="answer refused" data-refused="true"><p><strong>{escape(t("not_found", lang))}</strong></p>'
        f"{nearest}{notice}</div>"
    )


# --- sources panel ----------------------------------------------------------------------------------

def _find(text: str, quote: str) -> tuple[int, int] | None:
    """Where ``quote`` is in ``text``: exactly, else ignoring whitespace (PDF joins, "2019 年" spacing)."""
    quote = quote.strip()
    if not quote:
        return None
    i = text.find(quote)
    if i >= 0:
        return i, i + len(quote)
    keep = [k for k, ch in enumerate(text) if not ch.isspace()]
    squeezed = "".join(text[k] for k in keep)
    q = "".join(ch for ch in quote if not ch.isspace())
    j = squeezed.find(q) if q else -1
    if j < 0:
        return None
    return keep[j], keep[j + len(q) - 1] + 1


def highlight(text: str, quotes: Iterable[str]) -> tuple[str, list[str]]:
    """Escaped ``text`` with each quote found in it wrapped in <mark>; also the quotes not found."""
    spans, missing = [], []
    for q in quotes:
        if (hit := _find(text, q)) is not None:
            spans.append(hit)
        elif q.strip():
            missing.append(q)
    merged: list[list[int]] = []
    for s, e in sorted(spans):
        if merged and s <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], e)
        else:
            merged.append([s, e])
    out, pos = [], 0
    for s, e in merged:
        out.append(escape(text[pos:s]))
        out.append(f"<mark>{escape(text[s:e])}</mark>")
        pos = e
    out.append(escape(text[pos:]))
    return "".join(out), missing


def _copy_button(label: str, lang: str) -> str:
    return (
        f'<button type="button" class="copy-cite" data-label="{attr(label)}" data-done="{attr(t("copied", lang))}" '
        f'title="{attr(t("copy", lang))}">{escape(t("copy", lang))}</button>'
    )


def render_sources(result: AnswerResult | None, corpus: Corpus | None, lang: str) -> str:
    """The cited paragraphs in full, supporting sentences highlighted, each with its label, a copy
    button for the label, and the official UN link where the manifest has one.

    Citations of the same paragraph (several quotes, or sub-paragraphs) share one card. A refusal shows
    the nearest paragraphs instead, without highlights.
    """
    header = f'<h3 class="sources-title">{escape(t("sources", lang))}</h3>'
    if result is None:
        return f'<div class="sources">{header}<p class="hint">{escape(t("sources_empty", lang))}</p></div>'
    groups: dict[tuple[str, int], list[Citation]] = {}
    for c in result.citations:
        groups.setdefault((c.doc_id, c.para), []).append(c)
    cards = []
    if result.refused or not groups:
        for r in result.retrieved:
            if (p := corpus.paragraph(r.doc_id, r.para) if corpus else None) is not None:
                href = highlight_url(r.doc_id, r.para, None, (), lang)
                cards.append(_card(corpus, p, [], [paragraph_label(p, lang)], href, lang))
    else:
        for (doc_id, para), cites in groups.items():
            p = corpus.paragraph(doc_id, para) if corpus else None
            labels = list(dict.fromkeys(citation_label(c, lang) for c in cites))
            quotes = [c.quote for c in cites]
            href = highlight_url(doc_id, para, cites[0].sub if len(cites) == 1 else None, quotes, lang)
            cards.append(_card(corpus, p, quotes, labels, href, lang, cites))
    return f'<div class="sources">{header}{"".join(cards)}</div>'


def _card(
    corpus: Corpus | None, p: Paragraph | None, quotes: Sequence[str], labels: Sequence[str], href: str, lang: str,
    cites: Sequence[Citation] = (),
) -> str:
    head = "".join(f'<span class="label-row">{link(href, lb)} {_copy_button(lb, lang)}</span>' for lb in labels)
    meta_html = ""
    if corpus is not None and p is not None:
        meta = corpus.meta(p.doc_id)
        title = meta.title_zh if lang == "zh" else (meta.title_en or meta.title)
        bits = [escape(title or meta.title)]
        if meta.date:
            bits.append(escape(meta.date.isoformat()))
        official = safe_href(meta.official_link(lang))
        if official:
            bits.append(link(official, t("official", lang), cls="official"))
        meta_html = f'<div class="src-meta">{" · ".join(bits)}</div>'
        if p.section:
            meta_html += f'<div class="src-section">{escape(p.section_path)}</div>'
    if p is not None:
        body, missing = highlight(plain(p.text), [plain(q) for q in quotes])
        text_html = f'<div class="src-text">{body}</div>'
    else:
        text_html, missing = "", list(quotes)
    extra = "".join(f'<blockquote class="src-quote"><mark>{escape(plain(q))}</mark></blockquote>' for q in missing)
    versions = _other_versions(corpus, p, lang) if p is not None else ""
    return f'<div class="src-card"><div class="src-head">{head}</div>{meta_html}{extra}{text_html}{versions}</div>'


def _other_versions(corpus: Corpus | None, p: Paragraph, lang: str) -> str:
    """The same paragraph in the document's other language versions (same symbol, same number), shown
    under the quoted one: an English answer quotes the English text, and the Chinese stands beside it."""
    if corpus is None or p.doc_id not in corpus.doc_ids:
        return ""
    out = []
    for version_lang, doc_id in corpus.versions(p.doc_id).items():
        other = corpus.paragraph(doc_id, p.para) if doc_id != p.doc_id else None
        if other is None:
            continue
        name = language_name(version_lang, lang)
        title = escape(t("other_version", lang, language=name))
        href = highlight_url(doc_id, p.para, None, (), lang)
        out.append(
            f'<details class="src-version" open><summary>{title} · {link(href, paragraph_label(other, lang))}</summary>'
            f'<div class="src-text" lang="{attr(version_lang)}">{escape(plain(other.text))}</div></details>'
        )
    return "".join(out)
