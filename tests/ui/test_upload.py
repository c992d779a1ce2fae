"""Adding a document from the page (ui/upload.py, ui.upload): staging, preview, refusals, the token, the
incremental index and the engine swap, the upload route's limits, and `serve`'s refusal.

The handlers are called directly around the fake engine (tests/ui/conftest.py); the ingest and the engine
load are replaced by fakes that record what they were given, so no model is loaded and no index written.
The real ingest and engine are exercised by tests/ui/test_browser_upload.py.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from rag.batcher import MicroBatcher
from rag.cli import main
from rag.config import ROOT, load_settings
from rag.corpus.loader import load_corpus
from rag.errors import ConfigError, CorpusError
from tests.ui.conftest import FakeEngine, free_port
from ui.feedback import FeedbackStore
from ui.service import Assistant
from ui.upload import (
    UploadHandlers,
    UploadRefused,
    Uploads,
    render_preview,
    token_required,
    upload_token,
)

FONT_FILE = "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"
SYMBOL = "CAC/COSP/WG.4/2099/3"
PARAGRAPHS = (
    "工作组在2099年会议上审议了设立反腐败数字档案馆的提议。",
    "工作组建议数字档案馆在2100年底前收录不少于七百四十份反腐败判决。",
    "秘书处将每半年向工作组报告数字档案馆的收录进展。",
    "工作组请缔约国指定一名联络人负责向数字档案馆提交判决。",
)


def make_pdf(path: Path, symbol: str = SYMBOL, paragraphs: tuple[str, ...] = PARAGRAPHS) -> Path:
    """A one-page UN-style PDF (reportlab, the WenQuanYi CJK font): the symbol on the top line, a heading,
    numbered paragraphs one line each."""
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont
    from reportlab.pdfgen import canvas

    pdfmetrics.registerFont(TTFont("WQYUpload", FONT_FILE, subfontIndex=0))
    c = canvas.Canvas(str(path), invariant=1)
    lines = [f"联合国  {symbol}", "联合国反腐败公约缔约国会议", "预防腐败问题不限成员名额政府间工作组",
             "关于反腐败数字档案馆的秘书处说明", "一. 导言", *(f"{i}. {p}" for i, p in enumerate(paragraphs, 1))]
    y = 800
    for line in lines:
        c.setFont("WQYUpload", 11)
        c.drawString(50, y, line)
        y -= 22
    c.showPage()
    c.save()
    return path


@pytest.fixture
def up_settings(tmp_path, monkeypatch):
    """Uploads on, a local bind, and this test's own data and (empty) index folders."""
    monkeypatch.delenv("UNCAC_QA_UPLOAD_TOKEN", raising=False)
    return load_settings(overrides={
        "ui.upload": True, "ui.data_dir": str(tmp_path / "data"), "index.dir": str(tmp_path / "index"),
    })


class FakeWork:
    """The ingest and the engine load, faked: the index "holds" what was added; the loaded engine is a
    FakeEngine over the corpus with those files."""

    def __init__(self) -> None:
        self.added: list[str] = []
        self.loads = 0
        self.gate: threading.Event | None = None  # set: the ingest waits for it (a slow ingest)
        self.fail: Exception | None = None

    def index(self, path: Path, settings) -> None:
        if self.gate is not None:
            assert self.gate.wait(10)
        if self.fail is not None:
            raise self.fail
        self.added.append(str(path.resolve()))

    def load(self, settings) -> FakeEngine:
        self.loads += 1
        return FakeEngine(settings, load_corpus(settings, extra=self.added))

    def restore(self, settings) -> None:
        self.added = [p for p in self.added if Path(p).exists()]

    @property
    def kw(self) -> dict:
        return {"index": self.index, "load": self.load, "restore": self.restore}


@pytest.fixture
def work() -> FakeWork:
    return FakeWork()


@pytest.fixture
def assistant(up_settings, corpus, tmp_path):
    a = Assistant(FakeEngine(up_settings, corpus), FeedbackStore(tmp_path / "feedback.sqlite3")).start()
    yield a
    a.close()


@pytest.fixture
def uploads(assistant, work, monkeypatch) -> Uploads:
    monkeypatch.setattr("ui.upload._added_files", lambda settings: list(work.added))
    return Uploads(assistant, **work.kw)


def gradio_copy(tmp_path: Path, name: str, data: bytes | None = None) -> Path:
    """A file where Gradio would have put the upload (its temporary folder), under the delegate's name."""
    d = tmp_path / "gradio" / "abc123"
    d.mkdir(parents=True, exist_ok=True)
    p = d / name
    if data is None:
        make_pdf(p)
    else:
        p.write_bytes(data)
    return p


def stored_files(uploads: Uploads) -> list[Path]:
    return sorted(uploads.dir.glob("*")) if uploads.dir.exists() else []


