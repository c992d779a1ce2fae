"""Gradio's own API, through gradio_client, against the app around the real engine."""

from __future__ import annotations

import pytest
from gradio_client import Client
from gradio_client.exceptions import AppError

pytestmark = pytest.mark.slow

ZH = "工作组关于资产申报提出了什么建议？"


@pytest.fixture(scope="module")
def client(real_server):
    c = Client(real_server.url + "/", verbose=False, analytics_enabled=False, download_files=False)
    yield c
    c.close()  # ends its heartbeat stream, so the server shuts down promptly


def test_ask_endpoint_is_documented_with_its_parameters(client):
    info = client.view_api(print_info=False, return_format="dict")
    ask = info["named_endpoints"]["/ask"]
    assert [p["parameter_name"] for p in ask["parameters"]] == ["question", "doc_ids", "bodies", "years", "k", "history"]
    assert "/respond" not in info["named_endpoints"]  # the chat's internals stay private


def test_ask_returns_the_same_object_as_the_engine(client, engine):
    got = client.predict(ZH, api_name="/ask")
    want = engine.ask(ZH).to_json()
    assert set(got) == set(want)
    assert got["citations"] == want["citations"] and got["refused"] == want["refused"]
    assert got["citations"], "the Chinese question should be answered with citations"


def test_ask_with_filters_and_k(client):
    got = client.predict(question=ZH, doc_ids=["wg4-report-2017"], k=5, api_name="/ask")
    assert {c["doc_id"] for c in got["citations"]} <= {"wg4-report-2017"}
    assert {r["doc_id"] for r in got["retrieved"]} <= {"wg4-report-2017"}


@pytest.mark.parametrize("question, message", [
    ("   ", "the question is empty"),
    ("字" * 2001, "the limit is 2000"),
    ("资产\x00申报", "control character"),
])
def test_bad_input_is_an_app_error_with_the_message(client, question, message):
    with pytest.raises(AppError, match=message):
        client.predict(question, api_name="/ask")


def test_json_endpoint_matches(real_server, engine):
    import httpx

    r = httpx.post(real_server.url + "/api/ask", json={"question": ZH}, timeout=60)
    assert r.status_code == 200 and r.json()["citations"] == engine.ask(ZH).to_json()["citations"]
    r = httpx.post(real_server.url + "/api/ask", json={"question": ""}, timeout=60)
    assert r.status_code == 422 and "empty" in r.json()["error"]


@pytest.mark.parametrize("kwargs, message", [
    ({"years": ["twenty"]}, "field 'years.0'"),
    ({"k": True}, "field 'k'"),
    ({"history": [["only one side"]]}, "field 'history.0.1' is required"),
])
def test_bad_fields_are_one_line_naming_the_field(client, kwargs, message):
    # once "invalid literal for int() with base 10: 'twenty'", and k = true was taken as k = 1
    with pytest.raises(AppError, match=message):
        client.predict(question=ZH, api_name="/ask", **kwargs)
