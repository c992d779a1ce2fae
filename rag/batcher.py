"""Micro-batching: questions that arrive together from many clients are answered in one engine call.

One answer costs ~35 ms of one core, ~30 of them in the query encoder; encoding 16 questions at once
costs little more than encoding one. So, as inference servers do, the first waiting question waits up
to ``wait_ms`` for others to join it, and one worker thread answers up to ``max_batch`` of them with a
single ``engine.ask_batch`` (one encoder call). The queue is bounded: a question that finds
``max_queue`` waiting is refused at once with :class:`BusyError` (the HTTP API answers 503 +
``Retry-After``) instead of piling up memory and latency.

``workers`` threads take batches from the one queue. The query encoder (onnxruntime) releases the GIL
for most of an answer's time, so two workers keep both cores of a small machine busy where one left
the second idle; the engine's shared parts are read-only after load (indexes, corpus, caches behind
``lru_cache``), the ONNX tokenizer is per thread, and the torch encoder serialises itself.

Example::

    batcher = MicroBatcher(engine, max_batch=16, wait_ms=2, max_queue=256, workers=2).start()
    result = batcher.ask(engine.request("工作组关于资产申报提出了什么建议？"), timeout=30)
    future = batcher.submit(request)          # concurrent.futures.Future[AnswerResult]
    batcher.close()
"""

from __future__ import annotations

import logging
import math
import queue
import threading
import time
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from typing import Any, Protocol

from rag.errors import BusyError, UncacQAError
from rag.request import AskRequest
from rag.result import AnswerResult

log = logging.getLogger(__name__)


class BatchEngine(Protocol):
    def ask_batch(self, requests: list[AskRequest]) -> list[AnswerResult]: ...


@dataclass
class _Job:
    request: AskRequest
    future: Future
    queued_at: float


@dataclass(frozen=True)
class BatcherStats:
    """Counters since start, for /healthz and the benchmark."""

    waiting: int
    batches: int
    answered: int
    largest_batch: int
    refused_busy: int


