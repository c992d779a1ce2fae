"""POST /api/ask (JSON) and the app's other plain routes, against the fake engine."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from rag.request import Filters
from ui.app import create_app
from ui.feedback import FeedbackStore

KEYS = {"question", "answer", "refused", "citations", "retrieved", "timings_ms"}


@pytest.fixture(scope="module")
def client(fake_app) -> TestClient:
    return TestClient(fake_app, raise_server_exceptions=False)


def test_ask_returns_the_answer_result_schema(client, fake_engine):
    r = client.post("/api/ask", json={"question": "工作组关于资产申报提出了什么建议？"})
    assert r.status_code == 200
    data = r.json()
    assert set(data) == KEYS and not data["refused"] and data["citations"]
    c = data["citations"][0]
    assert set(c) == {"doc_id", "symbol", "para", "sub", "label_en", "label_zh", "quote", "url"}
    assert c["url"].startswith(f"/source/{c['doc_id']}#p{c['para']}")


def test_filters_k_and_history_reach_the_engine(client, fake_engine):
    body = {"question": "资产申报", "doc_ids": ["wg4-report-2017"], "bodies": ["WG.4"], "years": [2017], "k": 5,
            "history": [["先前的问题", "先前的回答"]]}
    r = client.post("/api/ask", json=body)
    assert r.status_code == 200
    call = fake_engine.calls[-1]
    assert call["filters"] == Filters(("wg4-report-2017",), ("WG.4",), (2017,))
    assert call["k"] == 5 and call["history"] == (("先前的问题", "先前的回答"),)
    assert {c["doc_id"] for c in r.json()["citations"]} == {"wg4-report-2017"}


def test_html_in_the_question_is_just_text(client):
    r = client.post("/api/ask", json={"question": "<script>alert(1)</script> 资产申报"})
    assert r.status_code == 200 and r.json()["question"] == "<script>alert(1)</script> 资产申报"
    assert r.headers["content-type"].startswith("application/json")


@pytest.mark.parametrize("body, status, message", [
    ({"question": ""}, 422, "the question is empty"),
    ({"question": " \n\t "}, 422, "the question is empty"),
    ({"question": "字" * 2001}, 422, "the question has 2001 characters; the limit is 2000"),
    ({"question": "资产\x00申报"}, 422, "control character (U+0000)"),
    ({"question": "资产\u200b申报"}, 422, "control character (U+200B)"),
    ({"question": 42}, 422, "field 'question'"),
    ({}, 422, "field 'question' is required"),
    ({"question": "x", "top_k": 3}, 422, "unknown field 'top_k'; allowed: question, doc_ids"),
    ({"question": "x", "k": 0}, 422, "field 'k'"),
    ({"question": "x", "years": ["twenty"]}, 422, "field 'years.0'"),
    ({"question": "x", "doc_ids": ["../../etc/passwd"]}, 422, "unknown document '../../etc/passwd'; allowed: "),
    (["question"], 400, "must be a JSON object, got list"),
])
def test_bad_input_is_a_one_line_error_never_a_traceback(client, body, status, message):
    r = client.post("/api/ask", json=body)
    assert r.status_code == status, r.text
    assert set(r.json()) == {"error"} and message in r.json()["error"]
    assert "Traceback" not in r.text


def test_malformed_json_is_400(client):
    r = client.post("/api/ask", content=b"{not json", headers={"content-type": "application/json"})
    assert r.status_code == 400 and "JSON object" in r.json()["error"]
    r = client.post("/api/ask", content=b"\xff\xfe", headers={"content-type": "application/json"})
    assert r.status_code == 400


class _Broken:
    def __init__(self, settings, corpus, exc):
        self.settings, self.corpus, self.exc = settings, corpus, exc

    def request(self, question, **kw):
        from rag.request import AskRequest

        return AskRequest(question)

    def ask_batch(self, requests):
        raise self.exc


def test_engine_failures_are_clean_json(settings, corpus, tmp_path):
    from rag.errors import IndexStateError

    for exc, status, text in [
        (IndexStateError("no index at 'data/index'; build it with: uncac-qa ingest"), 503, "uncac-qa ingest"),
        (RuntimeError("secret internal detail"), 500, "internal error"),
    ]:
        app = create_app(_Broken(settings, corpus, exc), store=FeedbackStore(tmp_path / "f.sqlite3"))
        r = TestClient(app, raise_server_exceptions=False).post("/api/ask", json={"question": "资产申报"})
        assert r.status_code == status and text in r.json()["error"]
        assert "secret internal detail" not in r.text and "Traceback" not in r.text


def test_health_widget_redirect_and_no_openapi(client):
    assert client.get("/healthz").json()["paragraphs"] > 300
    r = client.get("/widget?lang=en", follow_redirects=False)
    assert r.status_code == 307 and r.headers["location"] == "/widget/?lang=en"
    assert client.get("/docs").status_code == 404 or "swagger" not in client.get("/docs").text.lower()
