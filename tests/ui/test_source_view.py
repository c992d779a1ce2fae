"""The source viewer /source/<doc_id> and the library /source/: anchors, headings, footnotes, metadata,
navigation, escaping, 404s."""

from __future__ import annotations

import re
import socket

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from markupsafe import escape

from ui.i18n import body_name
from ui.source_view import CSP, render_document, source_router

DOC = "cosp4-prevention-background-2011"


@pytest.fixture(scope="module")
def client(corpus) -> TestClient:
    app = FastAPI()
    app.include_router(source_router(corpus, default_lang="zh"))
    return TestClient(app)


def test_every_paragraph_and_sub_paragraph_has_its_anchor(client, corpus):
    for doc in corpus.documents:
        r = client.get(f"/source/{doc.doc_id}")
        assert r.status_code == 200 and r.headers["content-security-policy"] == CSP
        ids = re.findall(r'<section class="para" id="(p\d+)"', r.text)
        assert ids == [f"p{p.para}" for p in doc.paragraphs]
        for p in doc.paragraphs:
            for s in p.subs:
                assert f'id="p{p.para}-{s.label}"' in r.text, (doc.doc_id, p.para, s.label)


def test_sub_paragraphs_line_and_inline(client):
    html = client.get(f"/source/{DOC}").text
    j = re.search(r'<div class="sub" id="p54-j">(.*?)</div>', html)
    assert j and j.group(1).startswith("(j)")
    a = re.search(r'<span class="sub inline" id="p31-a">(.*?)</span>', html)  # "…：(a)…；(b)…" inline items
    assert a and a.group(1).startswith("(a)") and "(b)" not in a.group(1)
    b54 = re.search(r'<div class="sub" id="p54-b">(.*?)</div>', html).group(1)
    assert "(一)" in b54 and "(二)" in b54  # nested items stay inside (b)


def test_headings_footnotes_metadata_and_official_link(client, corpus):
    html = client.get(f"/source/{DOC}").text
    doc = corpus.document(DOC)
    assert '<h2 class="section">四. 工作组第二次会议商定的结论和建议</h2>' in html
    note = corpus.paragraph(DOC, 12).footnotes[0]
    p12 = re.search(r'<section class="para" id="p12".*?</section>', html, re.DOTALL).group(0)
    assert note.text[:20] in p12 and 'class="fn"' in p12
    assert "CAC/COSP/2011/1" in html  # the loose footnote on the header
    assert doc.meta.title_zh in html and "2011-09-07" in html and doc.meta.session in html
    off = client.get("/source/wg4-2019-l1-add1?lang=en").text
    assert 'href="https://undocs.org/en/CAC/COSP/WG.4/2019/L.1/Add.1"' in off and "Official link" in off
    assert "<script>" in html and "scrollIntoView" in html  # the one script: highlight sub anchors and scroll


def test_hostile_document_text_is_escaped(hostile_corpus):
    html = render_document(hostile_corpus.document("evil-doc"))
    body = html.split("<body>", 1)[1].rsplit("<script>", 1)[0]  # everything but the page's own script
    assert "<script" not in body and "<img" not in body and "<svg" not in body and "<b>" not in body
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body
    assert "javascript:" not in body.replace("[链接](javascript:alert(3))", "")  # shown as text only
    assert 'href="javascript' not in body and "onerror=" not in body.replace("onerror=alert(2)&gt;", "")
    assert html.count("<script>") == 1


def _library_rows(html: str) -> list[str]:
    return re.findall(r"<tr class=\"doc\">(.*?)</tr>", html, re.DOTALL)


def test_unknown_document_is_a_404_page_naming_the_real_ones(client, corpus):
    r = client.get("/source/nope<b>x</b>")
    assert r.status_code == 404 and "<b>x</b>" not in r.text and "nope&lt;b&gt;x&lt;/b&gt;" in r.text
    assert "<h1>未找到文件</h1>" in r.text and "<h1>文件库</h1>" not in r.text
    assert 'href="/source/wg4-2019-l1-add1?lang=zh"' in r.text
    assert len(_library_rows(r.text)) == len(corpus.documents)  # the library's table
    en = client.get("/source/nope?lang=en")
    assert en.status_code == 404 and "<h1>Document not found</h1>" in en.text