class MicroBatcher:
    """Cheap to construct; :meth:`start` starts the one worker thread."""

    def __init__(self, engine: BatchEngine, *, max_batch: int = 16, wait_ms: float = 2.0, max_queue: int = 256,
                 workers: int = 1) -> None:
        if max_batch < 1 or max_queue < 1 or workers < 1 or wait_ms < 0:
            raise ValueError(f"max_batch {max_batch!r}, max_queue {max_queue!r} and workers {workers!r} must be >= 1, "
                             f"wait_ms {wait_ms!r} >= 0")
        self.engine = engine
        self.max_batch = max_batch
        self.wait_s = wait_ms / 1000
        self.workers = workers
        self._queue: queue.Queue[_Job | None] = queue.Queue(maxsize=max_queue)
        self._threads: list[threading.Thread] = []
        self._stop = threading.Event()
        self._stats_lock = threading.Lock()
        self._batches = self._answered = self._largest = self._busy = 0
        self._seconds_per_answer = 0.05  # running estimate, for Retry-After

    @classmethod
    def for_settings(cls, engine: BatchEngine, server: Any) -> MicroBatcher:
        """From ``settings.server`` (batch_max, batch_wait_ms, max_queue, engine_workers)."""
        return cls(engine, max_batch=server.batch_max, wait_ms=server.batch_wait_ms, max_queue=server.max_queue,
                   workers=server.engine_workers)

    @property
    def running(self) -> bool:
        return any(t.is_alive() for t in self._threads)

    def start(self) -> MicroBatcher:
        if not self.running:
            self._stop.clear()
            self._threads = [threading.Thread(target=self._run, name=f"uncac-qa-batcher-{i}", daemon=True)
                             for i in range(self.workers)]
            for t in self._threads:
                t.start()
        return self

    def close(self, timeout: float = 5.0) -> None:
        """Stop the workers after the batches in hand; questions still waiting get BusyError."""
        self._stop.set()
        for _ in self._threads:
            try:
                self._queue.put_nowait(None)  # wake a worker
            except queue.Full:
                pass
        for t in self._threads:
            t.join(timeout)
        while True:
            try:
                job = self._queue.get_nowait()
            except queue.Empty:
                break
            if job is not None and job.future.set_running_or_notify_cancel():
                job.future.set_exception(BusyError("the server is shutting down; ask again in a moment", retry_after=5))

    def swap_engine(self, engine: BatchEngine) -> BatchEngine:
        """Answer every batch taken from now on with ``engine``; returns the one it replaces.

        One reference assignment: a batch already in hand finishes on the engine it started with (each
        batch reads the reference once), the next batch uses the new one, and no question waits.
        """
        old, self.engine = self.engine, engine
        return old

    def stats(self) -> BatcherStats:
        return BatcherStats(self._queue.qsize(), self._batches, self._answered, self._largest, self._busy)

    def retry_after(self) -> int:
        """Seconds until the questions now waiting are likely answered (at least 1)."""
        return max(1, math.ceil(self._queue.qsize() * self._seconds_per_answer))

    # --- the public face ---

    def submit(self, request: AskRequest) -> Future:
        """Queue one validated request; BusyError at once when ``max_queue`` are already waiting."""
        if not self.running:
            raise BusyError("the server is not ready to answer yet; ask again in a moment", retry_after=2)
        job = _Job(request, Future(), time.perf_counter())
        try:
            self._queue.put_nowait(job)
        except queue.Full:
            with self._stats_lock:
                self._busy += 1
            n = self._queue.maxsize
            raise BusyError(
                f"the server is busy: {n} questions are waiting (server.max_queue = {n}); ask again in a few seconds",
                retry_after=self.retry_after(),
            ) from None
        return job.future

    def ask(self, request: AskRequest, timeout: float) -> AnswerResult:
        """Submit and wait at most ``timeout`` seconds (BusyError after; the question is dropped if not started)."""
        future = self.submit(request)
        try:
            return future.result(timeout)
        except FutureTimeout:
            future.cancel()
            raise BusyError(f"no answer within {timeout:g} s (server.answer_timeout_s); the server is busy, ask again", retry_after=self.retry_after()) from None

    # --- the worker ---

    def _take(self) -> list[_Job] | None:
        """Block for the first job, then gather more until ``max_batch`` or ``wait_s`` after the first."""
        first = self._queue.get()
        if first is None:
            return None
        jobs = [first]
        deadline = time.perf_counter() + self.wait_s
        while len(jobs) < self.max_batch:
            remaining = deadline - time.perf_counter()
            try:
                job = self._queue.get(timeout=remaining) if remaining > 0 else self._queue.get_nowait()
            except queue.Empty:
                break
            if job is None:  # close(): stop after this batch
                self._stop.set()
                break
            jobs.append(job)
        # A caller that timed out has cancelled its future: its question is not answered.
        return [j for j in jobs if j.future.set_running_or_notify_cancel()]

    def _run(self) -> None:
        while not self._stop.is_set():
            jobs = self._take()
            if jobs is None:
                break
            if jobs:
                self._answer(jobs)

    def _answer(self, jobs: list[_Job]) -> None:
        t0 = time.perf_counter()
        engine = self.engine  # once: a swap_engine() meanwhile takes effect from the next batch
        try:
            results: list[Any] = engine.ask_batch([j.request for j in jobs])
        except Exception:  # noqa: BLE001 - one bad request must cost only its own answer: retry one by one
            results = []
            for j in jobs:
                try:
                    results.append(engine.ask_batch([j.request])[0])
                except Exception as e:  # noqa: BLE001
                    if not isinstance(e, UncacQAError):
                        log.exception("answering %r failed", j.request.question[:80])
                    results.append(e)
        for j, r in zip(jobs, results):
            if isinstance(r, BaseException):
                j.future.set_exception(r)
            else:
                j.future.set_result(r)
        dt = time.perf_counter() - t0
        with self._stats_lock:
            self._batches += 1
            self._answered += len(jobs)
            self._largest = max(self._largest, len(jobs))
            self._seconds_per_answer = 0.8 * self._seconds_per_answer + 0.2 * dt / len(jobs) / self.workers
