"""The ``GET /healthz`` prober of :mod:`eval.load`, run as a process of its own.

Why a process: probed from the load generator's own event loop, a health check waits behind every
answer the loop is busy reading, so it measures the client. Against the same server under 50 back-to-
back users, the in-loop prober read /healthz p95 112 ms where an outside ``curl`` read 17 ms; with 300
users, 968 ms against 17 ms. This file runs as a plain script (``python eval/probe.py URL INTERVAL
TIMEOUT``; stdlib ``http.client``, one keep-alive connection, nothing of the project imported), not
through ``multiprocessing``, so a caller's script needs no ``if __name__ == "__main__"`` guard and its
torch threads are never forked.

Protocol: the child prints ``ready`` once started, probes until its stdin is closed (or says ``stop``),
then prints one JSON line, ``[[latency_s, ok], ...]``, and exits.

Example::

    with HealthProber("http://127.0.0.1:7860", interval_s=0.5) as prober:
        ...  # put the server under load
    print(prober.probes)  # [(latency_s, ok), ...]
"""

from __future__ import annotations

import http.client
import json
import subprocess
import sys
import threading
import time
from typing import Any
from urllib.parse import urlsplit


def probe_loop(url: str, interval_s: float, timeout_s: float, stop: threading.Event) -> list[tuple[float, bool]]:
    """Probe ``<url>/healthz`` every ``interval_s`` until ``stop`` is set; ``[(latency_s, ok)]``.

    ``ok`` is an HTTP 200 within ``timeout_s``; a failed probe counts at the latency it failed after.
    The schedule is fixed, but a probe slower than the interval is followed at once, not by a burst.
    """
    parts = urlsplit(url)
    cls = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    path = parts.path.rstrip("/") + "/healthz"
    c: http.client.HTTPConnection | None = None
    out: list[tuple[float, bool]] = []
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
    return out


class HealthProber:
    """This file as a child process probing ``url`` (see the module's protocol).

    ``__enter__`` returns once the child is probing; ``__exit__`` stops it and fills ``probes``.
    """

    def __init__(self, url: str, interval_s: float = 0.5, timeout_s: float = 10.0, *, start_timeout_s: float = 30.0):
        self.url, self.interval_s, self.timeout_s, self.start_timeout_s = url, interval_s, timeout_s, start_timeout_s
        self.probes: list[tuple[float, bool]] = []
        self._proc: subprocess.Popen | None = None

    def __enter__(self) -> HealthProber:
        cmd = [sys.executable, "-I", __file__, self.url, repr(self.interval_s), repr(self.timeout_s)]
        self._proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        ready: list[str] = []
        reader = threading.Thread(target=lambda: ready.append(self._proc.stdout.readline()), daemon=True)
        reader.start()
        reader.join(self.start_timeout_s)
        if not ready or ready[0].strip() != "ready":
            self._proc.kill()
            self._proc.wait()
            raise RuntimeError(f"the /healthz prober process did not start within {self.start_timeout_s:g} s "
                               f"(exit code {self._proc.returncode})")
        return self

    def __exit__(self, *exc: Any) -> None:
        proc = self._proc
        try:
            # it finishes the probe in flight first: at most timeout_s
            out, _ = proc.communicate("stop\n", timeout=self.timeout_s + 10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            raise RuntimeError("the /healthz prober process did not report") from None
        lines = out.strip().splitlines()
        if proc.returncode != 0 or not lines:
            raise RuntimeError(f"the /healthz prober process failed (exit code {proc.returncode})")
        self.probes = [(float(lat), bool(ok)) for lat, ok in json.loads(lines[-1])]


def _main(argv: list[str]) -> int:
    url, interval_s, timeout_s = argv[0], float(argv[1]), float(argv[2])
    stop = threading.Event()

    def wait_for_stop() -> None:
        sys.stdin.readline()  # "stop", or EOF when the parent goes away
        stop.set()

    threading.Thread(target=wait_for_stop, daemon=True).start()
    print("ready", flush=True)
    probes = probe_loop(url, interval_s, timeout_s, stop)
    print(json.dumps([[round(lat, 6), ok] for lat, ok in probes]), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(_main(sys.argv[1:]))
