"""What a load run measured: each request classified once, and the report built from the samples.

:func:`classify` turns one response into a :class:`Sample`: an *answer* (200 with a JSON object,
"cited or refused" when ``refused`` is true or ``citations`` is non-empty), *shed* (503 with
``Retry-After``: the bounded queue saying "not now") or an *error*. :func:`build_report` makes the
:class:`LoadReport`; latency percentiles are over answers only (a shed reply is fast and would
flatter them). The generator that produces the samples is :mod:`eval.load`.

Example::

    s = classify(0, 0.12, 200, {}, b'{"refused": false, "citations": [{}]}')
    s.outcome, s.cited_or_refused   # ('answer', True)
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import httpx

from eval.metrics import percentile

# Outcomes of one request (Sample.outcome).
ANSWER, SHED, ERROR = "answer", "shed", "error"


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
