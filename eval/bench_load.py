"""The load section of ``make bench`` (``python -m eval.bench --load-only``): ``uncac-qa serve``
started as its own process on a free loopback port (so the load generator and the server do not share
a GIL; what is measured is what ``make run`` serves), then :mod:`eval.load` drives it through
:data:`LOAD_SCENARIOS` with a ``/healthz`` prober throughout. Each scenario's figures are printed beside
the hardening issue's targets (:data:`LOAD_TARGETS`) as PASS/MISS; nothing is asserted.

Example::

    print_load([], seconds=10)                               # a quick look, own server
    print_load([], url="http://127.0.0.1:7860")              # an already running server
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eval.report.render import render_text
from rag.config import ROOT


@dataclass(frozen=True)
class LoadScenario:
    """One load run: ``users`` asking back to back (``think_s`` 0) or every ``think_s`` seconds."""

    name: str
    users: int
    think_s: float
    duration_s: float


LOAD_SCENARIOS: tuple[LoadScenario, ...] = (
    LoadScenario("50 users back to back", 50, 0.0, 60.0),
    LoadScenario("100 users back to back", 100, 0.0, 30.0),
    LoadScenario("50 users every 5 s", 50, 5.0, 60.0),
)


@dataclass(frozen=True)
class LoadTarget:
    """A target of the hardening issue: ``LoadReport.<metric> <op> value`` in scenario ``scenario``."""

    scenario: int  # index into LOAD_SCENARIOS
    metric: str  # a LoadReport field
    op: str  # ">=", "<=", "<" or "=="
    value: float
    label: str


LOAD_TARGETS: tuple[LoadTarget, ...] = (
    LoadTarget(0, "answers_per_s", ">=", 30, "answers/s >= 30"),
    LoadTarget(0, "latency_p95_ms", "<=", 2000, "p95 <= 2 s"),
    LoadTarget(2, "latency_p95_ms", "<=", 300, "p95 <= 300 ms"),
    *(LoadTarget(i, "health_p95_ms", "<", 100, "/healthz p95 < 100 ms") for i in range(len(LOAD_SCENARIOS))),
    *(LoadTarget(i, "errors", "==", 0, "no errors") for i in range(len(LOAD_SCENARIOS))),
    *(LoadTarget(i, "uncited", "==", 0, "every answer cited or refused") for i in range(len(LOAD_SCENARIOS))),
)

_OPS: dict[str, Callable[[float, float], bool]] = {
    ">=": lambda a, b: a >= b, "<=": lambda a, b: a <= b, "<": lambda a, b: a < b, "==": lambda a, b: a == b,
}


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def served(cli_args: Sequence[str], *, start_timeout_s: float = 300.0) -> Iterator[str]:
    """``uncac-qa serve`` as a child process on a free loopback port; yields its base URL once
    ``GET /healthz`` answers, and stops it afterwards. Its output goes to a temp file, shown if it dies.

    Example::

        with served([]) as url:
            print(run_load(url, users=10, duration_s=5).to_text())
    """
    import httpx

    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    env = dict(os.environ, HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", TOKENIZERS_PARALLELISM="false",
               GRADIO_ANALYTICS_ENABLED="False")
    cmd = [sys.executable, "-m", "rag", *cli_args, "serve", "--host", "127.0.0.1", "--port", str(port)]
    with tempfile.TemporaryFile() as log:
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + start_timeout_s
            while True:
                if proc.poll() is not None:
                    log.seek(0)
                    tail = log.read().decode(errors="replace").strip()[-1500:]
                    raise RuntimeError(f"`{' '.join(cmd[1:])}` exited {proc.returncode} before serving:\n{tail}")
                try:
                    if httpx.get(url + "/healthz", timeout=2, trust_env=False).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError(f"`{' '.join(cmd[1:])}` did not answer /healthz within {start_timeout_s:g} s")
                time.sleep(0.5)
            yield url
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def bench_load(url: str, scenarios: Sequence[LoadScenario], seconds: float | None = None) -> list[Any]:
    """Run each scenario against ``url`` (``seconds`` overrides every duration); their LoadReports."""
    from eval.load import run_load

    run_load(url, users=4, duration_s=3)  # warm-up, not reported: jieba, first torch calls, keep-alive
    reports = []
    for sc in scenarios:
        duration = seconds or sc.duration_s
        print(f"load: {sc.name} for {duration:g} s ...", file=sys.stderr)
        reports.append(run_load(url, sc.users, duration, sc.think_s))
        time.sleep(1)  # let the server finish what the last scenario left queued
    return reports


def load_tables(scenarios: Sequence[LoadScenario], reports: Sequence[Any]) -> tuple[list[list[str]], list[list[str]]]:
    """The load table (one row per scenario) and the targets table (target, measured, PASS/MISS)."""

    def f(x: float | None) -> str:
        return "–" if x is None else f"{x:.0f}"

    rows = [["load scenario", "s", "answers", "answers/s", "p50 ms", "p95 ms", "p99 ms", "errors", "shed",
             "uncited", "/healthz p50 ms", "p95 ms", "max ms", "client CPU", "loop lag p95 ms"]]
    for sc, r in zip(scenarios, reports):
        rows.append([sc.name, f"{r.duration_s:g}", str(r.answers), f"{r.answers_per_s:.1f}", f(r.latency_p50_ms),
                     f(r.latency_p95_ms), f(r.latency_p99_ms), str(r.errors), str(r.shed), str(r.uncited),
                     f(r.health_p50_ms), f(r.health_p95_ms), f(r.health_max_ms),
                     f"{r.client_cpu_s / max(r.elapsed_s, 1e-9):.0%}", f(r.loop_lag_p95_ms)])
    targets = [["target", "scenario", "measured", "verdict"]]
    for t in LOAD_TARGETS:
        if t.scenario >= len(reports):
            continue
        got = getattr(reports[t.scenario], t.metric)
        verdict = "MISS" if got is None or not _OPS[t.op](got, t.value) else "PASS"
        targets.append([t.label, scenarios[t.scenario].name, "–" if got is None else f"{got:g}", verdict])
    return rows, targets


def print_load(cli_args: Sequence[str], *, url: str | None = None, seconds: float | None = None,
               json_path: str | None = None) -> int:
    """Run :data:`LOAD_SCENARIOS` against ``url``, or against a server started with ``cli_args`` (the
    global ``--config``/``--set`` options); print the load and targets tables, optionally write the
    reports as JSON to ``json_path``. ``seconds`` overrides every scenario's duration. Returns 0."""
    if url:
        reports = bench_load(url, LOAD_SCENARIOS, seconds)
    else:
        print("starting `uncac-qa serve` on a free loopback port ...", file=sys.stderr)
        with served(cli_args) as started:
            reports = bench_load(started, LOAD_SCENARIOS, seconds)
    rows, targets = load_tables(LOAD_SCENARIOS, reports)
    print(render_text(rows))
    print()
    print(render_text(targets))
    if json_path:
        data = [{"scenario": sc.name, **r.to_json()} for sc, r in zip(LOAD_SCENARIOS, reports)]
        Path(json_path).write_text(json.dumps(data, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return 0
