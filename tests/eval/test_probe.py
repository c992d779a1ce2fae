"""The /healthz prober's own process, against a tiny stdlib server (``health_server``, conftest.py)."""

from __future__ import annotations


def test_health_prober_process_probes_until_stopped(health_server):
    import time

    from eval.probe import HealthProber

    url, state = health_server
    with HealthProber(url, interval_s=0.05, timeout_s=2) as p:
        time.sleep(0.5)
        state["status"] = 500
        time.sleep(0.3)
    assert len(p.probes) == state["hits"] >= 8
    oks = [ok for _, ok in p.probes]
    assert oks[0] and not oks[-1] and oks == sorted(oks, reverse=True)  # 200s, then 500s, nothing else
    assert all(0 <= lat < 2 for lat, _ in p.probes)


def test_health_prober_counts_a_dead_server_as_failures():
    import time

    from eval.probe import HealthProber

    with HealthProber("http://127.0.0.1:9", interval_s=0.05, timeout_s=1) as p:  # port 9: nobody listens
        time.sleep(0.3)
    assert len(p.probes) >= 3 and not any(ok for _, ok in p.probes)
