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
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import httpx

from eval.dataset import load_dataset
from eval.metrics import percentile
from eval.probe import HealthProber

DATASET = Path(__file__).resolve().parent / "data" / "qa.jsonl"

# Outcomes of one request (Sample.outcome).
ANSWER, SHED, ERROR = "answer", "shed", "error"
# Where /healthz is probed from: a process of its own (real servers), or the users' loop (mock transports).
PROBERS = ("process", "inline")


def default_questions(path: str | Path = DATASET) -> tuple[str, ...]:
    """Every question of the evaluation set, in file order (Chinese and English, answerable or not).

    >>> qs = default_questions(); len(qs) > 50 and any("工作组" in q for q in qs)
    True
    """
    return tuple(item.question for item in load_dataset(path))


@dataclass(frozen=True)
class Sample:
    """One ``POST /api/ask``: who asked, what came back and how long it took (seconds)."""

    user: int
    status: int  # HTTP status; 0 when no response came back (connection error, timeout)
    latency_s: float
    outcome: str  # ANSWER, SHED or ERROR
    grounded: bool = False  # an answer that is cited or refused
    refused: bool = False  # an answer that is a refusal ("not found in the documents")
    error: str = ""  # the error's kind, e.g. "http 500", "ConnectError", "non-JSON body"
    retry_after_s: float | None = None  # a shed reply's Retry-After


@dataclass(frozen=True)
class Probe:
    """One ``GET /healthz``: latency (seconds) and whether it answered 200."""

    latency_s: float
    ok: bool


def _retry_after(value: str | None) -> float | None:
    """Retry-After in seconds; an HTTP-date (or junk) counts as 1 s, since only its presence is the contract."""
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return 1.0


def classify(user: int, latency_s: float, status: int, headers: httpx.Headers | dict, body: bytes) -> Sample:
    """Sort one response into answer / shed / error, and check an answer is cited or refused.

    >>> classify(0, 0.1, 200, {}, b'{"refused": false, "citations": [{"para": 5}]}').grounded
    True
    >>> classify(0, 0.1, 200, {}, b'{"refused": false, "citations": []}').grounded
    False
    >>> classify(0, 0.0, 503, {"retry-after": "2"}, b"").outcome, classify(0, 0.0, 503, {}, b"").error
    ('shed', 'http 503 without Retry-After')
    """
    if status == 503:
        ra = _retry_after(headers.get("retry-after"))
        if ra is not None:
            return Sample(user, status, latency_s, SHED, retry_after_s=ra)
        return Sample(user, status, latency_s, ERROR, error="http 503 without Retry-After")
    if status != 200:
        return Sample(user, status, latency_s, ERROR, error=f"http {status}")
    try:
        obj = json.loads(body)
    except ValueError:  # UnicodeDecodeError is a ValueError too
        return Sample(user, status, latency_s, ERROR, error="non-JSON body")
    if not isinstance(obj, dict):
        return Sample(user, status, latency_s, ERROR, error="non-JSON body")
    refused = obj.get("refused") is True
    return Sample(user, status, latency_s, ANSWER, grounded=refused or bool(obj.get("citations")), refused=refused)


def _ms(x: float | None) -> float | None:
    return None if x is None else round(x * 1000, 1)


