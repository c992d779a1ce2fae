"""End to end in real headless Chromium (Playwright) against a real server.

The delegate's path: ask in Chinese and in English, read cited answers, click a citation, land on the
source paragraph (in view, highlighted), give 👎 with a comment and find it in SQLite. Screenshots of
each step go to ``.test-artifacts/ui/``. Every request the pages make must go to the test server.
"""

from __future__ import annotations

import json
import re
import sqlite3
import time
from urllib.parse import urlsplit

import pytest

from ui.render import citation_url

pytestmark = pytest.mark.slow

ZH = "工作组关于资产申报提出了什么建议？"
EN = "What has UNODC done to protect whistleblowers?"
HIGHLIGHT = "rgb(255, 241, 184)"  # --target in the viewer's CSS


def _wait_for_answer(page, n_answers: int, timeout: float = 60_000) -> None:
    """Until the n-th assistant message is final (the sources panel is filled after the last sentence)."""
    page.wait_for_function(
        """n => {
            const bots = document.querySelectorAll('#chatbot [data-testid="bot"] .answer');
            return bots.length >= n;
        }""",
        arg=n_answers, timeout=timeout,
    )
    page.wait_for_function("() => !document.querySelector('#chatbot .msg.pending')", timeout=timeout)
    page.wait_for_timeout(300)


def _ask(page, question: str, n_answers: int) -> None:
    page.fill("#question textarea", question)
    page.click("#send")
    _wait_for_answer(page, n_answers)


def _last_answer(page):
    return page.locator('#chatbot [data-testid="bot"] .answer').last


def _rows(path):
    if not path.exists():
        return []
    with sqlite3.connect(path) as conn:
        return conn.execute("SELECT rating, comment, question, citations FROM feedback ORDER BY id").fetchall()


def test_delegate_asks_reads_sources_and_gives_feedback(browser, real_server, engine, real_feedback, artifacts):
    t0 = time.perf_counter()
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="zh-CN")
    requests: list[str] = []
    context.on("request", lambda r: requests.append(r.url))
    dialogs: list[str] = []
    page = context.new_page()
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))

    page.goto(real_server.url + "/")
    page.wait_for_selector("#question textarea")
    page.screenshot(path=artifacts / "01-home.png")
    t_loaded = time.perf_counter()

    # 1. A Chinese question: a cited answer, labels in Chinese, the cited paragraph in the sources panel.
    want = engine.ask(ZH)
    assert not want.refused and want.citations
    _ask(page, ZH, 1)
    answer = _last_answer(page)
    first = want.citations[0]
    assert answer.locator("a.cite").first.inner_text() == first.label_zh
    assert answer.locator("a.cite").first.get_attribute("href") == citation_url(first, "zh")  # + ?lang=zh&hl=<quote>
    sources = page.locator("#sources")
    assert sources.locator(".src-card").count() >= 1 and sources.locator("mark").count() >= 1
    assert first.label_zh in sources.inner_text()
    page.screenshot(path=artifacts / "02-answer-zh.png")
    t_zh = time.perf_counter()

    # 2. Click the citation: the source page opens (new tab) with that paragraph in view and highlighted.
    with context.expect_page() as opened:
        answer.locator("a.cite").first.click()
    src = opened.value
    src.wait_for_load_state()
    src.wait_for_timeout(300)  # the script runs again on "load"
    target = f"p{first.para}" + (f"-{first.sub}" if first.sub else "")
    assert urlsplit(src.url).path == f"/source/{first.doc_id}" and urlsplit(src.url).fragment == target
    state = src.evaluate(
        """id => {
            const el = document.getElementById(id), para = el.closest('.para'), r = el.getBoundingClientRect();
            return {inView: r.top < innerHeight && r.bottom > 0, target: para.classList.contains('is-target'),
                    bg: getComputedStyle(para).backgroundColor, text: para.innerText};
        }""",
        target,
    )
    assert state["inView"] and state["target"] and state["bg"] == HIGHLIGHT, state
    assert first.quote.replace(" ", "")[:15] in state["text"].replace(" ", "").replace("\n", "")
    # the quoted sentence itself is marked in the viewer, not only its paragraph
    marks = src.locator("mark.quote").all_inner_texts()
    assert any(first.quote.split("\n")[0].strip() == m.strip() for m in marks), marks
    src.screenshot(path=artifacts / "03-source-paragraph.png")
    src.close()
    t_source = time.perf_counter()

    # 3. New conversation, English interface, the English question.
    page.click("#new-chat")
    page.wait_for_function("() => document.querySelectorAll('#chatbot [data-testid=\"bot\"]').length === 0")
    page.locator("#lang label", has_text="English").click()
    page.wait_for_function("() => document.querySelector('#send').innerText.trim() === 'Ask'")
    want_en = engine.ask(EN)
    assert not want_en.refused and want_en.citations
    _ask(page, EN, 1)
    answer = _last_answer(page)
    links = answer.locator("a.cite")
    assert links.count() >= 1
    assert links.first.inner_text() == want_en.citations[0].label_en
    assert "The documents state" in answer.inner_text()
    page.screenshot(path=artifacts / "04-answer-en.png")

    # 4. 👎 with a comment: stored in SQLite with the question and its citations.
    comment = "The answer should cite the 2019 recommendations."
    page.fill("#feedback-comment textarea", comment)
    page.locator('#chatbot button[aria-label="Dislike"], #chatbot button[aria-label="踩"]').last.click()  # en / zh-CN
    deadline = time.monotonic() + 15
    while not (rows := _rows(real_feedback)) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert rows, "no feedback row was stored"
    rating, stored_comment, question, citations = rows[-1]
    assert (rating, stored_comment, question) == (-1, comment, EN)
    assert json.loads(citations) == [c.to_json() for c in want_en.citations]
    page.wait_for_timeout(300)
    page.screenshot(path=artifacts / "05-feedback.png")
    t_end = time.perf_counter()

    # Fully offline: every request went to the test server, and nothing popped up.
    host = urlsplit(real_server.url).netloc
    outside = [u for u in requests if urlsplit(u).scheme in ("http", "https", "ws", "wss") and urlsplit(u).netloc != host]
    assert not outside, outside
    assert not dialogs
    context.close()
    print(
        f"\nbrowser e2e: page {t_loaded - t0:.1f}s, zh answer {t_zh - t_loaded:.1f}s, source {t_source - t_zh:.1f}s, "
        f"en answer + feedback {t_end - t_source:.1f}s, total {t_end - t0:.1f}s"
    )


def test_hostile_input_in_the_browser_is_shown_never_run(browser, fake_server, artifacts):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    requests: list[str] = []
    context.on("request", lambda r: requests.append(r.url))
    page = context.new_page()
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.goto(fake_server.url + "/")
    page.wait_for_selector("#question textarea")

    page.click("#send")  # empty: a notice beside the box, no bubble (test_browser_chat covers it)
    page.get_by_text("问题为空").first.wait_for()
    assert page.locator("#chatbot .msg.error").count() == 0

    page.fill("#question textarea", "字" * 2001)
    page.click("#send")
    page.wait_for_function("() => document.querySelectorAll('#chatbot .msg.error').length === 1")
    assert "上限为 2000" in page.locator("#chatbot .msg.error").last.inner_text()

    evil = '<img src=x onerror="alert(1)"><script>alert(2)</script>资产申报'
    page.fill("#question textarea", evil)
    page.click("#send")
    _wait_for_answer(page, 1)
    shown = page.locator('#chatbot [data-testid="user"] .q').last.inner_text()
    assert shown == evil  # displayed as typed: text, not markup
    assert page.locator("#chatbot img[src='x']").count() == 0
    page.screenshot(path=artifacts / "06-hostile-input.png")

    # The copy button puts the citation label on the clipboard (or says it did).
    button = page.locator("#sources .copy-cite").first
    label = button.get_attribute("data-label")
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=fake_server.url)
    button.click()
    page.wait_for_function("() => document.querySelector('#sources .copy-cite.done')")
    assert page.evaluate("navigator.clipboard.readText()") == label

    # The embeddable widget, embedded as the README shows: a compact chat in an <iframe>, English via
    # ?lang=en, its citations linking to the same viewer.
    page.set_content(
        f'<iframe id="w" src="{fake_server.url}/widget/?lang=en" title="UNCAC CoSP document Q&amp;A" '
        'width="480" height="640" style="border:1px solid #ccc;border-radius:8px"></iframe>'
    )
    widget = page.frame_locator("#w")
    send = widget.locator("#send")
    send.filter(has_text="Ask").wait_for()
    widget.locator("#question textarea").fill("What about asset declarations?")
    send.click()
    link = widget.locator('[data-testid="bot"] .answer a.cite').first
    link.wait_for()
    assert re.fullmatch(r"/source/[a-z0-9-]+\?lang=en(&hl=[^#]+)?#p\d+(-\w+)?", link.get_attribute("href"))
    assert "para." in link.inner_text() and widget.locator("#sources").count() == 0
    page.wait_for_timeout(300)
    page.screenshot(path=artifacts / "07-widget-iframe.png")

    assert not dialogs, dialogs
    host = urlsplit(fake_server.url).netloc
    assert all(urlsplit(u).netloc == host for u in requests if urlsplit(u).scheme in ("http", "https"))
    context.close()
