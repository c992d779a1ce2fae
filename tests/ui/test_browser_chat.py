"""The chat page and the widget in real headless Chromium (Playwright): what a delegate sees and does.

Most tests run against ``fake_server`` (the whole app around the deterministic FakeEngine over the real
corpus), so they are fast and exact; the refusal test needs the real engine (``real_server``). Each
test has its own browser context (closed, with a screenshot of each of its pages in
``.test-artifacts/ui/chat-<test>-<n>.png``, at teardown, so a failing test leaves one too).

What each test guards:

1. ``test_new_chat_then_ask_at_once_asks_that_question``: clicking "new conversation", then typing
   and sending 0-150 ms later each (clicks dispatched in the page, so Playwright's own latency cannot
   hide the race; on a fresh page and after an answer) asks the typed question (no empty bubble, no
   "问题为空"), and the reset never wipes what was typed after it.
2. ``test_empty_question_adds_no_bubble_and_says_so_outside_the_chat``: an empty or blank question
   adds nothing to the chat; "问题为空" is said outside it (a toast).
3. ``test_enter_sends_and_shift_enter_adds_a_line``: Shift+Enter is a new line, Enter asks.
4. ``test_copy_message_copies_plain_text``: the chat's own copy button copies the answer as text
   (its sentences and citation labels), not its HTML.
5. ``test_refusal_is_said_in_plain_language_in_both_languages`` (real engine): a question about a
   resolution the documents never mention is refused in plain words, in the interface language,
   with no technical reason ("refused", "threshold", scores).
6. ``test_filters_that_match_nothing_together_are_refused_before_asking``: the filter marker shows
   a filter is active; the 2020 report with the year 2011 is said to match nothing, and the engine
   is not asked.
7. ``test_second_vote_replaces_the_first``: 👍 then 👎 on the same answer leaves one rating, the 👎.
8. ``test_widget_keeps_english_in_citation_links``: the widget's citations open the viewer in the
   widget's language (``lang=en``).
9. ``test_html_lang_follows_the_interface_language``: ``<html lang>`` is zh / en with the interface,
   not with the browser (a zh-CN and an en-US browser).
10. ``test_conversation_and_language_survive_a_reload``: a reload shows the conversation again and
    keeps the language; a new conversation stays empty after a reload.
11. ``test_header_links_to_the_document_library``: ``a#library-link`` in the header opens the
    document list.
12. ``test_export_downloads_the_answer_with_footnotes``: Word export has the citations as footnotes,
    Markdown as ``[^1]`` footnotes.
13. ``test_phone_layout_question_box_first_screen_sources_after_answer``: on a 390×844 phone the
    question box is on the first screen, the sources come before the examples, nothing overflows.
14. ``test_text_contrast_meets_wcag_aa_in_both_languages``: every visible text has 4.5:1 contrast.
15. ``test_widget_example_questions_ask_when_clicked``: the widget shows example questions; a click
    asks one.

Selector contract (ids of the chat page): ``#question textarea``, ``#send``, ``#new-chat``,
``#chatbot`` (bubbles ``[data-testid="bot"]`` / ``[data-testid="user"]``), ``.answer`` /
``.answer.refused``, ``.msg.error``, ``#sources``, ``#examples``, ``#f-docs`` / ``#f-bodies`` /
``#f-years``, ``#lang``, ``#filter-marker``, ``a#library-link``, ``#export-txt`` / ``#export-md`` /
``#export-docx``; in the widget, ``#widget-examples`` (or ``#examples``).
"""

from __future__ import annotations

import contextlib
import re
import time
import uuid
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import TimeoutError as PlaywrightTimeout

pytestmark = pytest.mark.slow

DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
ZH_Q = "工作组关于资产申报提出了什么建议？"
EN_Q = "What about asset declarations?"
BOT = '#chatbot [data-testid="bot"]'
USER = '#chatbot [data-testid="user"]'
TIMEOUT_MS = 10_000  # every Playwright action and wait of a test (the fake engine answers in milliseconds)

