"""The README's screenshots: the real app (real engine, real index) in headless Chromium, at a desktop
(1280×800) and a phone (390×844) viewport, written to ``docs/screenshots/``.

Six views each: the first screen, a cited Chinese answer, an English answer, a refusal, the document
library and the viewer at a cited paragraph. Run with ``make screenshots`` (after ``make index``);
the browser tests take their own screenshots of every step into ``.test-artifacts/ui/``.

Example::

    .venv/bin/python docs/screenshots.py            # all twelve
"""

from __future__ import annotations

import os
import sys
import tempfile
import threading
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

import uvicorn  # noqa: E402
from playwright.sync_api import sync_playwright  # noqa: E402

from rag.config import load_settings  # noqa: E402
from rag.engine import Engine  # noqa: E402
from ui.app import create_app  # noqa: E402
from ui.feedback import FeedbackStore  # noqa: E402
from ui.server import server_config  # noqa: E402

OUT = Path(__file__).with_name("screenshots")
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
SIZES = {"desktop": (1280, 800), "phone": (390, 844)}
ZH = "工作组关于资产申报提出了什么建议？"
EN = "What has UNODC done to protect whistleblowers?"
REFUSED = "第9/6号决议说了什么？"
PORT = 7871


def serve() -> uvicorn.Server:
    settings = load_settings()
    app = create_app(Engine(settings).load(), store=FeedbackStore(Path(tempfile.mkdtemp()) / "feedback.sqlite3"))
    server = uvicorn.Server(server_config(app, settings, "127.0.0.1", PORT, lifespan="on", timeout_graceful_shutdown=1))
    threading.Thread(target=server.run, daemon=True).start()
    while not server.started:
        time.sleep(0.05)
    return server


def ask(page, question: str) -> None:
    n = page.locator('#chatbot [data-testid="bot"] .answer').count()
    page.fill("#question textarea", question)
    page.press("#question textarea", "Enter")
    page.wait_for_function(
        "n => document.querySelectorAll('#chatbot [data-testid=\"bot\"] .answer').length > n"
        " && !document.querySelector('#chatbot .msg.pending')", arg=n, timeout=60_000,
    )
    page.wait_for_timeout(600)


def shoot(browser, url: str, size: str) -> list[Path]:
    w, h = SIZES[size]
    ctx = browser.new_context(viewport={"width": w, "height": h}, locale="zh-CN")
    page = ctx.new_page()
    out: list[Path] = []

    def snap(name: str, target=None) -> None:
        path = OUT / f"{size}-{name}.png"
        if target is not None:
            target.scroll_into_view_if_needed()
        page.screenshot(path=path)
        out.append(path)

    page.goto(url + "/")
    page.wait_for_selector("#question textarea")
    page.wait_for_timeout(800)
    snap("1-first-screen")
    ask(page, ZH)
    snap("2-answer-zh", page.locator("#chatbot") if size == "phone" else None)
    page.click("#new-chat")
    page.locator("#lang label", has_text="English").click()
    page.wait_for_function("() => document.querySelector('#send').innerText.trim() === 'Ask'")
    ask(page, EN)
    snap("3-answer-en", page.locator("#chatbot") if size == "phone" else None)
    ask(page, REFUSED)
    snap("4-refusal", page.locator('#chatbot [data-testid="bot"]').last if size == "phone" else None)
    page.goto(url + "/source/?lang=en")
    page.wait_for_timeout(300)
    snap("5-library")
    page.goto(url + "/source/wg4-2019-l1-add1?lang=zh#p5")
    page.wait_for_timeout(500)
    snap("6-viewer")
    ctx.close()
    return out


def main() -> int:
    OUT.mkdir(parents=True, exist_ok=True)
    server = serve()
    url = f"http://127.0.0.1:{PORT}"
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            for size in SIZES:
                for path in shoot(browser, url, size):
                    print(path.relative_to(OUT.parent.parent))
            browser.close()
    finally:
        server.should_exit = True
    return 0


if __name__ == "__main__":
    sys.exit(main())