# --- the token ---------------------------------------------------------------------------------------


def test_a_token_is_needed_only_off_this_machine(up_settings, monkeypatch):
    assert not token_required("127.0.0.1") and not token_required("localhost") and not token_required("[::1]")
    assert token_required("0.0.0.0") and token_required("192.168.1.5")
    assert upload_token(up_settings) is None  # local bind
    public = up_settings.model_copy(update={"ui": up_settings.ui.model_copy(update={"host": "0.0.0.0"})})
    with pytest.raises(ConfigError, match="UNCAC_QA_UPLOAD_TOKEN") as e:
        upload_token(public)
    assert "\n" not in str(e.value)
    monkeypatch.setenv("UNCAC_QA_UPLOAD_TOKEN", "s3cret")
    assert upload_token(public) == "s3cret"
    off = public.model_copy(update={"ui": public.ui.model_copy(update={"upload": False})})
    monkeypatch.delenv("UNCAC_QA_UPLOAD_TOKEN")
    assert upload_token(off) is None  # uploads off: no token needed anywhere


def test_serve_refuses_a_public_upload_server_without_a_token(monkeypatch, capsys):
    monkeypatch.delenv("UNCAC_QA_UPLOAD_TOKEN", raising=False)
    assert main(["--set", "ui.upload=true", "serve", "--host", "0.0.0.0", "--port", str(free_port())]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "UNCAC_QA_UPLOAD_TOKEN" in err and "0.0.0.0" in err
    assert "loading the model" not in err and "Traceback" not in err


def test_a_wrong_or_missing_token_keeps_nothing(assistant, work, monkeypatch, tmp_path):
    public = assistant.settings.model_copy(update={"ui": assistant.settings.ui.model_copy(update={"host": "0.0.0.0"})})
    monkeypatch.setenv("UNCAC_QA_UPLOAD_TOKEN", "s3cret")
    assistant.settings = public
    up = Uploads(assistant, **work.kw)
    assert up.token_required
    h = UploadHandlers(up, chat=None)
    for token, key in (("", "upload_no_token"), ("wrong", "upload_bad_token")):
        src = gradio_copy(tmp_path, "report.pdf")
        status, button, staged, shown, _file = h.received(str(src), token, "en", None)
        assert staged is None and shown[1].key == key and 'role="alert"' in status
        assert not src.exists() and stored_files(up) == []  # neither Gradio's copy nor ours is kept
    src = gradio_copy(tmp_path, "report.pdf")
    status, button, staged, shown, _file = h.received(str(src), "s3cret", "zh", None)
    assert staged is not None and SYMBOL in status and "段落数" in status


# --- staging and the preview -------------------------------------------------------------------------


def test_stage_stores_under_a_generated_name_and_previews(uploads, tmp_path):
    src = gradio_copy(tmp_path, "../../etc/我的 报告.pdf".replace("/", "_"))
    staged = uploads.stage(src, src.name)
    stored = Path(staged.path)
    assert stored.parent == uploads.dir and stored.name.startswith("upload-") and stored.suffix == ".pdf"
    assert src.name not in stored.name and not src.exists()  # Gradio's copy is gone, the name is display only
    assert (staged.symbol, staged.doc_id, staged.language, staged.paragraphs) == (SYMBOL, "cac-cosp-wg-4-2099-3", "zh", 4)
    assert staged.first == (1, PARAGRAPHS[0]) and staged.last == (4, PARAGRAPHS[3]) and staged.warnings == ()
    html = render_preview(staged, "en")
    for text in (SYMBOL, "Chinese", 'id="upload-paragraphs">4<', "para. 1", "para. 4", PARAGRAPHS[3]):
        assert text in html, text
    assert "第 4 段" in render_preview(staged, "zh") and "中文" in render_preview(staged, "zh")


def test_preview_escapes_and_warns(uploads, tmp_path):
    text = "# 标题\n\n1. 第一段<script>alert(1)</script>。\n2. 第二段 & <b>粗体</b>。\n"
    staged = uploads.stage(gradio_copy(tmp_path, "notes.md", text.encode()), "notes.md")
    html = render_preview(staged, "en")
    assert "<script>" not in html and "&#60;script&#62;" in html and "<b>粗体" not in html
    assert staged.symbol is None and "No UN symbol" in html and "Only 2 numbered" in html
    assert "(none found)" in html


@pytest.mark.parametrize("name, data, expected", [
    ("tool.exe", b"MZ\x00\x00", ".exe files are not accepted"),
    ("scan.txt", b"\x00\x01\x02binary", "report"),  # the reader's one line (binary, not text)
    ("empty.pdf", b"", "empty"),
    ("no-numbers.txt", "只有一段没有编号的文字。\n".encode(), "numbered"),
])
def test_unreadable_files_are_one_line_and_removed(uploads, tmp_path, name, data, expected):
    src = gradio_copy(tmp_path, name, data)
    with pytest.raises(UploadRefused) as e:
        uploads.stage(src, name)
    msg = e.value.message("en")
    assert "\n" not in msg and f"“{name}” was not added" in msg
    if expected != "report":
        assert expected in msg, msg
    assert "upload-" not in msg  # the delegate's name, never the stored path
    assert stored_files(uploads) == [] and not src.exists()


def test_a_copy_of_an_indexed_document_is_refused_with_the_loaders_message(uploads, corpus, tmp_path):
    first = corpus.documents[0]
    data = (ROOT / "corpus" / "manifest.yaml").parent.joinpath(first.meta.file).read_bytes()
    with pytest.raises(UploadRefused) as e:
        uploads.stage(gradio_copy(tmp_path, "copy.txt", data), "copy.txt")
    msg = e.value.message("zh")
    assert f"is the same document as {first.doc_id!r}" in msg and "'copy.txt'" in msg and "未添加" in msg
    assert stored_files(uploads) == []


def test_a_new_choice_or_a_cleared_picker_removes_the_staged_file(uploads, tmp_path):
    h = UploadHandlers(uploads, chat=None)
    *_, first, _shown, _f = h.received(str(gradio_copy(tmp_path, "a.pdf")), None, "en", None)
    make_pdf(tmp_path / "b.pdf", symbol="CAC/COSP/WG.4/2099/4", paragraphs=PARAGRAPHS[:3])
    *_, second, _shown, _f = h.received(str(tmp_path / "b.pdf"), None, "en", first)
    assert not Path(first.path).exists() and Path(second.path).exists()
    h.cleared(second)
    assert stored_files(uploads) == []


# --- indexing and the swap ---------------------------------------------------------------------------


def test_confirm_indexes_swaps_the_engine_and_refreshes_the_filters(uploads, assistant, work, tmp_path):
    old = assistant.engine
    view = assistant.corpus  # what the chat handlers and the viewer keep
    staged = uploads.stage(gradio_copy(tmp_path, "report.pdf"), "report.pdf")
    assert staged.doc_id not in view.doc_ids and work.added == []  # a preview indexes nothing

    class Chat:  # the chat layout's parts the handler writes
        docs = bodies = years = lang = object()

    steps = list(UploadHandlers(uploads, Chat()).confirmed(staged, None, "en", progress=lambda *a, **k: None))
    assert "Indexing “report.pdf”" in steps[0][0]
    status, _button, _file, staged_after, shown, docs, bodies, years = steps[-1]
    assert "Indexed: CAC/COSP/WG.4/2099/3, 4 paragraphs" in status and staged_after is None and shown[0] == "done"
    assert work.added == [str(Path(staged.path).resolve())] and work.loads == 1
    assert assistant.engine is not old and assistant.batcher.engine is assistant.engine
    assert staged.doc_id in view.doc_ids and len(view) == len(old.corpus) + 4  # the same view object sees it
    assert (SYMBOL, staged.doc_id) in docs.constructor_args["choices"]
    result = assistant.ask("数字档案馆收录多少份判决？")
    assert not result.refused and result.citations[0].doc_id == staged.doc_id


def test_questions_are_answered_by_the_old_engine_while_indexing(uploads, assistant, work, tmp_path):
    staged = uploads.stage(gradio_copy(tmp_path, "report.pdf"), "report.pdf")
    old = assistant.engine
    work.gate = threading.Event()
    worker = threading.Thread(target=uploads.index, args=(staged,))
    worker.start()
    try:
        t0 = time.perf_counter()
        result = assistant.ask("工作组关于资产申报提出了什么建议？")
        assert not result.refused and time.perf_counter() - t0 < 5 and assistant.engine is old
    finally:
        work.gate.set()
        worker.join(10)
    assert assistant.engine is not old


def test_a_failed_ingest_changes_nothing_and_removes_the_upload(uploads, assistant, work, tmp_path):
    staged = uploads.stage(gradio_copy(tmp_path, "report.pdf"), "report.pdf")
    old = assistant.engine
    work.fail = CorpusError(f"{staged.path!r} would be document 'x', which is already in the corpus")
    with pytest.raises(UploadRefused) as e:
        uploads.index(staged)
    msg = e.value.message("en")
    assert msg.startswith("Indexing failed; nothing already indexed changed:") and "report.pdf" in msg and "upload-" not in msg
    assert assistant.engine is old and not Path(staged.path).exists() and work.loads == 0


def test_a_failed_load_after_the_ingest_drops_the_upload_from_the_index(uploads, assistant, work, tmp_path):
    staged = uploads.stage(gradio_copy(tmp_path, "report.pdf"), "report.pdf")
    old = assistant.engine

    def broken(settings):
        raise MemoryError("no room for a second encoder")

    uploads._load = broken
    with pytest.raises(UploadRefused) as e:
        uploads.index(staged)
    assert e.value.key == "upload_internal" and "Traceback" not in e.value.message("en")
    assert work.added == [] and assistant.engine is old and not Path(staged.path).exists()


def test_confirm_without_a_staged_file_is_one_line(uploads):
    (status, *_rest), = list(UploadHandlers(uploads, None).confirmed(None, None, "zh", progress=lambda *a, **k: None))
    assert "请先选择文件" in status


def test_swap_engine_moves_the_batcher_and_the_corpus_view(fake_engine, corpus, tmp_path):
    a = Assistant(fake_engine, FeedbackStore(tmp_path / "f.sqlite3")).start()
    try:
        other = FakeEngine(fake_engine.settings, corpus)
        assert a.swap_engine(other) is fake_engine
        assert a.engine is other and a.batcher.engine is other and a.corpus.now is other.corpus
        a.ask("工作组关于资产申报提出了什么建议？")
        assert other.calls and other.calls[-1]["question"].startswith("工作组")
    finally:
        a.close()
    b = MicroBatcher(fake_engine)
    assert b.swap_engine(other) is fake_engine and b.engine is other


# --- the page and the upload route -------------------------------------------------------------------


def _elem_ids(demo) -> set[str]:
    return {c.get("props", {}).get("elem_id") for c in demo.config["components"]}


def test_the_accordion_is_on_the_full_page_only_and_only_when_on(assistant, fake_engine, tmp_path):
    from ui.chat import build_chat

    assert {"upload", "upload-file", "upload-confirm"} <= _elem_ids(build_chat(assistant))
    assert "upload" not in _elem_ids(build_chat(assistant, compact=True))
    off = Assistant(fake_engine, FeedbackStore(tmp_path / "off.sqlite3"))
    assert not {"upload", "upload-file"} & _elem_ids(build_chat(off))


@pytest.fixture
def upload_client(up_settings, corpus, tmp_path):
    from ui.app import create_app

    small = up_settings.model_copy(update={"corpus": up_settings.corpus.model_copy(update={"max_file_mb": 0.5})})
    app = create_app(FakeEngine(small, corpus), store=FeedbackStore(tmp_path / "f.sqlite3"))
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


def test_the_upload_route_is_open_for_the_full_page_up_to_the_file_limit(upload_client, up_settings):
    json_limit = up_settings.server.max_body_bytes
    assert json_limit < 300_000 < 500_000  # a file over the JSON limit, under corpus.max_file_mb = 0.5
    ok = upload_client.post("/gradio_api/upload", files={"files": ("a.txt", b"x" * 300_000)})
    assert ok.status_code == 200 and ok.json()[0].endswith("a.txt")
    over = upload_client.post("/gradio_api/upload", files={"files": ("b.txt", b"x" * 520_000)})
    assert over.status_code == 413  # Gradio's max_file_size (within the multipart slack)
    big = upload_client.post("/gradio_api/upload", files={"files": ("c.txt", b"x" * 700_000)})
    assert big.status_code == 413 and "upload limit" in big.json()["error"]  # the middleware, before reading
    widget = upload_client.post("/widget/gradio_api/upload", files={"files": ("a.txt", b"x")})
    assert widget.status_code == 403 and "full page" in widget.json()["error"]
    not_a_form = upload_client.post("/gradio_api/upload", content=b"x" * (json_limit + 1),
                                    headers={"content-type": "application/octet-stream"})
    assert not_a_form.status_code == 413 and "server.max_body_bytes" in not_a_form.json()["error"]


def test_a_chunked_upload_over_the_limit_is_cut_off(upload_client):
    boundary = "b0undary"
    head = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"files\"; filename=\"c.txt\"\r\n"
            "Content-Type: text/plain\r\n\r\n").encode()

    def body():
        yield head
        for _ in range(700):
            yield b"x" * 1000
        yield f"\r\n--{boundary}--\r\n".encode()

    r = upload_client.post("/gradio_api/upload", content=body(),
                           headers={"content-type": f"multipart/form-data; boundary={boundary}"})
    assert r.status_code == 413 and set(r.json()) == {"error"}
    assert upload_client.get("/healthz").json()["status"] == "ok"


def test_json_bodies_keep_their_own_limit_with_uploads_on(upload_client, up_settings):
    limit = up_settings.server.max_body_bytes
    r = upload_client.post("/api/ask", content=b'{"question": "' + b"a" * (limit + 10) + b'"}',
                           headers={"content-type": "application/json"})
    assert r.status_code == 413 and "server.max_body_bytes" in r.json()["error"]
