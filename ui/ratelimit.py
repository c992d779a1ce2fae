"""How often one client may write: a sliding one-minute window per key (the client's address).

Feedback is stored without an account, so without a limit one anonymous client could fill the disk
(~370 KB/s was measured through the Gradio API). Memory is bounded: at most ``max_keys`` clients are
remembered, the least recently seen forgotten first.

Example::

    limiter = RateLimiter(per_minute=20)
    if not limiter.allow(request.client.host):
        ...  # say "too many ratings, wait a minute"
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict, deque


class RateLimiter:
    """``allow(key)`` is True at most ``per_minute`` times in any 60 s for one key. Thread-safe."""

    def __init__(self, per_minute: int, *, window_s: float = 60.0, max_keys: int = 10_000) -> None:
        if per_minute < 1:
            raise ValueError(f"per_minute {per_minute!r} must be >= 1")
        self.per_minute = per_minute
        self.window_s = window_s
        self.max_keys = max_keys
        self._seen: OrderedDict[str, deque[float]] = OrderedDict()
        self._lock = threading.Lock()

    def allow(self, key: str, now: float | None = None) -> bool:
        """Record one write by ``key`` if it is within the limit; False (nothing recorded) otherwise.

        >>> r = RateLimiter(2)
        >>> [r.allow("a", now=0), r.allow("a", now=1), r.allow("a", now=2), r.allow("a", now=61)]
        [True, True, False, True]
        """
        t = time.monotonic() if now is None else now
        with self._lock:
            stamps = self._seen.pop(key, None) or deque()
            while stamps and t - stamps[0] >= self.window_s:
                stamps.popleft()
            ok = len(stamps) < self.per_minute
            if ok:
                stamps.append(t)
            self._seen[key] = stamps
            while len(self._seen) > self.max_keys:
                self._seen.popitem(last=False)
            return ok
