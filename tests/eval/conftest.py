"""Fixtures of the eval tests: a 4-item run through the real engine (shared by the runner, review and
report tests), and a tiny loopback /healthz server (the prober and the load generator)."""

from __future__ import annotations

import pytest

from eval.dataset import QAItem, load_dataset
from eval.runner import EvalRun, run_eval


@pytest.fixture(scope="session")
def items(settings) -> list[QAItem]:
    """One item of each of four kinds: zh fact, en fact, multi, unanswerable."""
    allitems = load_dataset(settings.path(settings.eval.dataset))
    want = [("zh", "fact"), ("en", "fact"), ("zh", "multi"), ("en", "unanswerable")]
    return [next(i for i in allitems if (i.lang, i.type) == w) for w in want]


@pytest.fixture(scope="session")
def small_run(engine, items) -> EvalRun:
    return run_eval(engine, items, label="small", batch_size=3)  # 3: the run spans two batches


@pytest.fixture
def health_server():
    """A loopback HTTP server whose /healthz answers ``state["status"]``; yields (url, state)."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    state = {"status": 200, "hits": 0}

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as uvicorn does

        def do_GET(self):
            state["hits"] += 1
            body = b'{"status": "ok"}'
            self.send_response(state["status"] if self.path == "/healthz" else 404)
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{srv.server_address[1]}", state
    srv.shutdown()
    srv.server_close()