@pytest.mark.parametrize("path", ["/source/", "/source", "/source/?lang=zh"])
def test_library_lists_every_document_under_its_own_heading(client, corpus, path):
    r = client.get(path)
    assert r.status_code == 200 and r.headers["content-security-policy"] == CSP
    assert "<h1>文件库</h1>" in r.text and "未找到文件" not in r.text
    rows = _library_rows(r.text)
    assert len(rows) == len(corpus.documents) == 5
    for row, doc in zip(rows, corpus.documents):  # corpus order, one row each
        m = doc.meta
        assert f'href="/source/{doc.doc_id}?lang=zh"' in row
        assert escape(m.title_zh) in row and m.date.isoformat() in row and escape(m.session) in row
        assert body_name(m.body, "zh") in row and f">{len(doc.paragraphs)}<" in row
    official = rows[corpus.doc_ids.index("wg4-2019-l1-add1")]
    assert 'href="https://undocs.org/zh/CAC/COSP/WG.4/2019/L.1/Add.1"' in official
    assert sum(bool(re.search(r'class="official"[^>]*>无</td>', row)) for row in rows) == 4  # the others: none
    assert 'href="/?lang=zh"' in r.text and 'href="?lang=en"' in r.text  # back to the chat; English


def test_library_in_english(client, corpus):
    r = client.get("/source/?lang=en")
    assert "<h1>Document library</h1>" in r.text and '<html lang="en">' in r.text
    rows = _library_rows(r.text)
    for row, doc in zip(rows, corpus.documents):
        assert f'href="/source/{doc.doc_id}?lang=en"' in row and escape(doc.meta.title_en) in row
        assert body_name(doc.meta.body, "en") in row
    assert 'href="https://undocs.org/en/CAC/COSP/WG.4/2019/L.1/Add.1"' in r.text and ">none<" in r.text
    assert 'href="/?lang=en"' in r.text and 'href="?lang=zh"' in r.text


def test_previous_and_next_document_in_corpus_order(client, corpus):
    ids = corpus.doc_ids
    for i, doc_id in enumerate(ids):
        html = client.get(f"/source/{doc_id}?lang=en").text
        nxt = re.search(r'<a[^>]*href="([^"]*)"[^>]*rel="next"', html)
        assert (nxt.group(1) if nxt else None) == (f"/source/{ids[i + 1]}?lang=en" if i + 1 < len(ids) else None)
        prev = re.search(r'<a[^>]*href="([^"]*)"[^>]*rel="prev"', html)
        assert (prev.group(1) if prev else None) == (f"/source/{ids[i - 1]}?lang=en" if i else None)
        assert 'class="library-link" href="/source/?lang=en"' in html and 'href="/?lang=en"' in html


def test_language_link_keeps_the_quotes_to_highlight(client):
    html = client.get("/source/wg4-2019-l1-add1?hl=%E7%94%B2%E3%80%82&hl=a%26b&x=1").text
    link = re.search(r'<a class="lang" href="([^"]*)"', html).group(1)
    assert link == "?lang=en&amp;hl=%E7%94%B2%E3%80%82&amp;hl=a%26b"  # & escaped in the attribute
    html = client.get("/source/wg4-2019-l1-add1?lang=en").text
    assert '<a class="lang" href="?lang=zh"' in html


@pytest.mark.parametrize("lang, want", [("zh", "zh-Hans"), ("en", "en")])
def test_html_lang(client, lang, want):
    for path in ("/source/wg4-2019-l1-add1", "/source/", "/source/nope"):
        assert f'<html lang="{want}">' in client.get(f"{path}?lang={lang}").text


