"""The load generator's arithmetic and bookkeeping: exact report maths on hand-made samples (oracle),
then whole runs against an ``httpx.MockTransport`` server whose every reply is counted, so the
report's answer / shed / error / uncited counts must equal what the fake server actually sent."""

from __future__ import annotations

import asyncio
import json
from collections import Counter

import httpx
import pytest

from eval.load import (
    ANSWER,
    ERROR,
    SHED,
    Probe,
    Sample,
    build_report,
    classify,
    default_questions,
    run_load,
)


def test_report_maths_on_known_samples():
    # latencies 1..100 ms over users 0 and 1 (user 2 never answered); nearest rank: p50 = 50, p95 = 95
    answers = [Sample(i % 2, 200, (i + 1) / 1000, ANSWER, grounded=i != 7, refused=i < 3) for i in range(100)]
    others = [
        Sample(0, 503, 0.0005, SHED, retry_after_s=1.0),
        Sample(1, 503, 0.0005, SHED, retry_after_s=1.0),
        Sample(1, 500, 0.002, ERROR, error="http 500"),
        Sample(2, 0, 0.001, ERROR, error="ConnectError"),
        Sample(2, 0, 0.001, ERROR, error="ConnectError"),
    ]
    probes = [Probe(x / 1000, ok) for x, ok in [(3, True), (1, True), (2, False), (50, True)]]
    r = build_report(3, 10.0, 0.0, others[:2] + answers + others[2:], probes, elapsed_s=12.5, client_cpu_s=0.4,
                     loop_lags_s=[0.001] * 19 + [0.002, 0.003])
    assert (r.requests, r.answers, r.shed, r.errors, r.uncited, r.refused) == (105, 100, 2, 3, 1, 3)
    assert r.error_kinds == (("ConnectError", 2), ("http 500", 1))
    assert r.answers_per_s == 8.0  # 100 answers over the whole 12.5 s wall, not the 10 s of asking
    assert (r.latency_p50_ms, r.latency_p95_ms, r.latency_p99_ms, r.latency_max_ms) == (50.0, 95.0, 99.0, 100.0)
    assert r.answers_per_user == (50, 50, 0)
    assert (r.health_probes, r.health_failures) == (4, 1)
    assert (r.health_p50_ms, r.health_p95_ms, r.health_max_ms) == (2.0, 50.0, 50.0)
    assert (r.loop_lag_p95_ms, r.loop_lag_max_ms) == (2.0, 3.0)  # rank ceil(.95 * 21) = 20

    data = json.loads(json.dumps(r.to_json()))
    assert data["error_kinds"] == {"ConnectError": 2, "http 500": 1} and data["answers_per_user"] == [50, 50, 0]
    text = r.to_text()
    assert len(text.splitlines()) == len(set(line.split("  ")[0] for line in text.splitlines()))  # one per metric
    assert "answers/s" in text and "8.0" in text and "ConnectError ×2" in text


def test_empty_report_has_no_statistics():
    r = build_report(2, 1.0, 0.0, [], [], elapsed_s=1.0)
    assert (r.answers, r.answers_per_s, r.latency_p95_ms, r.health_p95_ms) == (0, 0.0, None, None)
    assert r.answers_per_user == (0, 0)
    assert "–" in r.to_text()


@pytest.mark.parametrize("status, headers, body, outcome, grounded, error", [
    (200, {}, b'{"refused": false, "citations": [{"para": 5}]}', ANSWER, True, ""),
    (200, {}, b'{"refused": true, "citations": []}', ANSWER, True, ""),
    (200, {}, b'{"refused": false, "citations": []}', ANSWER, False, ""),
    (200, {}, b'{"answer": "no refused flag, no citations"}', ANSWER, False, ""),
    (200, {}, b"<html>oops</html>", ERROR, False, "non-JSON body"),
    (200, {}, b"[1, 2]", ERROR, False, "non-JSON body"),
    (200, {}, b"\xff\xfe", ERROR, False, "non-JSON body"),
    (503, {"retry-after": "2"}, b'{"error": "busy"}', SHED, False, ""),
    (503, {"retry-after": "Wed, 21 Oct 2026 07:28:00 GMT"}, b"", SHED, False, ""),
    (503, {}, b'{"error": "index missing"}', ERROR, False, "http 503 without Retry-After"),
    (500, {}, b'{"error": "internal"}', ERROR, False, "http 500"),
    (422, {}, b'{"error": "bad question"}', ERROR, False, "http 422"),
])
def test_classify(status, headers, body, outcome, grounded, error):
    s = classify(3, 0.25, status, httpx.Headers(headers), body)
    assert (s.user, s.status, s.latency_s, s.outcome, s.grounded, s.error) == (3, status, 0.25, outcome, grounded, error)
    if outcome == SHED:
        assert s.retry_after_s == (2.0 if headers["retry-after"] == "2" else 1.0)


