"""The document viewer and the document library in real headless Chromium (Playwright).

What a delegate does with them: switch the interface language without losing the paragraph they were
sent to, open any document from the library and page through the others, read it on a phone (no
sideways scrolling), and read every text at WCAG AA contrast. Screenshots go to ``.test-artifacts/ui/``.
"""

from __future__ import annotations

from urllib.parse import parse_qs, quote, urlsplit

import pytest

from tests.ui.contrast import assert_contrast, contrast_report

pytestmark = pytest.mark.slow

DOC = "wg4-2019-l1-add1"  # the one document with a UN symbol and an official link: the widest header
SUBS = "cosp4-prevention-background-2011"  # sub-paragraphs (p54-j), footnotes, front matter
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport=DESKTOP)
    yield context.new_page()
    context.close()


@pytest.fixture
def phone(browser):
    context = browser.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True)
    yield context.new_page()
    context.close()


def _open(page, url: str) -> None:
    page.goto(url)
    page.wait_for_load_state("load")
    page.wait_for_timeout(150)  # the viewer's script runs again on "load"


def _highlighted(page, anchor: str) -> bool:
    return page.evaluate("id => document.getElementById(id).classList.contains('is-target')", anchor)


def test_language_switch_keeps_the_paragraph_and_the_quotes(page, fake_server, corpus):
    quote_ = corpus.paragraph(DOC, 5).text.split("。")[0] + "。"
    _open(page, f"{fake_server.url}/source/{DOC}?hl={quote(quote_)}#p5")
    assert _highlighted(page, "p5")
    page.click("a.lang")
    page.wait_for_url("**lang=en**")
    page.wait_for_timeout(150)
    url = urlsplit(page.url)
    assert url.fragment == "p5" and parse_qs(url.query) == {"lang": ["en"], "hl": [quote_]}, page.url
    assert page.evaluate("document.documentElement.lang") == "en"
    assert _highlighted(page, "p5") and page.locator("#p5 mark.quote").count() == 1
    # a jump inside the page moves the language link along with it
    page.evaluate("location.hash = '#p7'")
    page.wait_for_timeout(100)
    assert urlsplit(page.get_attribute("a.lang", "href")).fragment == "p7"
    page.click("a.lang")
    page.wait_for_url("**lang=zh**#p7")
    assert page.evaluate("document.documentElement.lang") == "zh-Hans" and _highlighted(page, "p7")


def test_library_lists_every_document_and_pages_through_them(page, fake_server, corpus, artifacts):
    docs = corpus.documents
    _open(page, f"{fake_server.url}/source/")
    assert page.inner_text("h1") == "文件库"
    assert page.evaluate("document.documentElement.lang") == "zh-Hans"
    rows = page.locator("table.library tbody tr")
    assert rows.count() == len(docs)
    for i, doc in enumerate(docs):
        assert str(len(doc.paragraphs)) in rows.nth(i).inner_text()
    page.screenshot(path=artifacts / "viewer-library-1280.png", full_page=True)

    rows.nth(1).locator("a.doc").click()
    page.wait_for_url(f"**/source/{docs[1].doc_id}?lang=zh")
    assert page.locator("section.para").count() == len(docs[1].paragraphs)
    page.click("a[rel=next]")
    page.wait_for_url(f"**/source/{docs[2].doc_id}?lang=zh")
    page.click("a[rel=prev]")
    page.wait_for_url(f"**/source/{docs[1].doc_id}?lang=zh")
    page.click("a.library-link")
    page.wait_for_url("**/source/?lang=zh")

    _open(page, f"{fake_server.url}/source?lang=en")
    assert page.inner_text("h1") == "Document library"
    assert page.evaluate("document.documentElement.lang") == "en"
    page.locator("table.library tbody tr").last.locator("a.doc").click()
    page.wait_for_url(f"**/source/{docs[-1].doc_id}?lang=en")
    assert page.locator("a[rel=next]").count() == 0 and page.locator("a[rel=prev]").count() == 2  # top, bottom