def test_markdown_link_in_text_is_shown_as_its_text(client, corpus):
    html = client.get("/source/wg4-report-2017").text
    for para, symbol in ((34, "CAC/COSP/WG.4/2017/2/Rev.1"), (58, "CAC/COSP/WG.4/2017/3")):
        p = re.search(rf'<section class="para" id="p{para}".*?</section>', html, re.DOTALL).group(0)
        assert f"（{symbol}）" in p and "[" not in p and "](#)" not in p  # not indexed: plain text
        assert f"[{symbol}](#)" in corpus.paragraph("wg4-report-2017", para).text  # the corpus keeps it


def test_markdown_link_to_an_indexed_document_links_the_viewer(corpus):
    from rag.corpus.loader import Corpus
    from rag.corpus.parser import parse_document
    from rag.corpus.records import DocumentMeta

    meta = DocumentMeta(doc_id="cites", file="c.txt", symbol=None, short_ref="c", short_ref_zh="c")
    cites = parse_document("1. 见（[CAC/COSP/WG.4/2019/L.1/Add.1](#)）和 [x](javascript:x)。\n", meta)
    both = Corpus([*corpus.documents, cites])
    html = render_document(cites, "en", both)
    p1 = re.search(r'<section class="para" id="p1".*?</section>', html, re.DOTALL).group(0)
    assert '（<a href="/source/wg4-2019-l1-add1?lang=en">CAC/COSP/WG.4/2019/L.1/Add.1</a>）' in p1
    assert "javascript" not in p1 and "和 x。" in p1


@pytest.mark.parametrize("path", [
    "/source/../../etc/passwd", "/source/%2e%2e%2fconfig.yaml", "/source/..%2F..%2Fetc%2Fpasswd",
    "/source/%2e%2e/%2e%2e/etc/passwd", "/source//etc/passwd", "/source/corpus/manifest.yaml",
    "/source/..\\config.yaml", "/source/%00",
    # and Gradio's own file routes, mounted in the same app
    "/gradio_api/file=config.yaml", "/gradio_api/file=/etc/passwd", "/widget/gradio_api/file=/etc/passwd",
    "/static/../config.yaml", "/assets/../../config.yaml",
])
def test_path_traversal_never_reaches_the_file_system(fake_server, path):
    # A raw request: no client-side normalisation of "..".
    with socket.create_connection(("127.0.0.1", fake_server.port), timeout=10) as s:
        s.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".encode())
        data = b""
        while chunk := s.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    status = int(head.split()[1])
    assert status in (400, 403, 404), (path, head[:200])
    for secret in (b"root:x:0:0", b"documents:", b"retrieval:", b"manifest:"):
        assert secret not in body


def test_the_viewer_switches_between_language_versions_of_one_symbol(settings):
    from pathlib import Path

    from rag.corpus.loader import load_corpus
    from ui.source_view import render_document

    en_file = Path(__file__).resolve().parents[1] / "fixtures" / "languages" / "wg4-2019-l1-add1.en.txt"
    bilingual = load_corpus(settings, [en_file])
    en = render_document(bilingual.document("wg4-2019-l1-add1-en"), "en", bilingual, ["With regard"])
    assert 'class="versions"' in en and '<strong lang="en">English</strong>' in en
    assert 'class="version" href="/source/wg4-2019-l1-add1?lang=en&amp;hl=With+regard"' in en
    zh = render_document(bilingual.document("wg4-2019-l1-add1"), "zh", bilingual)
    assert 'href="/source/wg4-2019-l1-add1-en?lang=zh"' in zh and "语言版本" in zh
    single = render_document(bilingual.document("wg4-report-2017"), "zh", bilingual)
    assert 'class="versions"' not in single
    from ui.source_view import library_rows

    refs = [r.ref for r in library_rows(bilingual, "en")]
    assert "CAC/COSP/WG.4/2019/L.1/Add.1 (中文)" in refs and "CAC/COSP/WG.4/2019/L.1/Add.1 (English)" in refs