# --- whole runs against a fake server ------------------------------------------------------------

KINDS = ["cited", "refused", "uncited", "shed", "boom", "garbage", "down", "slow"]


def fake_server(served: Counter, *, slow_s: float = 0.0, bad_health_every: int = 0) -> httpx.MockTransport:
    """Replies by the question's text (each one a kind of KINDS); counts every reply it gives."""

    async def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/healthz":
            served["health"] += 1
            if bad_health_every and served["health"] % bad_health_every == 0:
                served["health_failed"] += 1
                return httpx.Response(500)
            return httpx.Response(200, json={"status": "ok"})
        assert request.url.path == "/api/ask" and request.method == "POST"
        kind = json.loads(request.content)["question"]
        served[kind] += 1
        if kind == "down":
            raise httpx.ConnectError("connection refused", request=request)
        if kind == "slow":
            await asyncio.sleep(slow_s)
        return {
            "cited": lambda: httpx.Response(200, json={"refused": False, "citations": [{"para": 1}]}),
            "slow": lambda: httpx.Response(200, json={"refused": False, "citations": [{"para": 1}]}),
            "refused": lambda: httpx.Response(200, json={"refused": True, "citations": []}),
            "uncited": lambda: httpx.Response(200, json={"refused": False, "citations": []}),
            "shed": lambda: httpx.Response(503, headers={"Retry-After": "1"}, json={"error": "busy"}),
            "boom": lambda: httpx.Response(500, json={"error": "internal"}),
            "garbage": lambda: httpx.Response(200, text="<html>proxy error</html>"),
        }[kind]()

    return httpx.MockTransport(handler)


def test_run_counts_exactly_what_the_server_sent():
    served: Counter = Counter()
    r = run_load("http://fake", users=4, duration_s=0.6, questions=KINDS, health_interval_s=0.05,
                 transport=fake_server(served, slow_s=0.05, bad_health_every=3), max_backoff_s=0.01, error_pause_s=0)
    assert r.requests == sum(served[k] for k in KINDS) > len(KINDS)
    assert r.answers == served["cited"] + served["slow"] + served["refused"] + served["uncited"]
    assert r.shed == served["shed"] >= 1  # 503 + Retry-After: shed, not an error
    assert r.errors == served["boom"] + served["garbage"] + served["down"]
    assert dict(r.error_kinds) == {"http 500": served["boom"], "non-JSON body": served["garbage"],
                                   "ConnectError": served["down"]}
    assert r.uncited == served["uncited"] >= 1 and r.refused == served["refused"]
    assert (r.health_probes, r.health_failures) == (served["health"], served["health_failed"])
    assert r.health_probes >= 5 and r.health_failures >= 1
    assert all(n >= 1 for n in r.answers_per_user)
    # round robin over the shared list: no kind asked more than once per user ahead of another
    counts = [served[k] for k in KINDS]
    assert max(counts) - min(counts) <= 1
    # the "slow" answers (50 ms) are the top of the distribution, the instant ones its middle
    assert r.latency_p50_ms < 40 <= r.latency_max_ms


def test_paced_users_keep_their_rhythm():
    served: Counter = Counter()
    r = run_load("http://fake", users=5, duration_s=1.0, think_s=0.25, questions=["cited"],
                 transport=fake_server(served))
    # each user starts within the first period, then one question per 0.25 s until 1 s: 3 to 4 each
    assert all(3 <= n <= 4 for n in r.answers_per_user), r.answers_per_user
    assert r.errors == 0 and r.think_s == 0.25


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="users must be a positive integer, got 0"):
        run_load("http://fake", users=0, duration_s=1)
    with pytest.raises(ValueError, match="duration_s must be > 0"):
        run_load("http://fake", users=1, duration_s=0)
    with pytest.raises(ValueError, match="questions is empty"):
        run_load("http://fake", users=1, duration_s=1, questions=[])


def test_default_questions_are_the_evaluation_sets_in_both_languages():
    qs = default_questions()
    assert len(qs) == len(set(qs)) >= 50
    assert any("\u4e00" <= c <= "\u9fff" for c in qs[0]) and any(q.isascii() for q in qs)


# --- /healthz probed from its own process (health_server: tests/eval/conftest.py) -------------------


def test_run_load_can_probe_from_its_own_process_beside_a_mock(health_server):
    # the users' questions go to the mock; /healthz to the real little server, from the child process
    url, state = health_server
    served: Counter = Counter()
    r = run_load(url, users=2, duration_s=0.5, questions=["cited"], health_interval_s=0.05,
                 transport=fake_server(served), prober="process")
    assert served["health"] == 0 and r.health_probes == state["hits"] >= 5 and r.health_failures == 0
    with pytest.raises(ValueError, match=r"prober 'thread' is not supported, must be one of \('process', 'inline'\)"):
        run_load(url, users=1, duration_s=0.1, prober="thread")
