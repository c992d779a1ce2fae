"""Adding a document from the page, in real headless Chromium against the real engine (ui.upload).

With uploads on, a delegate opens "Add a document", picks a small UN-style PDF made here (its own
symbol, CAC/COSP/WG.4/2099/3), reads the preview (symbol, paragraph count), confirms, and then asks a
question only that document answers: the answer cites it by its symbol, the document filter offers it and
the viewer shows it. The index is a copy of the session's (``index.dir``) in a temporary folder, so the
project's ``data/index`` is never written. With uploads off (the default) the page has no upload UI and
the upload route answers 403. Screenshots go to ``.test-artifacts/ui/``.
"""

from __future__ import annotations

import hashlib
import shutil
import time
from pathlib import Path

import pytest

from rag.cli import main
from rag.config import load_settings
from tests.ui.test_upload import SYMBOL, make_pdf

pytestmark = pytest.mark.slow

QUESTION = "工作组建议数字档案馆收录多少份判决？"
DOC_ID = "cac-cosp-wg-4-2099-3"


def _tree_digest(directory: Path) -> str:
    h = hashlib.sha256()
    for p in sorted(directory.rglob("*")):
        if p.is_file():
            h.update(str(p.relative_to(directory)).encode())
            h.update(p.read_bytes())
    return h.hexdigest()


@pytest.fixture(scope="module")
def upload_app(tmp_path_factory, settings):
    """The whole app with uploads on, around a real engine over a copy of the session index."""
    from rag.answer.unit_index import units_dir
    from rag.engine import Engine
    from ui.app import create_app
    from ui.feedback import FeedbackStore

    assert main(["ingest", "--if-missing"]) == 0  # the session index, built once if missing (as `engine` does)
    tmp = tmp_path_factory.mktemp("upload-app")
    project_index = settings.path(settings.index.dir)
    shutil.copytree(project_index, tmp / "index")
    shutil.copytree(units_dir(settings), tmp / "index.units")
    up = load_settings(overrides={"index.dir": str(tmp / "index"), "ui.data_dir": str(tmp / "data"), "ui.upload": True})
    before = _tree_digest(project_index)
    app = create_app(Engine(up).load(), store=FeedbackStore(tmp / "feedback.sqlite3"))
    yield app, tmp
    assert _tree_digest(project_index) == before  # the project's own index was never touched


def test_upload_preview_confirm_and_ask(browser, upload_app, live_server_factory, artifacts, tmp_path):
    app, tmp = upload_app
    server = live_server_factory(app)
    pdf = make_pdf(tmp_path / "数字档案馆说明.pdf")
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="zh-CN")
    requests: list[str] = []
    context.on("request", lambda r: requests.append(r.url))
    page = context.new_page()
    page.goto(server.url + "/")
    page.wait_for_selector("#question textarea")

    # Open "Add a document" (添加文件), choose the PDF: the preview shows what was parsed, nothing indexed yet.
    page.get_by_text("添加文件", exact=True).click()
    assert not page.locator("#upload-token").is_visible()  # bound to 127.0.0.1: no token asked
    t0 = time.perf_counter()
    page.locator("#upload-file input[type=file]").set_input_files(str(pdf))
    page.wait_for_selector("#upload-symbol", timeout=60_000)
    t_preview = time.perf_counter()
    assert page.inner_text("#upload-symbol") == SYMBOL
    assert page.inner_text("#upload-paragraphs") == "4"
    assert "数字档案馆说明.pdf" in page.inner_text("#upload-status")
    status = page.inner_text("#upload-status")
    assert "审议了设立反腐败数字档案馆的提议" in status and "指定一名联络人" in status  # first and last paragraph
    stored = list((tmp / "data" / "uploads").glob("upload-*.pdf"))
    assert len(stored) == 1 and "数字档案馆" not in stored[0].name
    assert DOC_ID not in app.state.assistant.corpus.doc_ids
    page.locator("#upload").screenshot(path=artifacts / "upload-1-preview.png")

    # Confirm: the ingest runs, the new engine is swapped in, the filters learn the document.
    page.click("#upload-confirm")
    page.wait_for_selector("#upload-status .upload-progress", state="attached", timeout=20_000)  # "正在为…建立索引"
    page.wait_for_timeout(1500)
    page.locator("#upload").screenshot(path=artifacts / "upload-2-indexing.png")
    page.wait_for_selector("#upload-status .upload-done", timeout=180_000)
    t_done = time.perf_counter()
    done = page.inner_text("#upload-status")
    assert SYMBOL in done and "4 个段落" in done
    assert DOC_ID in app.state.assistant.corpus.doc_ids
    page.locator("#upload").screenshot(path=artifacts / "upload-3-indexed.png")

    # Ask what only the new document says: the answer cites it by its symbol.
    page.fill("#question textarea", QUESTION)
    page.click("#send")
    page.wait_for_function(
        "() => document.querySelectorAll('#chatbot [data-testid=\"bot\"] .answer').length >= 1"
        " && !document.querySelector('#chatbot .msg.pending')", timeout=60_000,
    )
    t_answer = time.perf_counter()
    answer = page.locator('#chatbot [data-testid="bot"] .answer').last
    labels = answer.locator("a.cite").all_inner_texts()
    assert "七百四十份" in answer.inner_text(), answer.inner_text()
    assert any(label.startswith(f"{SYMBOL}，第 2 段") for label in labels), labels
    assert f"/source/{DOC_ID}" in (answer.locator("a.cite").first.get_attribute("href") or "")
    page.locator("#chatbot").scroll_into_view_if_needed()
    page.screenshot(path=artifacts / "upload-4-answer.png")

    # The document filter offers it, and the viewer shows it.
    page.get_by_text("筛选", exact=True).first.click()
    page.locator("#f-docs input").click()
    assert page.locator("ul[role=listbox] li", has_text=SYMBOL).count() == 1
    viewer = context.new_page()
    assert viewer.goto(f"{server.url}/source/{DOC_ID}").status == 200
    assert "数字档案馆" in viewer.inner_text("body")
    assert all(r.startswith(server.url) or r.startswith(("data:", "blob:")) for r in requests), requests
    print(f"\nupload -> preview {t_preview - t0:.1f} s, -> indexed {t_done - t0:.1f} s, "
          f"-> answered {t_answer - t0:.1f} s")
    context.close()


def test_with_uploads_off_there_is_no_upload_ui_and_the_route_is_closed(browser, fake_server, tmp_path):
    pdf = make_pdf(tmp_path / "report.pdf")
    context = browser.new_context()
    page = context.new_page()
    page.goto(fake_server.url + "/")
    page.wait_for_selector("#question textarea")
    assert page.locator("#upload").count() == 0 and page.locator("#upload-file").count() == 0
    assert page.locator("input[type=file]").count() == 0
    for path in ("/gradio_api/upload", "/widget/gradio_api/upload"):
        r = page.request.post(fake_server.url + path, multipart={
            "files": {"name": "report.pdf", "mimeType": "application/pdf", "buffer": pdf.read_bytes()},
        })
        assert r.status == 403 and "uploads are off" in r.json()["error"], path
    context.close()
