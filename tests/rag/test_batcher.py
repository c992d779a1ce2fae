"""The micro-batcher against a recording engine: batching, isolation of a bad request, the bounded
queue, timeouts, shutdown and several workers."""

from __future__ import annotations

import threading
import time

import pytest

from rag.batcher import MicroBatcher
from rag.errors import BusyError, QueryError
from rag.request import AskRequest


class Recorder:
    """Answers each request with its own question; "bad" raises; waits for ``gate`` when closed."""

    def __init__(self) -> None:
        self.batches: list[list[str]] = []
        self.gate = threading.Event()
        self.gate.set()
        self.in_flight = 0
        self.most_in_flight = 0
        self._lock = threading.Lock()

    def ask_batch(self, requests):
        with self._lock:
            self.in_flight += 1
            self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            self.gate.wait(10)
            qs = [r.question for r in requests]
            self.batches.append(qs)
            if "bad" in qs:
                raise QueryError("bad question") if len(qs) == 1 else RuntimeError("the batch failed")
            time.sleep(0.01)
            return [f"answer to {q}" for q in qs]
        finally:
            with self._lock:
                self.in_flight -= 1


def test_questions_waiting_together_are_answered_in_one_batch():
    engine = Recorder()
    engine.gate.clear()
    b = MicroBatcher(engine, max_batch=8, wait_ms=1, max_queue=64).start()
    first = b.submit(AskRequest("q0"))
    time.sleep(0.05)  # q0's batch is in the engine, waiting on the gate
    rest = [b.submit(AskRequest(f"q{i}")) for i in range(1, 11)]
    engine.gate.set()
    assert first.result(5) == "answer to q0"
    assert [f.result(5) for f in rest] == [f"answer to q{i}" for i in range(1, 11)]
    assert engine.batches[0] == ["q0"] and [len(x) for x in engine.batches[1:]] == [8, 2]
    assert b.stats().largest_batch == 8 and b.stats().answered == 11
    b.close()


def test_a_bad_request_costs_only_its_own_answer():
    engine = Recorder()
    engine.gate.clear()
    b = MicroBatcher(engine, max_batch=8, wait_ms=1).start()
    blocker = b.submit(AskRequest("first"))
    time.sleep(0.05)
    futures = [b.submit(AskRequest(q)) for q in ("a", "bad", "c")]
    engine.gate.set()
    blocker.result(5)
    assert futures[0].result(5) == "answer to a" and futures[2].result(5) == "answer to c"
    with pytest.raises(QueryError, match="bad question"):
        futures[1].result(5)
    b.close()


def test_a_full_queue_refuses_at_once_with_retry_after():
    engine = Recorder()
    engine.gate.clear()
    b = MicroBatcher(engine, max_batch=1, wait_ms=0, max_queue=2).start()
    b.submit(AskRequest("in the engine"))
    time.sleep(0.05)
    b.submit(AskRequest("waiting 1"))
    b.submit(AskRequest("waiting 2"))
    with pytest.raises(BusyError, match="2 questions are waiting") as e:
        b.submit(AskRequest("one too many"))
    assert e.value.retry_after >= 1 and b.stats().refused_busy == 1
    engine.gate.set()
    b.close()


def test_a_timed_out_question_is_busy_and_never_answered():
    engine = Recorder()
    engine.gate.clear()
    b = MicroBatcher(engine, max_batch=1, wait_ms=0).start()
    b.submit(AskRequest("slow"))
    time.sleep(0.05)
    with pytest.raises(BusyError, match="no answer within 0.1 s"):
        b.ask(AskRequest("impatient"), timeout=0.1)
    engine.gate.set()
    time.sleep(0.2)
    assert ["impatient"] not in engine.batches
    b.close()


def test_close_tells_the_waiting_questions_and_refuses_new_ones():
    engine = Recorder()
    engine.gate.clear()
    b = MicroBatcher(engine, max_batch=1, wait_ms=0).start()
    b.submit(AskRequest("in the engine"))
    time.sleep(0.05)
    waiting = b.submit(AskRequest("waiting"))
    threading.Timer(0.1, engine.gate.set).start()
    b.close()
    with pytest.raises(BusyError, match="shutting down"):
        waiting.result(5)
    with pytest.raises(BusyError, match="not ready"):
        b.submit(AskRequest("after close"))


def test_two_workers_answer_two_batches_at_once():
    engine = Recorder()
    engine.gate.clear()
    b = MicroBatcher(engine, max_batch=1, wait_ms=0, workers=2).start()
    futures = [b.submit(AskRequest(f"q{i}")) for i in range(4)]
    time.sleep(0.1)
    assert engine.in_flight == 2  # both workers are inside the engine
    engine.gate.set()
    assert sorted(f.result(5) for f in futures) == [f"answer to q{i}" for i in range(4)]
    assert engine.most_in_flight == 2
    b.close()


def test_bad_arguments_name_the_values():
    with pytest.raises(ValueError, match="workers 0"):
        MicroBatcher(Recorder(), workers=0)
