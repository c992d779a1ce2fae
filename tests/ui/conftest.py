"""Fixtures of the UI tests: a deterministic stand-in engine over the real corpus, a tiny hostile corpus,
and servers (uvicorn in a background thread on a free loopback port).

``FakeEngine`` has the real Engine's interface and answers by keyword overlap, so the UI's own
behaviour (rendering, validation, feedback, routes) is tested fast and exactly. The browser and
gradio_client tests use the real engine (the session fixture ``engine`` from tests/conftest.py).
"""

from __future__ import annotations

import asyncio
import logging
import re
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import pytest
import uvicorn

from rag.config import Settings
from rag.corpus.loader import Corpus
from rag.corpus.parser import parse_document
from rag.corpus.records import Citation, DocumentMeta, source_url
from rag.errors import QueryError
from rag.request import AskRequest, Filters, clean_history, clean_question
from rag.result import REFUSAL, AnswerResult, AnswerSentence, Retrieved
from rag.retrieval.scope import check_filters

# English words the fake engine maps to the Chinese terms of the documents.
_EN = {"whistleblower": "举报", "asset": "资产申报", "declaration": "资产申报", "hybrid": "混合", "online": "网络"}


@dataclass
class FakeEngine:
    settings: Settings
    corpus: Corpus
    calls: list[dict] = field(default_factory=list)

    def load(self) -> FakeEngine:
        return self

    def _terms(self, q: str) -> list[str]:
        terms = [zh for en, zh in _EN.items() if en in q.lower()]
        for run in re.findall(r"[\u4e00-\u9fff]+", q):
            terms += [run[i : i + 2] for i in range(len(run) - 1)]
        return [t for t in terms if t not in {"工作", "作组", "什么", "提出", "建议", "关于"}]

    def request(self, question, *, filters=Filters(), k=None, history=(), id=None) -> AskRequest:
        """Validated like ``Engine.request`` (the same functions), so the UI's error paths are real."""
        q = clean_question(question, self.settings.answer.max_question_chars)
        if k is not None and (isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= 200):
            raise QueryError(f"k = {k!r} is not allowed; allowed: a whole number from 1 to 200")
        check_filters(filters, self.corpus)
        return AskRequest(q, filters, k, clean_history(history), id)

    def ask_batch(self, requests: list[AskRequest]) -> list[AnswerResult]:
        return [self._answer(r.question, filters=r.filters, k=r.k, history=r.history) for r in requests]

    def ask(self, question, *, filters=Filters(), k=None, history=()):
        return self.ask_batch([self.request(question, filters=filters, k=k, history=history)])[0]

    def _answer(self, q, *, filters=Filters(), k=None, history=()):
        self.calls.append({"question": q, "filters": filters, "k": k, "history": history})
        lang = "zh" if re.search(r"[\u4e00-\u9fff]", q) else "en"
        terms = self._terms(q)
        scored = []
        for p in self.corpus:
            meta = self.corpus.meta(p.doc_id)
            if filters.doc_ids and p.doc_id not in filters.doc_ids:
                continue
            if filters.bodies and meta.body not in filters.bodies:
                continue
            if filters.years and meta.year not in filters.years:
                continue
            score = sum(p.text.count(t) for t in terms)
            if score:
                scored.append((score, p))
        scored.sort(key=lambda x: -x[0])
        top = [p for _, p in scored[:3]]
        retrieved = tuple(Retrieved(p.doc_id, p.para, 0.9 - i * 0.01) for i, p in enumerate(top))
        if not top:
            near = tuple(Retrieved(p.doc_id, p.para, 0.5) for p in list(self.corpus)[:2])
            return AnswerResult(q, REFUSAL[lang], True, retrieved=near, lang=lang, timings_ms={"total": 1.0})
        cites, sents = [], []
        for i, p in enumerate(top[:2]):
            sentence = next((s for s in re.split(r"(?<=[。；])", p.text) if any(t in s for t in terms)), p.text)
            sentence = sentence.strip()
            sub = next((s.label for s in p.subs if sentence in s.text or s.text in sentence), None)
            meta = self.corpus.meta(p.doc_id)
            suffix = f" ({sub})" if sub else ""
            cites.append(Citation(
                p.doc_id, meta.symbol, p.para, sub, p.label_en + suffix, p.label_zh + suffix, sentence,
                source_url(p.doc_id, p.para, sub),
            ))
            sents.append(AnswerSentence(sentence, (i,)))
        answer = " ".join(s.text for s in sents)
        return AnswerResult(q, answer, False, tuple(cites), retrieved, {"total": 2.0}, tuple(sents), lang)