# True once the bot bubbles have held at least n final replies (an answer, a refusal or an error) and
# nothing pending, the last user bubble holding q (when given), all unchanged for 3 polls (a streamed
# answer also is an .answer while it grows).
_SETTLED_JS = """([n, q]) => {
    const bots = [...document.querySelectorAll('#chatbot [data-testid="bot"]')];
    const users = [...document.querySelectorAll('#chatbot [data-testid="user"]')];
    const final = bots.filter(b => b.querySelector('.answer, .msg.error')).length;
    const html = bots.map(b => b.innerHTML).join('\\u0000');
    const w = window;
    if (w.__chatLast === html) { w.__chatSame = (w.__chatSame || 0) + 1; } else { w.__chatSame = 0; w.__chatLast = html; }
    const asked = !q || (users.length > 0 && users[users.length - 1].innerText.includes(q));
    return final >= n && asked && !document.querySelector('#chatbot .msg.pending') && w.__chatSame >= 3;
}"""

# The visible text of the page outside the chat (toasts, panels...), one string.
_TEXT_OUTSIDE_CHAT_JS = """() => {
    const chat = document.querySelector('#chatbot');
    const walk = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    const out = [];
    for (let n = walk.nextNode(); n; n = walk.nextNode()) {
        const el = n.parentElement;
        if (!el || (chat && chat.contains(el)) || !el.getClientRects().length) continue;
        const st = getComputedStyle(el);
        if (st.visibility === 'hidden' || st.display === 'none') continue;
        out.push(n.data);
    }
    return out.join(' ');
}"""


# --- helpers --------------------------------------------------------------------------------------


@pytest.fixture
def open_page(browser, artifacts, request):
    """``open_page(url, locale=..., viewport=...)``: a page in a fresh context, at ``url``, the question
    box ready. At teardown every page of the test is screenshotted and its context closed."""
    contexts = []

    def open_(url: str, *, locale: str = "zh-CN", viewport: dict = DESKTOP, ready: str = "#question textarea"):
        context = browser.new_context(viewport=viewport, locale=locale)
        context.set_default_timeout(TIMEOUT_MS)
        contexts.append(context)
        page = context.new_page()
        page.goto(url)
        if ready:
            page.wait_for_selector(ready)
        return page

    yield open_
    name = re.sub(r"\W+", "-", request.node.name.removeprefix("test_"))
    n = 0
    for context in contexts:
        for page in context.pages:
            n += 1
            with contextlib.suppress(PlaywrightError):  # a page that cannot be shot must not hide the failure
                page.screenshot(path=artifacts / f"chat-{name}-{n}.png", timeout=5_000)
        context.close()


def wait_for_reply(page, n: int, timeout: float = TIMEOUT_MS, question: str | None = None) -> None:
    """Until the chat holds ``n`` final replies (answers, refusals or error messages), settled, the
    last question being ``question`` (when given)."""
    page.evaluate("() => { window.__chatSame = 0; window.__chatLast = undefined; }")
    page.wait_for_function(_SETTLED_JS, arg=[n, question], timeout=timeout, polling=100)


def ask(page, question: str, n: int = 1, timeout: float = TIMEOUT_MS) -> None:
    """Type ``question``, click send, wait for the ``n``-th reply of the conversation."""
    page.fill("#question textarea", question)
    page.click("#send")
    wait_for_reply(page, n, timeout, question)


def wait_true(page, js: str, arg=None, timeout: float = 3_000) -> bool:
    """Whether the JS predicate becomes true within ``timeout`` ms (False instead of raising)."""
    try:
        page.wait_for_function(js, arg=arg, timeout=timeout, polling=100)
    except PlaywrightTimeout:
        return False
    return True


def bubbles(page) -> tuple[int, int]:
    """(user bubbles, bot bubbles) in the chat."""
    return page.locator(USER).count(), page.locator(BOT).count()


_STORAGE_JS = "() => JSON.stringify(Object.entries(localStorage).sort())"


def stored(page) -> str:
    """What the page keeps in the browser now (its localStorage, as one string)."""
    return page.evaluate(_STORAGE_JS)


def wait_stored(page, before: str, timeout: float = 2_000) -> bool:
    """Until the page's localStorage differs from ``before`` (False after ``timeout`` ms: nothing kept)."""
    return wait_true(page, f"b => ({_STORAGE_JS})() !== b", arg=before, timeout=timeout)


def user_texts(page) -> list[str]:
    return [t.strip() for t in page.locator(USER).all_inner_texts()]


def switch_language(page, label: str, send_text: str) -> None:
    """Click the language radio's ``label`` ("中文"/"English") and wait for the relabelled send button."""
    page.locator("#lang label", has_text=label).click()
    page.wait_for_function("t => document.querySelector('#send').innerText.trim() === t", arg=send_text)


