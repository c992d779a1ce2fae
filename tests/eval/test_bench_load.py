"""The load section of ``make bench``: scenario rows and the PASS/MISS verdict of every target."""

from __future__ import annotations

from eval.bench_load import LOAD_SCENARIOS, LOAD_TARGETS, load_tables
from eval.load import ANSWER, Probe, Sample, build_report


def _report(latency_s: float, users: int = 2):
    samples = [Sample(u, 200, latency_s, ANSWER, grounded=True) for u in range(users) for _ in range(40)]
    return build_report(users, 1.0, 0.0, samples, [Probe(0.01, True)], elapsed_s=1.0)


def test_targets_pass_and_miss():
    fast, slow = _report(0.1), _report(3.0)
    rows, targets = load_tables(LOAD_SCENARIOS[:1], [slow])
    assert len(rows) == 2 and rows[1][0] == LOAD_SCENARIOS[0].name and rows[1][3] == "80.0"
    # only the first scenario's targets are judged when only it ran
    assert len(targets) - 1 == sum(1 for t in LOAD_TARGETS if t.scenario == 0)
    verdicts = {t[0]: t[3] for t in targets[1:]}
    assert verdicts["answers/s >= 30"] == "PASS" and verdicts["p95 <= 2 s"] == "MISS"
    _, targets = load_tables(LOAD_SCENARIOS, [fast, fast, fast])
    assert all(t[3] == "PASS" for t in targets[1:]) and len(targets) - 1 == len(LOAD_TARGETS)