@dataclass(frozen=True)
class LoadReport:
    """What one load run measured. Latencies are milliseconds, nearest-rank percentiles
    (:func:`eval.metrics.percentile`), ``None`` when there was nothing to measure.

    ``latency_*`` are over answers only; ``health_*`` over every probe (a failed probe counts at the
    latency it failed after). ``answers_per_user`` lets a test check that nobody starved;
    ``client_cpu_s`` is the CPU time of the client's own thread and ``loop_lag_*`` how late the client's
    event loop woke up (sampled every 50 ms): a p95 lag near the latencies means the client, not the
    server, was slow; a lone large max is usually the OS scheduling another process.

    Example::

        >>> r = build_report(2, 1.0, 0.0, [Sample(0, 200, 0.2, ANSWER, True), Sample(1, 200, 0.4, ANSWER, True)],
        ...                  [Probe(0.01, True)], elapsed_s=1.0)
        >>> r.answers, r.answers_per_s, r.latency_p95_ms, r.errors
        (2, 2.0, 400.0, 0)
    """

    users: int
    duration_s: float  # when users stopped starting questions
    think_s: float  # 0: back to back
    elapsed_s: float  # wall time until the last in-flight answer came back
    requests: int
    answers: int
    answers_per_s: float
    latency_p50_ms: float | None
    latency_p95_ms: float | None
    latency_p99_ms: float | None
    latency_max_ms: float | None
    errors: int
    error_kinds: tuple[tuple[str, int], ...]  # (kind, count), most frequent first
    shed: int  # 503 with Retry-After
    uncited: int  # answers neither cited nor refused
    refused: int
    answers_per_user: tuple[int, ...]
    health_probes: int
    health_failures: int
    health_p50_ms: float | None
    health_p95_ms: float | None
    health_max_ms: float | None
    client_cpu_s: float = 0.0
    loop_lag_p95_ms: float | None = None
    loop_lag_max_ms: float | None = None

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict (``error_kinds`` as an object, ``answers_per_user`` as a list)."""
        out = asdict(self)
        out["error_kinds"] = dict(self.error_kinds)
        out["answers_per_user"] = list(self.answers_per_user)
        return out

    def to_text(self) -> str:
        """One line per metric, ``name  value``, for a terminal or a log."""

        def f(x: float | None, unit: str = " ms") -> str:
            return "–" if x is None else f"{x:.1f}{unit}"

        pace = "back to back" if not self.think_s else f"every {self.think_s:g} s"
        per_user = f"{min(self.answers_per_user)}–{max(self.answers_per_user)}" if self.answers_per_user else "–"
        kinds = ", ".join(f"{k} ×{n}" for k, n in self.error_kinds)
        lines = [
            ("users", f"{self.users} ({pace})"),
            ("duration", f"{self.duration_s:g} s (wall {self.elapsed_s:.1f} s)"),
            ("requests", str(self.requests)),
            ("answers", f"{self.answers} ({per_user} per user, {self.refused} refused)"),
            ("answers/s", f"{self.answers_per_s:.1f}"),
            ("latency p50", f(self.latency_p50_ms)),
            ("latency p95", f(self.latency_p95_ms)),
            ("latency p99", f(self.latency_p99_ms)),
            ("latency max", f(self.latency_max_ms)),
            ("errors", str(self.errors) + (f" ({kinds})" if kinds else "")),
            ("shed (503)", str(self.shed)),
            ("uncited", str(self.uncited)),
            ("/healthz probes", f"{self.health_probes} ({self.health_failures} failed)"),
            ("/healthz p50", f(self.health_p50_ms)),
            ("/healthz p95", f(self.health_p95_ms)),
            ("/healthz max", f(self.health_max_ms)),
            ("client CPU", f"{self.client_cpu_s:.1f} s ({self.client_cpu_s / max(self.elapsed_s, 1e-9):.0%} of a core)"),
            ("client loop lag p95", f(self.loop_lag_p95_ms)),
            ("client loop lag max", f(self.loop_lag_max_ms)),
        ]
        width = max(len(k) for k, _ in lines)
        return "\n".join(f"{k.ljust(width)}  {v}" for k, v in lines)


def build_report(
    users: int,
    duration_s: float,
    think_s: float,
    samples: Sequence[Sample],
    probes: Sequence[Probe],
    *,
    elapsed_s: float,
    client_cpu_s: float = 0.0,
    loop_lags_s: Sequence[float] = (),
) -> LoadReport:
    """Count and summarise raw samples; pure, so the maths is tested without a server."""
    answers = [s for s in samples if s.outcome == ANSWER]
    lat = [s.latency_s for s in answers]
    errors = Counter(s.error for s in samples if s.outcome == ERROR)
    per_user = Counter(s.user for s in answers)
    hl = [p.latency_s for p in probes]
    return LoadReport(
        users=users,
        duration_s=duration_s,
        think_s=think_s,
        elapsed_s=round(elapsed_s, 3),
        requests=len(samples),
        answers=len(answers),
        answers_per_s=round(len(answers) / elapsed_s, 2) if elapsed_s > 0 else 0.0,
        latency_p50_ms=_ms(percentile(lat, 50)),
        latency_p95_ms=_ms(percentile(lat, 95)),
        latency_p99_ms=_ms(percentile(lat, 99)),
        latency_max_ms=_ms(max(lat, default=None)),
        errors=sum(errors.values()),
        error_kinds=tuple(errors.most_common()),
        shed=sum(1 for s in samples if s.outcome == SHED),
        uncited=sum(1 for s in answers if not s.grounded),
        refused=sum(1 for s in answers if s.refused),
        answers_per_user=tuple(per_user.get(u, 0) for u in range(users)),
        health_probes=len(probes),
        health_failures=sum(1 for p in probes if not p.ok),
        health_p50_ms=_ms(percentile(hl, 50)),
        health_p95_ms=_ms(percentile(hl, 95)),
        health_max_ms=_ms(max(hl, default=None)),
        client_cpu_s=round(client_cpu_s, 2),
        loop_lag_p95_ms=_ms(percentile(loop_lags_s, 95)),
        loop_lag_max_ms=_ms(max(loop_lags_s, default=None)),
    )


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