def first_sentence_and_label(page) -> tuple[str, str]:
    """The last answer's first sentence (without its citations) and its first citation label."""
    answer = page.locator(f"{BOT} .answer").last
    sentence = answer.locator("p.sent").first.evaluate(
        "p => { const c = p.cloneNode(true); c.querySelectorAll('.cites, .unsupported').forEach(e => e.remove());"
        " return c.textContent.trim(); }"
    )
    return sentence, answer.locator("a.cite").first.inner_text().strip()


def squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


# The index, among the chat's "Copy message" buttons, of the first one after the last bot bubble in
# document order (Gradio puts a message's buttons right after its row), -1 while there is none.
_BOT_COPY_INDEX_JS = """() => {
    const bots = document.querySelectorAll('#chatbot [data-testid="bot"]');
    const buttons = [...document.querySelectorAll('#chatbot button[aria-label="Copy message"]')];
    if (!bots.length) return -1;
    const last = bots[bots.length - 1];
    return buttons.findIndex(b => last.compareDocumentPosition(b) & Node.DOCUMENT_POSITION_FOLLOWING);
}"""


def copy_button_of_last_bot(page):
    """The chat's own "Copy message" button of the last bot message."""
    page.wait_for_function(f"() => ({_BOT_COPY_INDEX_JS})() >= 0")
    return page.locator('#chatbot button[aria-label="Copy message"]').nth(page.evaluate(_BOT_COPY_INDEX_JS))


def items_for(store, question: str) -> list[dict]:
    return [it for it in store.export_items() if it["question"] == question]


