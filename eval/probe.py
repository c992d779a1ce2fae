"""The ``GET /healthz`` prober of :mod:`eval.load`, run in a process of its own.

Why a process: probed from the load generator's own event loop, a health check waits behind every
answer the loop is busy reading, so it measures the client. Against the same server under 50 back-to-
back users, the in-loop prober read /healthz p95 112 ms where an outside ``curl`` read 17 ms; with 300
users, 968 ms against 17 ms. A separate process (stdlib ``http.client``, one keep-alive connection,
nothing else imported) sees what a load balancer's health check would see.

Example::

    with HealthProber("http://127.0.0.1:7860", interval_s=0.5) as prober:
        ...  # put the server under load
    print(prober.probes)  # [(latency_s, ok), ...]
"""

from __future__ import annotations

import http.client
import multiprocessing
import time
from typing import Any
from urllib.parse import urlsplit


def probe_loop(url: str, interval_s: float, timeout_s: float, stop: Any, ready: Any, conn: Any) -> None:
    """Probe ``<url>/healthz`` every ``interval_s`` until ``stop`` is set; send ``[(latency_s, ok)]``.

    ``ok`` is an HTTP 200 within ``timeout_s``; a failed probe counts at the latency it failed after.
    The schedule is fixed, but a probe slower than the interval is followed at once, not by a burst.
    """
    parts = urlsplit(url)
    cls = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    path = parts.path.rstrip("/") + "/healthz"
    c: http.client.HTTPConnection | None = None
    out: list[tuple[float, bool]] = []
    ready.set()
    next_t = time.perf_counter()
    while not stop.is_set():
        t = time.perf_counter()
        try:
            if c is None:
                c = cls(parts.hostname, parts.port, timeout=timeout_s)
            c.request("GET", path)
            r = c.getresponse()
            r.read()
            ok = r.status == 200
            if r.will_close:
                c.close()
                c = None
        except (OSError, http.client.HTTPException):
            ok = False
            if c is not None:
                c.close()
            c = None
        out.append((time.perf_counter() - t, ok))
        next_t = max(next_t + interval_s, time.perf_counter())
        stop.wait(max(0.0, next_t - time.perf_counter()))
    conn.send(out)
    conn.close()


class HealthProber:
    """:func:`probe_loop` in a spawned process (never forked: the caller may hold torch threads).

    ``__enter__`` returns once the child is probing; ``__exit__`` stops it and fills ``probes``.
    """

    def __init__(self, url: str, interval_s: float = 0.5, timeout_s: float = 10.0, *, start_timeout_s: float = 60.0):
        self.url, self.interval_s, self.timeout_s, self.start_timeout_s = url, interval_s, timeout_s, start_timeout_s
        self.probes: list[tuple[float, bool]] = []
        ctx = multiprocessing.get_context("spawn")
        self._stop, self._ready = ctx.Event(), ctx.Event()
        self._recv, send = ctx.Pipe(duplex=False)
        self._proc = ctx.Process(target=probe_loop, args=(url, interval_s, timeout_s, self._stop, self._ready, send),
                                 name="healthz-prober", daemon=True)
        self._send = send

    def __enter__(self) -> HealthProber:
        self._proc.start()
        self._send.close()  # the child holds its end; EOF on ours then means the child died
        if not self._ready.wait(self.start_timeout_s):
            self._proc.kill()
            raise RuntimeError(f"the /healthz prober process did not start within {self.start_timeout_s:g} s")
        return self

    def __exit__(self, *exc: Any) -> None:
        self._stop.set()
        try:
            # it finishes the probe in flight first: at most timeout_s
            if self._recv.poll(self.timeout_s + 10):
                self.probes = self._recv.recv()
            else:
                raise RuntimeError("the /healthz prober process did not report")
        except EOFError:
            raise RuntimeError(f"the /healthz prober process died (exit code {self._proc.exitcode})") from None
        finally:
            self._proc.join(timeout=5)
            if self._proc.is_alive():
                self._proc.kill()
