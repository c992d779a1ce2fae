"""Load generator for a running server (``python -m eval.load``; the load section of ``make bench``).

Simulated delegates ask real questions over HTTP while a prober checks that the server stays alive:

- ``users`` asyncio tasks share ONE ``httpx.AsyncClient`` whose pool holds a connection for every user
  (plus the prober), so nobody waits for a connection inside the client;
- each user asks ``POST /api/ask`` back to back (``think_s=0``), or starts a question every
  ``think_s`` seconds (paced; each user's first start is jittered over one period so users do not
  march in step). Questions are drawn round-robin from a fixed list: by default every question of
  ``eval/data/qa.jsonl``, Chinese and English, answerable and not, so the answers are real;
- a prober hits ``GET /healthz`` every ``health_interval_s`` for as long as any user is asking, from a
  process of its own (:mod:`eval.probe`): probed from the users' event loop, a health check waits
  behind the answers that loop is reading and measures the client, not the server (10× too slow at
  p95 with 50 users).

Every response is classified once (:func:`classify`): an *answer* (200 with a JSON object; it is
"cited or refused" when ``refused`` is true or ``citations`` is non-empty, see
``rag.result.AnswerResult.to_json``), *shed* (503 with ``Retry-After``: the server's bounded queue
saying "not now", an expected outcome under overload, which a user honours by waiting that long), or
an *error* (any other status, a 503 without ``Retry-After``, a connection error or timeout, a body that
is not a JSON object). Latency percentiles are over answers only: a shed reply is fast and would flatter
them. Users stop starting questions at ``duration_s``; questions already in flight are waited for and
counted, so ``answers_per_s`` is answers over the whole wall time (the slowest answers are never cut).

The client is kept cheap on purpose (the server shares the machine's cores): request bodies are encoded
once, a body is parsed only for the two fields the check needs, and the report carries the client's own
CPU seconds and its event-loop lag so a client bottleneck shows instead of passing for server latency.

Example::

    python -m eval.load --url http://127.0.0.1:7860 --users 50 --duration 60
    python -m eval.load --url http://127.0.0.1:7860 --users 50 --duration 60 --think 5 --json paced.json

    report = run_load("http://127.0.0.1:7860", users=10, duration_s=5)
    print(report.to_text())
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import random
import sys
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import httpx

from eval.dataset import load_dataset
from eval.load_report import ANSWER, ERROR, SHED, LoadReport, Probe, Sample, build_report, classify  # noqa: F401
from eval.probe import HealthProber

DATASET = Path(__file__).resolve().parent / "data" / "qa.jsonl"

# Where /healthz is probed from: a process of its own (real servers), or the users' loop (mock transports).
PROBERS = ("process", "inline")


def default_questions(path: str | Path = DATASET) -> tuple[str, ...]:
    """Every question of the evaluation set, in file order (Chinese and English, answerable or not).

    >>> qs = default_questions(); len(qs) > 50 and any("工作组" in q for q in qs)
    True
    """
    return tuple(item.question for item in load_dataset(path))


_HEADERS = {"content-type": "application/json"}


async def _ask(client: httpx.AsyncClient, user: int, body: bytes) -> Sample:
    t = time.perf_counter()
    try:
        r = await client.post("/api/ask", content=body, headers=_HEADERS)
    except httpx.TimeoutException:
        return Sample(user, 0, time.perf_counter() - t, ERROR, error="timeout")
    except httpx.HTTPError as e:  # ConnectError, RemoteProtocolError, ReadError, …
        return Sample(user, 0, time.perf_counter() - t, ERROR, error=type(e).__name__)
    return classify(user, time.perf_counter() - t, r.status_code, r.headers, r.content)


async def arun_load(
    url: str,
    users: int,
    duration_s: float,
    think_s: float = 0.0,
    questions: Iterable[str] | None = None,
    health_interval_s: float = 0.5,
    *,
    timeout_s: float = 60.0,
    health_timeout_s: float = 10.0,
    honor_retry_after: bool = True,
    max_backoff_s: float = 5.0,
    error_pause_s: float = 0.1,
    seed: int = 0,
    transport: httpx.AsyncBaseTransport | None = None,
    prober: str | None = None,
) -> LoadReport:
    """:func:`run_load` inside an already running event loop."""
    prober = prober or ("inline" if transport is not None else "process")  # a child cannot see a mock transport
    if prober not in PROBERS:
        raise ValueError(f"prober {prober!r} is not supported, must be one of {PROBERS}")
    if isinstance(users, bool) or not isinstance(users, int) or users < 1:
        raise ValueError(f"users must be a positive integer, got {users!r}")
    if not duration_s > 0:
        raise ValueError(f"duration_s must be > 0 seconds, got {duration_s!r}")
    if think_s < 0 or health_interval_s <= 0:
        raise ValueError(f"think_s must be >= 0 and health_interval_s > 0, got {think_s!r} and {health_interval_s!r}")
    qs = tuple(default_questions() if questions is None else questions)
    if not qs:
        raise ValueError("questions is empty: give at least one question")
    # Encoded once: per request the client only sends bytes it already has.
    bodies = itertools.cycle([json.dumps({"question": q}, ensure_ascii=False).encode() for q in qs])

    samples: list[Sample] = []
    probes: list[Probe] = []
    stop = asyncio.Event()
    lags: list[float] = []
    # A connection for every user and the prober, so no request queues inside the client's pool.
    limits = httpx.Limits(max_connections=users + 2, max_keepalive_connections=users + 2)
    client = httpx.AsyncClient(base_url=url, limits=limits, timeout=httpx.Timeout(timeout_s), trust_env=False,
                               transport=transport)

    async def user(uid: int) -> None:
        rnd = random.Random(seed * 1_000_003 + uid)
        if think_s:
            await asyncio.sleep(rnd.uniform(0, think_s))  # spread the first starts over one period
        next_t = time.perf_counter()
        while next_t < deadline:
            s = await _ask(client, uid, next(bodies))
            samples.append(s)
            now = time.perf_counter()
            pause = 0.0
            if s.outcome == SHED and honor_retry_after:
                pause = min(s.retry_after_s or 0.0, max_backoff_s)
            elif s.outcome == ERROR:
                pause = error_pause_s  # a dead server refuses instantly: do not spin on it
            # Paced: keep the user's own rhythm, but an answer slower than a period is not made up for
            # with a burst of catch-up questions.
            next_t = max(next_t + think_s, now + pause) if think_s else now + pause
            if next_t > now and next_t < deadline:
                await asyncio.sleep(next_t - now)

    async def inline_prober() -> None:
        next_t = time.perf_counter()
        while not stop.is_set():
            t = time.perf_counter()
            try:
                ok = (await client.get("/healthz", timeout=health_timeout_s)).status_code == 200
            except httpx.HTTPError:
                ok = False
            probes.append(Probe(time.perf_counter() - t, ok))
            next_t = max(next_t + health_interval_s, time.perf_counter())
            try:
                await asyncio.wait_for(stop.wait(), next_t - time.perf_counter())
            except TimeoutError:
                pass

    async def lag_monitor(tick: float = 0.05) -> None:
        while not stop.is_set():
            t = time.perf_counter()
            await asyncio.sleep(tick)
            lags.append(max(0.0, time.perf_counter() - t - tick))

    async with client:
        outside = HealthProber(url, health_interval_s, health_timeout_s) if prober == "process" else None
        if outside:
            await asyncio.to_thread(outside.__enter__)
        cpu0 = time.thread_time()  # the loop's thread only: excludes an in-process server's threads
        t0 = time.perf_counter()
        deadline = t0 + duration_s
        side = [asyncio.create_task(lag_monitor())]
        if not outside:
            side.append(asyncio.create_task(inline_prober()))
        try:
            await asyncio.gather(*(user(u) for u in range(users)))
        finally:
            elapsed = time.perf_counter() - t0
            stop.set()
            await asyncio.gather(*side)
            if outside:
                await asyncio.to_thread(outside.__exit__, None, None, None)
                probes = [Probe(lat, ok) for lat, ok in outside.probes]
        cpu = time.thread_time() - cpu0
    return build_report(users, duration_s, think_s, samples, probes, elapsed_s=elapsed, client_cpu_s=cpu,
                        loop_lags_s=lags)


def run_load(
    url: str,
    users: int,
    duration_s: float,
    think_s: float = 0.0,
    questions: Iterable[str] | None = None,
    health_interval_s: float = 0.5,
    **options: Any,
) -> LoadReport:
    """Run ``users`` simulated delegates against the server at ``url`` for ``duration_s`` seconds.

    Args:
        url: the server's base URL, e.g. ``http://127.0.0.1:7860``.
        users: concurrent users (each one connection of the shared client).
        duration_s: how long users keep starting questions; in-flight ones are then awaited.
        think_s: 0 for back to back, else each user starts a question every ``think_s`` seconds.
        questions: the questions, asked round-robin across all users (default: :func:`default_questions`).
        health_interval_s: how often the prober calls ``GET /healthz``.
        **options: ``timeout_s`` (60, per question), ``health_timeout_s`` (10), ``honor_retry_after``
            (True: a shed user waits Retry-After, at most ``max_backoff_s`` 5 s), ``error_pause_s``
            (0.1, after an error), ``seed`` (0, the start jitter), ``transport`` (an httpx transport,
            for tests), ``prober`` ("process", the default; "inline" probes from the users' event loop,
            the default with a ``transport``). See :func:`arun_load`.

    Returns:
        The :class:`LoadReport`.

    Example::

        report = run_load("http://127.0.0.1:7860", users=50, duration_s=60, think_s=5)
        assert report.errors == 0, report.to_text()
    """
    run = lambda: asyncio.run(arun_load(url, users, duration_s, think_s, questions, health_interval_s, **options))  # noqa: E731
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return run()
    # Called from a thread that already runs a loop (Playwright's sync API leaves one in pytest's
    # main thread): asyncio.run would refuse, so the load runs on a thread of its own.
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(1) as pool:
        return pool.submit(run).result()


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m eval.load", description=__doc__.splitlines()[0])
    p.add_argument("--url", default="http://127.0.0.1:7860", help="the server (default http://127.0.0.1:7860)")
    p.add_argument("--users", type=int, default=50, help="concurrent users (default 50)")
    p.add_argument("--duration", type=float, default=60.0, help="seconds users keep asking (default 60)")
    p.add_argument("--think", type=float, default=0.0, help="seconds between a user's questions (default 0: back to back)")
    p.add_argument("--health-interval", type=float, default=0.5, help="seconds between /healthz probes (default 0.5)")
    p.add_argument("--timeout", type=float, default=60.0, help="seconds before a question counts as an error (default 60)")
    p.add_argument("--dataset", default=str(DATASET), help="JSONL whose questions are asked (default eval/data/qa.jsonl)")
    p.add_argument("--seed", type=int, default=0, help="seed of the paced users' start jitter")
    p.add_argument("--json", metavar="PATH", help="also write the report as JSON here")
    args = p.parse_args(argv)
    try:
        with httpx.Client(trust_env=False, timeout=10) as c:
            c.get(args.url.rstrip("/") + "/healthz").raise_for_status()
    except httpx.HTTPError as e:
        print(f"error: no server answering GET {args.url.rstrip('/')}/healthz ({e})", file=sys.stderr)
        return 2
    pace = "back to back" if not args.think else f"every {args.think:g} s"
    print(f"{args.users} users {pace} for {args.duration:g} s against {args.url} ...", file=sys.stderr)
    report = run_load(args.url, args.users, args.duration, args.think, default_questions(args.dataset),
                      args.health_interval, timeout_s=args.timeout, seed=args.seed)
    print(report.to_text())
    if args.json:
        Path(args.json).write_text(json.dumps(report.to_json(), ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
