"""The source viewer /source/<doc_id>: anchors, headings, footnotes, metadata, escaping, 404s."""

from __future__ import annotations

import re
import socket

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

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
    p12 = re.search(r'<section class="para" id="p12".*?</section>', html, re.S).group(0)
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


def test_unknown_document_is_a_404_page_naming_the_real_ones(client):
    r = client.get("/source/nope<b>x</b>")
    assert r.status_code == 404 and "<b>x</b>" not in r.text and "nope&lt;b&gt;x&lt;/b&gt;" in r.text
    assert 'href="/source/wg4-2019-l1-add1"' in r.text
    assert client.get("/source/").status_code == 200  # the list of documents


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