def _overflow(page) -> dict:
    return page.evaluate(
        """() => {
            const wide = [...document.body.querySelectorAll('*')]
                .filter(e => e.getBoundingClientRect().right > innerWidth + 0.5)
                .slice(0, 5).map(e => e.tagName.toLowerCase() + '.' + e.className);
            return {scrollWidth: document.documentElement.scrollWidth, width: innerWidth, wide};
        }"""
    )


def test_no_horizontal_overflow_on_a_phone(phone, fake_server, corpus, artifacts):
    pages = [f"/source/{d.doc_id}?lang={lang}" for d in corpus.documents for lang in ("zh", "en")]
    pages += ["/source/?lang=zh", "/source/?lang=en", "/source/no-such-document-" + "x" * 200]
    for path in pages:
        _open(phone, fake_server.url + path)
        o = _overflow(phone)
        assert o["scrollWidth"] <= PHONE["width"], (path, o)
    _open(phone, f"{fake_server.url}/source/?lang=zh")
    phone.screenshot(path=artifacts / "viewer-library-390.png", full_page=True)
    _open(phone, f"{fake_server.url}/source/{DOC}?lang=en")
    phone.screenshot(path=artifacts / "viewer-document-top-390.png")
    _open(phone, f"{fake_server.url}/source/{DOC}?lang=zh#p5")
    phone.screenshot(path=artifacts / "viewer-document-390.png")


@pytest.mark.parametrize("path", [
    f"/source/{DOC}?lang=zh#p5", f"/source/{DOC}?lang=en#p5",
    f"/source/{SUBS}?lang=zh#p54-j", f"/source/{SUBS}?lang=en#p12",
    "/source/wg4-report-2017?lang=zh#p58",
    "/source/?lang=zh", "/source/?lang=en", "/source/no-such-document?lang=en",
])
def test_every_text_has_aa_contrast(page, fake_server, corpus, artifacts, path):
    _open(page, fake_server.url + path)
    page.evaluate("document.querySelectorAll('details').forEach(d => d.open = true)")  # front matter too
    if path.endswith("#p5"):  # a quoted sentence marked, as a citation link opens it
        sentence = corpus.paragraph(DOC, 5).text.split("。")[0] + "。"
        _open(page, fake_server.url + path.replace("#", f"&hl={quote(sentence)}#"))
        assert page.locator("mark.quote").count() == 1
    report = contrast_report(page)
    print(path, "checked", report["checked"], "worst", report["worst"])
    assert_contrast(page, min_ratio=4.5)


def test_the_contrast_check_finds_low_contrast(page):
    """The checker itself, on known colours: grey #999 on white is 2.85:1; a translucent yellow layer
    over white is blended before the ratio is taken; black on white is 21:1."""
    page.set_content(
        '<body><p id="grey" style="color:#999">grey</p><p id="ok">black</p>'
        '<div style="background:rgba(255,255,0,.5)"><span id="blend" style="color:#777">blend</span></div>'
        '<p style="display:none;color:#fff">hidden</p></body>'
    )
    report = contrast_report(page)
    bad = {f["selector"].split("#")[-1]: f for f in report["failures"]}
    assert set(bad) == {"grey", "blend"} and report["checked"] == 3
    assert bad["grey"]["ratio"] == 2.85 and bad["blend"]["background"] in ("#ffff7f", "#ffff80")  # alpha in 1/255 steps
    with pytest.raises(AssertionError, match="below 4.5:1"):
        assert_contrast(page)
    assert len(assert_contrast(page, strict=False)) == 2


def test_html_lang_and_screenshots(page, fake_server, artifacts):
    for lang, want in (("zh", "zh-Hans"), ("en", "en")):
        for path in (f"/source/{DOC}?lang={lang}", f"/source/?lang={lang}", f"/source/nope?lang={lang}"):
            _open(page, fake_server.url + path)
            assert page.evaluate("document.documentElement.lang") == want, path
    _open(page, f"{fake_server.url}/source/{DOC}?lang=zh#p5")
    page.screenshot(path=artifacts / "viewer-document-1280.png")
