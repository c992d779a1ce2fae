"""The server against a hostile client: each reproduction of the hardening issue, as a test.

Fast cases use the fake engine in-process; the ones that crashed inside the model (lone surrogates)
use the real engine; the socket-level ones (slow headers, slow bodies, huge bodies, a full queue,
/healthz under load) use a real uvicorn server on a loopback port, built by ``ui.server.server_config``
exactly as ``uncac-qa serve`` builds it.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
import uvicorn
from fastapi.testclient import TestClient

from rag.request import AskRequest
from tests.ui.conftest import free_port
from ui.app import create_app
from ui.feedback import FeedbackStore
from ui.server import server_config

ZH = "工作组关于资产申报提出了什么建议？"


@pytest.fixture(scope="module")
def client(fake_app) -> TestClient:
    return TestClient(fake_app, raise_server_exceptions=False)


@pytest.fixture(scope="module")
def real_client(engine, tmp_path_factory) -> TestClient:
    app = create_app(engine, store=FeedbackStore(tmp_path_factory.mktemp("hostile") / "f.sqlite3"))
    return TestClient(app, raise_server_exceptions=False)


def _ask(client, payload: bytes, **headers):
    return client.post("/api/ask", content=payload, headers={"content-type": "application/json", **headers})


# --- bodies the JSON decoder or the tokenizer choked on ----------------------------------------------

@pytest.mark.slow
@pytest.mark.parametrize("payload, field", [
    (b'{"question": "\\ud800 \xe8\xb5\x84\xe4\xba\xa7\xe7\x94\xb3\xe6\x8a\xa5"}', "lone surrogate (U+D800)"),
    (b'{"question": "\xe8\xb5\x84\xe4\xba\xa7 \\udfff"}', "lone surrogate (U+DFFF)"),
    (b'{"question": "asset declarations", "history": [["\\ud83d", "x"]]}', "history turn 0"),
])
def test_a_lone_surrogate_is_422_not_500(real_client, payload, field):
    r = _ask(real_client, payload)
    assert r.status_code == 422 and field in r.json()["error"]
    assert real_client.get("/healthz").status_code == 200


@pytest.mark.parametrize("depth", [1_000, 100_000])
def test_deep_json_is_400_not_500(client, depth):
    r = _ask(client, b"[" * depth + b"]" * depth)
    assert r.status_code == 400 and "nested" in r.json()["error"]
    r = _ask(client, b'{"question": "x", "history": ' + b"[" * depth + b"]" * depth + b"}")
    assert r.status_code == 400 and "nested" in r.json()["error"]


def test_brackets_inside_strings_are_not_nesting(client):
    r = client.post("/api/ask", json={"question": "资产申报 " + "[{" * 40})
    assert r.status_code == 200


def test_k_true_and_string_numbers_are_refused(client):
    for body, field in [({"question": ZH, "k": True}, "field 'k'"), ({"question": ZH, "years": [True]}, "field 'years.0'"),
                        ({"question": ZH, "k": "5"}, "field 'k'")]:
        r = client.post("/api/ask", json=body)
        assert r.status_code == 422 and field in r.json()["error"], body


def test_uploads_are_closed_from_any_origin(client):
    for path in ("/gradio_api/upload", "/widget/gradio_api/upload", "/gradio_api/upload/"):
        for origin in ("http://evil.example", "http://127.0.0.1:7860"):
            r = client.post(path, files={"files": ("x.txt", b"A" * 1000)}, headers={"Origin": origin})
            assert r.status_code == 403 and "uploads are off" in r.json()["error"], (path, origin)


def test_a_body_over_the_limit_is_413(client, settings):
    limit = settings.server.max_body_bytes
    r = _ask(client, b'{"question": "' + b"a" * (limit + 10) + b'"}')
    assert r.status_code == 413 and str(limit) in r.json()["error"]

    def chunks():  # no Content-Length: counted as it arrives
        for _ in range(limit // 1000 + 2):
            yield b" " * 1000

    r = client.post("/api/ask", content=chunks(), headers={"content-type": "application/json"})
    assert r.status_code == 413
    assert client.get("/healthz").status_code == 200


# --- socket-level: a real server ----------------------------------------------------------------------

class _Gated:
    """A fake engine whose answers wait for a gate: questions pile up, as under load."""

    def __init__(self, inner) -> None:
        self.inner, self.settings, self.corpus = inner, inner.settings, inner.corpus
        self.gate = threading.Event()

    def request(self, *a, **kw) -> AskRequest:
        return self.inner.request(*a, **kw)

    def ask_batch(self, requests):
        self.gate.wait(30)
        return self.inner.ask_batch(requests)


class _Server:
    def __init__(self, app, settings) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.server = uvicorn.Server(server_config(app, settings, "127.0.0.1", self.port, timeout_graceful_shutdown=1))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self):
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started and time.monotonic() < deadline:
            time.sleep(0.02)
        return self

    def __exit__(self, *exc):
        self.server.should_exit = True
        self.thread.join(10)


@pytest.fixture
def gated(fake_engine, settings, tmp_path):
    def start(**server):
        s = settings.model_copy(update={"server": settings.server.model_copy(update=server)})
        engine = _Gated(fake_engine)
        engine.settings = s
        app = create_app(engine, store=FeedbackStore(tmp_path / "f.sqlite3"))
        return engine, _Server(app, s)

    return start


def test_healthz_answers_while_every_asker_waits(gated):
    engine, server = gated()
    with server, ThreadPoolExecutor(60) as pool:
        asks = [pool.submit(httpx.post, server.url + "/api/ask", json={"question": ZH}, timeout=60) for _ in range(60)]
        deadline = time.monotonic() + 30  # a loaded CI machine may take a while to open 60 connections
        while (health := httpx.get(server.url + "/healthz", timeout=10)).json()["waiting"] < 10:
            assert time.monotonic() < deadline, health.json()
            time.sleep(0.05)
        assert health.status_code == 200
        assert not any(f.done() for f in asks)  # every asker is still waiting on the engine
        engine.gate.set()
        statuses = [f.result().status_code for f in asks]
    assert statuses == [200] * 60


def test_a_full_queue_is_503_with_retry_after(gated):
    engine, server = gated(max_queue=4, batch_max=1)
    with server, ThreadPoolExecutor(20) as pool:
        asks = [pool.submit(httpx.post, server.url + "/api/ask", json={"question": ZH}, timeout=60) for _ in range(20)]
        # 2 questions in the engine, 4 waiting: the other 14 are refused at once. Open the gate only when
        # they have been (a loaded CI machine may take seconds to send 20 requests).
        deadline = time.monotonic() + 30
        while sum(f.done() for f in asks) < 14 and time.monotonic() < deadline:
            time.sleep(0.05)
        engine.gate.set()
        replies = [f.result() for f in asks]
    shed = [r for r in replies if r.status_code == 503]
    assert shed and all(int(r.headers["retry-after"]) >= 1 and "server.max_queue" in r.json()["error"] for r in shed)
    assert {r.status_code for r in replies} <= {200, 503} and any(r.status_code == 200 for r in replies)


def test_an_answer_that_waits_too_long_is_503(gated):
    engine, server = gated(answer_timeout_s=0.5)
    with server:
        r = httpx.post(server.url + "/api/ask", json={"question": ZH}, timeout=10)
        engine.gate.set()
    assert r.status_code == 503 and "server.answer_timeout_s" in r.json()["error"] and r.headers["retry-after"]


def _recv_all(sock: socket.socket, limit_s: float) -> bytes:
    sock.settimeout(limit_s)
    data = b""
    try:
        while chunk := sock.recv(65536):
            data += chunk
    except TimeoutError:
        return data + b"<still open>"
    return data


def test_half_sent_headers_are_closed_after_the_header_timeout(gated):
    _, server = gated(header_timeout_s=0.5)
    with server:
        with socket.create_connection(("127.0.0.1", server.port)) as sock:
            sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ")
            assert _recv_all(sock, 5) == b""  # closed by the server, nothing sent
        # a keep-alive connection gets a new deadline for its next request
        with socket.create_connection(("127.0.0.1", server.port)) as sock:
            sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            time.sleep(0.2)
            assert b"200 OK" in sock.recv(65536)
            sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
            assert not _recv_all(sock, 5).endswith(b"<still open>")


def test_a_stalled_body_is_408_and_a_huge_announced_body_413_unread(gated):
    _, server = gated(body_timeout_s=0.5)
    with server:
        with socket.create_connection(("127.0.0.1", server.port)) as sock:
            sock.sendall(b"POST /api/ask HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"q")
            reply = _recv_all(sock, 5)
            assert reply.startswith(b"HTTP/1.1 408") and b"server.body_timeout_s" in reply
        with socket.create_connection(("127.0.0.1", server.port)) as sock:
            sock.sendall(b"POST /api/ask HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 104857600\r\n\r\n")
            reply = _recv_all(sock, 5)  # answered at once, none of the 100 MB sent
            assert reply.startswith(b"HTTP/1.1 413") and b"104857600 bytes" in reply
        assert httpx.get(server.url + "/healthz", timeout=5).status_code == 200


# --- feedback ----------------------------------------------------------------------------------------

def test_feedback_comments_have_a_size_limit(tmp_path):
    from ui.feedback import FeedbackError

    store = FeedbackStore(tmp_path / "f.sqlite3", max_comment_chars=10)
    result = {"question": "q", "answer": "a", "refused": False}
    with pytest.raises(FeedbackError, match="11 characters; the limit is 10"):
        store.add(result, rating=1, comment="x" * 11)
    fid = store.add(result, rating=1, comment="x" * 10)
    with pytest.raises(FeedbackError, match="the limit is 10"):
        store.set_comment(fid, "y" * 11)
    assert [r.comment for r in store.rows()] == ["x" * 10]  # nothing stored is lost


def test_one_client_cannot_flood_the_feedback_store(fake_engine, tmp_path):
    from dataclasses import replace
    from types import SimpleNamespace

    from ui.chat import build_chat
    from ui.service import Assistant

    store = FeedbackStore(tmp_path / "f.sqlite3")
    assistant = Assistant(fake_engine, store)
    fns = {f.name: f.fn for f in build_chat(assistant).fns.values()}
    turns = list(fns["respond"](ZH, [], "zh", [], [], []))[-1][2]
    like = SimpleNamespace(index=1, value="", liked=True)
    flooder, other = SimpleNamespace(client=SimpleNamespace(host="10.0.0.1")), SimpleNamespace(client=SimpleNamespace(host="10.0.0.2"))
    limit = assistant.settings.server.feedback_per_minute
    for i in range(limit + 15):  # each a different answer: votes on one answer replace each other anyway
        fns["on_like"](like, [replace(turns[0], answer_id=f"a{i}")], "zh", "", request=flooder)
    fns["on_like"](like, [replace(turns[0], answer_id="other")], "zh", "", request=other)
    assert len(store.rows()) == limit + 1
    assistant.close()


def test_error_bodies_are_json_lines(client):
    for r in (_ask(client, b"[" * 5000), client.post("/gradio_api/upload", files={"files": ("x", b"x")})):
        assert set(json.loads(r.text)) == {"error"} and "Traceback" not in r.text