def poll(predicate, timeout: float = 5.0) -> bool:
    """Whether ``predicate()`` becomes true within ``timeout`` seconds (for the server's own state)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return predicate()


def choose(page, dropdown: str, option_text: str) -> None:
    """Pick the option of a Gradio multiselect dropdown whose text contains ``option_text``."""
    page.click(f"{dropdown} input")
    page.locator(f"{dropdown} [role=option]", has_text=option_text).first.click()
    page.keyboard.press("Escape")


# --- 1-3: asking ----------------------------------------------------------------------------------


# New conversation, then (``delay`` ms later) the question typed, then (``delay`` ms later) sent: the
# delegate's quick hands, in the page itself, so Playwright's own latency cannot hide the race.
_NEW_THEN_ASK_JS = """async ([question, delay]) => {
    const sleep = ms => new Promise(r => setTimeout(r, ms));
    document.querySelector('#new-chat').click();
    await sleep(delay);
    const box = document.querySelector('#question textarea');
    box.focus();
    box.value = question;
    box.dispatchEvent(new Event('input', {bubbles: true}));
    await sleep(delay);
    document.querySelector('#send').click();
}"""


def test_new_chat_then_ask_at_once_asks_that_question(open_page, fake_server):
    page = open_page(fake_server.url + "/")
    problems = []

    # (a) new conversation, then type and send within 0-300 ms, on a fresh page and after an answer:
    # that question is asked and answered, in a chat holding only it
    for round_, (question, delay) in enumerate([(ZH_Q, 0), (EN_Q, 50), ("资产申报", 150)], 1):
        page.evaluate(_NEW_THEN_ASK_JS, [question, delay])
        with contextlib.suppress(PlaywrightTimeout):  # what the chat holds then is reported below
            wait_for_reply(page, 1, timeout=5_000, question=question)
        asked = user_texts(page)
        if asked != [question]:
            problems.append(f"round {round_}: user bubbles {asked!r}, expected exactly [{question!r}]")
        if page.locator(f"{BOT} .answer").count() != 1:
            problems.append(f"round {round_}: no answer to the question")
        errors = page.locator("#chatbot .msg.error").all_inner_texts()
        if any("问题为空" in e for e in errors):
            problems.append(f"round {round_}: 'question empty' error after new chat + ask: {errors}")

    # (b) the reset never wipes what is typed after the click
    typed = "后来输入的问题"
    page.click("#new-chat")
    page.fill("#question textarea", typed)
    page.wait_for_function("() => document.querySelectorAll('#chatbot [data-testid=\"bot\"]').length === 0")
    page.wait_for_timeout(500)  # the reset's other outputs, had they been late
    if (box := page.locator("#question textarea").input_value()) != typed:
        problems.append(f"the reset wiped the question typed after it: the box holds {box!r}")
    assert not problems, problems


@pytest.mark.parametrize("blank", ["", "   \n  "], ids=["empty", "whitespace"])
def test_empty_question_adds_no_bubble_and_says_so_outside_the_chat(open_page, fake_server, blank):
    page = open_page(fake_server.url + "/")
    before = bubbles(page)
    page.fill("#question textarea", blank)
    page.click("#send")
    page.wait_for_timeout(1_000)  # a bubble, had one been added, is there by now
    after = bubbles(page)
    said = wait_true(page, "() => (" + _TEXT_OUTSIDE_CHAT_JS + ")().includes('问题为空')", timeout=4_000)
    assert after == before, f"(user, bot) bubbles went from {before} to {after} for a blank question"
    assert said, "no '问题为空' message outside the chat (a toast) for a blank question"


def test_enter_sends_and_shift_enter_adds_a_line(open_page, fake_server):
    page = open_page(fake_server.url + "/")
    box = page.locator("#question textarea")
    box.click()
    page.keyboard.type("资产申报")
    page.keyboard.press("Shift+Enter")
    page.keyboard.type("建议")
    page.wait_for_timeout(500)
    assert box.input_value() == "资产申报\n建议", f"after Shift+Enter the box holds {box.input_value()!r}"
    assert bubbles(page) == (0, 0), "Shift+Enter sent the question"

    page.keyboard.press("Enter")
    wait_for_reply(page, 1)
    assert [squash(q) for q in user_texts(page)] == ["资产申报建议"]
    assert box.input_value() == ""


# --- 4: copying -----------------------------------------------------------------------------------


def test_copy_message_copies_plain_text(open_page, fake_server):
    page = open_page(fake_server.url + "/", locale="en-US")
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=fake_server.url)
    ask(page, ZH_Q)
    sentence, label = first_sentence_and_label(page)
    copy_button_of_last_bot(page).click()
    page.wait_for_timeout(300)
    copied = page.evaluate("navigator.clipboard.readText()")
    markup = [m for m in ("<", "class=", "href=") if m in copied]
    assert not markup, f"the copied answer holds markup {markup}: {copied[:300]!r}"
    assert squash(sentence) in squash(copied), (sentence, copied[:300])
    assert squash(label) in squash(copied), (label, copied[:300])


# --- 5: refusals (real engine) --------------------------------------------------------------------


def test_refusal_is_said_in_plain_language_in_both_languages(open_page, real_server):
    page = open_page(real_server.url + "/")
    ask(page, "第9/6号决议说了什么？", timeout=60_000)
    refused = page.locator(f"{BOT} .answer.refused").last
    assert refused.count() == 1, "the question about resolution 9/6 was not refused"
    text = page.locator(BOT).last.inner_text()
    technical = [w for w in ("refused", "threshold", "0.000", "提示: refused") if w in text]
    assert not technical, f"technical words {technical} in the refusal: {text!r}"
    assert "文件中没有提到第 9/6 号决议" in text, text

    switch_language(page, "English", "Ask")
    said = wait_true(
        page, "() => document.querySelector('#chatbot .answer.refused').innerText"
        ".includes('The documents never mention resolution 9/6')",
    )
    assert said, page.locator(BOT).last.inner_text()


# --- 6: filters -----------------------------------------------------------------------------------


def test_filters_that_match_nothing_together_are_refused_before_asking(open_page, fake_server, fake_app):
    calls = fake_app.state.assistant.engine.calls
    page = open_page(fake_server.url + "/")
    page.locator("#filters button").first.click()  # open the accordion
    choose(page, "#f-docs", "2020")  # wg4-report-2020, labelled by its reference
    choose(page, "#f-years", "2011")
    marker = wait_true(page, "() => { const m = document.querySelector('#filter-marker');"
                             " return !!m && m.innerText.trim().startsWith('已筛选'); }")
    n_calls = len(calls)
    ask(page, "资产申报")
    errors = page.locator("#chatbot .msg.error").all_inner_texts()
    asked = len(calls) - n_calls
    assert marker, "no '已筛选' in #filter-marker with two filters chosen"
    assert any("没有共同匹配" in e for e in errors), f"no 'no document matches together' error; errors: {errors}"
    assert asked == 0, f"the engine was asked {asked} time(s) with filters that match no document"


# --- 7: feedback ----------------------------------------------------------------------------------


def test_second_vote_replaces_the_first(open_page, fake_server, fake_app):
    store = fake_app.state.assistant.store
    question = f"资产申报 vote-{uuid.uuid4().hex[:8]}"
    page = open_page(fake_server.url + "/", locale="en-US")
    ask(page, question)
    page.locator('#chatbot button[aria-label="Like"]').last.click()
    assert poll(lambda: items_for(store, question)), "👍 stored nothing"
    page.locator('#chatbot button[aria-label="Dislike"]').last.click()
    assert poll(lambda: any(it.get("feedback", {}).get("rating") == -1 for it in items_for(store, question))), \
        "👎 stored nothing"
    page.wait_for_timeout(300)
    items = items_for(store, question)
    assert len(items) == 1, f"{len(items)} ratings stored for one answer rated twice: {[it.get('feedback') for it in items]}"
    assert items[0]["feedback"]["rating"] == -1


# --- 8: widget language ---------------------------------------------------------------------------


def test_widget_keeps_english_in_citation_links(open_page, fake_server):
    page = open_page(fake_server.url + "/widget/?lang=en")
    page.wait_for_function("() => document.querySelector('#send').innerText.trim() === 'Ask'")
    ask(page, EN_Q)
    links = page.locator(f"{BOT} .answer a.cite")
    hrefs = [links.nth(i).get_attribute("href") for i in range(links.count())]
    assert hrefs, "no citation in the widget's answer"
    assert all("lang=en" in h for h in hrefs), hrefs

    with page.context.expect_page() as opened:
        links.first.click()
    viewer = opened.value
    viewer.wait_for_load_state()
    assert urlsplit(viewer.url).path.startswith("/source/")
    assert viewer.evaluate("document.documentElement.lang").startswith("en")


# --- 9-11: the page -------------------------------------------------------------------------------


@pytest.mark.parametrize("locale", ["zh-CN", "en-US"])
def test_html_lang_follows_the_interface_language(open_page, fake_server, locale):
    """The interface's language, not the browser's: both are checked in a zh-CN and an en-US browser."""
    page = open_page(fake_server.url + "/", locale=locale)
    is_zh = wait_true(page, "() => document.documentElement.lang.startsWith('zh')")
    assert is_zh, f"<html lang={page.evaluate('document.documentElement.lang')!r}> in the Chinese interface"
    switch_language(page, "English", "Ask")
    is_en = wait_true(page, "() => document.documentElement.lang.startsWith('en')")
    assert is_en, f"<html lang={page.evaluate('document.documentElement.lang')!r}> in the English interface"


def test_conversation_and_language_survive_a_reload(open_page, fake_server):
    """Each reload comes once the page has stored what it keeps in the browser (its localStorage
    changed), as a delegate's reload would, seconds later."""
    question = f"资产申报 reload-{uuid.uuid4().hex[:6]}"
    page = open_page(fake_server.url + "/")
    problems = []

    before = stored(page)
    ask(page, question)
    answer = squash(page.locator(f"{BOT} .answer").last.inner_text())
    wait_stored(page, before)
    page.reload()
    page.wait_for_selector("#question textarea")
    if not wait_true(page, "q => [...document.querySelectorAll('#chatbot [data-testid=\"user\"]')]"
                           ".some(u => u.innerText.includes(q))", arg=question):
        problems.append("the question is gone after a reload")
    elif squash(page.locator(f"{BOT} .answer").last.inner_text()) != answer:
        problems.append("the answer is not shown again after a reload")

    before = stored(page)
    switch_language(page, "English", "Ask")
    wait_stored(page, before)
    page.reload()
    page.wait_for_selector("#question textarea")
    if not wait_true(page, "() => document.querySelector('#send').innerText.trim() === 'Ask'"):
        problems.append(f"after a reload in English #send reads {page.locator('#send').inner_text()!r}")

    before = stored(page)
    page.click("#new-chat")
    page.wait_for_function("() => document.querySelectorAll('#chatbot [data-testid=\"bot\"]').length === 0")
    wait_stored(page, before)
    page.reload()
    page.wait_for_selector("#question textarea")
    page.wait_for_timeout(1_000)  # a restored conversation, had one been kept, is shown by now
    if bubbles(page) != (0, 0):
        problems.append(f"after a new conversation and a reload the chat holds {bubbles(page)} bubbles")
    assert not problems, problems