@pytest.fixture(scope="session")
def fake_engine(settings, corpus) -> FakeEngine:
    return FakeEngine(settings, corpus)


HOSTILE_TEXT = """联合国 反腐败公约
一. 测试<script>alert(1)</script>章节
1. 正常段落，提到资产申报。
2. 本段含有脚本<script>alert(1)</script>和<img src=x onerror=alert(2)>以及 [链接](javascript:alert(3)) 和 **粗体** 与 $x$。
3. 工作组建议：
(a) 第一项<b>加粗</b>；
(b) 第二项 "引号" & 'apostrophe'。
"""


@pytest.fixture(scope="session")
def hostile_corpus() -> Corpus:
    """One document whose text, title and metadata try to inject markup."""
    meta = DocumentMeta(
        doc_id="evil-doc", file="evil.txt", symbol="CAC/COSP/<b>1</b>", short_ref="evil <i>ref</i>",
        short_ref_zh="恶意<i>文件</i>", date=date(2024, 1, 2), body="CoSP", session="<script>alert(4)</script>",
        title_zh="标题<script>alert(5)</script>", title_en="Title <svg onload=alert(6)>",
        official_url="javascript:alert(7)",
    )
    return Corpus([parse_document(HOSTILE_TEXT, meta)])


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _not_shutdown_cancel(record: logging.LogRecord) -> bool:
    """Drop the traceback uvicorn logs when its 1 s graceful shutdown cancels a still-open SSE stream."""
    exc = record.exc_info[1] if record.exc_info else None
    return not isinstance(exc, asyncio.CancelledError)


logging.getLogger("uvicorn.error").addFilter(_not_shutdown_cancel)


class LiveServer:
    """uvicorn serving ``app`` in a daemon thread on 127.0.0.1:<free port>."""

    def __init__(self, app) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        from ui.server import server_config

        # the very config `uncac-qa serve` uses (header deadline, connection limit)
        config = server_config(
            app, app.state.assistant.settings, "127.0.0.1", self.port, lifespan="on",
            timeout_graceful_shutdown=1,  # open SSE/keep-alive connections must not hold the test session
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + 60
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the test server did not start")
            time.sleep(0.05)
        return self

    def __exit__(self, *exc) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


@pytest.fixture(scope="session")
def live_server_factory() -> Iterator:
    servers: list[LiveServer] = []

    def start(app) -> LiveServer:
        s = LiveServer(app).__enter__()
        servers.append(s)
        return s

    yield start
    for s in servers:
        s.__exit__(None, None, None)


@pytest.fixture
def feedback_path(tmp_path: Path) -> Path:
    return tmp_path / "feedback.sqlite3"


@pytest.fixture(scope="session")
def fake_app(fake_engine, tmp_path_factory):
    """The whole app around the fake engine, with its own feedback file."""
    from ui.app import create_app
    from ui.feedback import FeedbackStore

    store = FeedbackStore(tmp_path_factory.mktemp("fake-feedback") / "feedback.sqlite3")
    return create_app(fake_engine, store=store)


@pytest.fixture(scope="session")
def fake_server(fake_app, live_server_factory) -> LiveServer:
    return live_server_factory(fake_app)


@pytest.fixture(scope="session")
def real_feedback(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("real-feedback") / "feedback.sqlite3"


@pytest.fixture(scope="session")
def real_server(engine, real_feedback, live_server_factory) -> LiveServer:
    """The whole app around the real engine (the session fixture ``engine``), on a loopback port."""
    from ui.app import create_app
    from ui.feedback import FeedbackStore

    return live_server_factory(create_app(engine, store=FeedbackStore(real_feedback)))


CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / ".test-artifacts" / "ui"


@pytest.fixture(scope="session")
def browser():
    """Debian's headless Chromium through Playwright (never `playwright install`: `make chromium`)."""
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} not found: install it with `make chromium` (apt-get install chromium chromium-driver)")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS
