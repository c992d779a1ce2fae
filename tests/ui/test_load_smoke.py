"""The load generator against the whole app around the real engine (``real_server``: uvicorn on a
loopback port, tests/ui/conftest.py): 10 users back to back for 5 s. Behaviour only, never speed
(the speed targets are ``make bench``'s): nothing fails, nobody starves, every answer is cited or
refused, and ``/healthz`` keeps answering while every user is waiting for an answer."""

from __future__ import annotations

import pytest

from eval.load import run_load

pytestmark = pytest.mark.slow

USERS = 10
SECONDS = 5.0
HEALTH_INTERVAL_S = 0.2
# Probes expected ~ SECONDS / HEALTH_INTERVAL_S = 25; a third of that still shows the prober ran
# throughout, even when the test server shares the test process's GIL and each probe is slow.
MIN_PROBES = 8


def test_ten_users_back_to_back(real_server):
    r = run_load(real_server.url, USERS, SECONDS, health_interval_s=HEALTH_INTERVAL_S)
    report = "\n" + r.to_text()
    assert r.errors == 0, report  # no 5xx, 4xx, connection error, timeout or non-JSON body
    assert r.shed == 0, report  # 10 users are far from any queue bound: not even an expected 503
    assert r.uncited == 0, report
    assert r.answers == r.requests and min(r.answers_per_user) >= 1, report
    assert r.health_failures == 0 and r.health_probes >= MIN_PROBES, report