def test_header_links_to_the_document_library(open_page, fake_server, fake_app):
    page = open_page(fake_server.url + "/")
    link = page.locator("a#library-link")
    assert link.count() == 1, "no a#library-link on the page"
    href = link.get_attribute("href")
    assert href.startswith("/source/") and "lang=zh" in href, href
    if link.get_attribute("target") == "_blank":
        with page.context.expect_page() as opened:
            link.click()
        library = opened.value
    else:
        link.click()
        library = page
    library.wait_for_load_state()
    hrefs = library.eval_on_selector_all("a[href]", "as => as.map(a => a.getAttribute('href'))")
    missing = [d.doc_id for d in fake_app.state.assistant.corpus.documents
               if not any(h.split("?")[0].rstrip("/").endswith(f"/source/{d.doc_id}") for h in hrefs)]
    assert not missing, f"the library page does not link to {missing}"


# --- 12: export -----------------------------------------------------------------------------------


def test_export_downloads_the_answer_with_footnotes(open_page, fake_server, tmp_path):
    import docx

    page = open_page(fake_server.url + "/")
    ask(page, ZH_Q)
    _, label = first_sentence_and_label(page)

    with page.expect_download(timeout=5_000) as got:
        page.click("#export-docx", timeout=5_000)
    path = tmp_path / "answer.docx"
    got.value.save_as(path)
    parts = {str(p.partname): p for p in docx.Document(path).part.package.parts}
    assert "/word/footnotes.xml" in parts, f"no footnotes part in the Word export: {sorted(parts)}"
    footnotes = re.sub(r"<[^>]+>", "", parts["/word/footnotes.xml"].blob.decode("utf-8"))
    assert squash(label) in squash(footnotes), (label, footnotes[:500])

    with page.expect_download(timeout=5_000) as got:
        page.click("#export-md", timeout=5_000)
    md = (tmp_path / "answer.md")
    got.value.save_as(md)
    assert "[^1]" in md.read_text(encoding="utf-8")


# --- 13-14: layout and contrast -------------------------------------------------------------------


def _top(page, selector: str) -> float:
    """The element's top in page coordinates (px)."""
    return page.locator(selector).first.evaluate("e => e.getBoundingClientRect().top + window.scrollY")


def test_phone_layout_question_box_first_screen_sources_after_answer(open_page, fake_server):
    page = open_page(fake_server.url + "/", viewport=PHONE)
    problems = []
    if (q_top := _top(page, "#question")) >= PHONE["height"]:
        problems.append(f"the question box starts at {q_top:.0f} px, below the first screen (844 px)")
    ask(page, ZH_Q)
    if (s_top := _top(page, "#sources")) >= (e_top := _top(page, "#examples")):
        problems.append(f"the sources ({s_top:.0f} px) come after the examples ({e_top:.0f} px)")
    if (width := page.evaluate("document.documentElement.scrollWidth")) > PHONE["width"]:
        problems.append(f"the page is {width} px wide on a {PHONE['width']} px phone")
    assert not problems, problems


def test_text_contrast_meets_wcag_aa_in_both_languages(open_page, fake_server):
    from tests.ui.contrast import assert_contrast

    page = open_page(fake_server.url + "/")
    ask(page, ZH_Q)
    assert assert_contrast(page) == []
    switch_language(page, "English", "Ask")
    page.wait_for_timeout(300)
    assert assert_contrast(page) == []


# --- 15: widget examples --------------------------------------------------------------------------


def test_widget_example_questions_ask_when_clicked(open_page, fake_server):
    page = open_page(fake_server.url + "/widget/")
    examples = page.locator("#widget-examples, #examples").first
    assert examples.count() == 1, "the widget shows no example questions (#widget-examples / #examples)"
    items = examples.locator("button, [role=button], a, li").filter(has_text=re.compile(r"\w{4}"))
    assert items.count() >= 1, "the widget's examples block holds no question"
    question = items.first.inner_text().strip()
    items.first.click()
    wait_for_reply(page, 1)
    assert [squash(q) for q in user_texts(page)] == [squash(question)]
    assert page.locator(f"{BOT} .answer").count() == 1
