"""The evaluation runner: a 4-item run through the real engine (session fixture ``small_run``,
tests/eval/conftest.py) has complete rows and the very answers of ``uncac-qa ask --jsonl``."""

from __future__ import annotations

import io
import json

import pytest

from eval.scoring import ROW_METRICS
from rag.commands.ask import run_jsonl


@pytest.mark.slow
def test_rows_complete_and_in_range(small_run, items):
    assert [r["id"] for r in small_run.rows] == [i.id for i in items]
    assert not small_run.errors()
    for row in small_run.rows:
        assert set(ROW_METRICS) <= set(row)
        for m in ROW_METRICS:
            v = row[m]
            if m == "latency_ms":
                assert v is not None and v > 0
            elif v is not None:
                assert 0.0 <= float(v) <= 1.0, (row["id"], m, v)
    answerable = [r for r in small_run.rows if r["type"] != "unanswerable"]
    assert all(r["recall@5"] is not None and r["kf_recall"] is not None for r in answerable)
    s = small_run.summary
    assert s["overall"]["n"] == 4 and set(s["lang"]) == {"en", "zh"}
    assert s["overall"]["support"]["refusal_correct"] == 1 and s["overall"]["support"]["false_refusal"] == 3
    # recall@k never decreases with k
    curve = [s["overall"]["metrics"][f"recall@{k}"] for k in range(1, 11)]
    assert curve == sorted(curve)


@pytest.mark.slow
def test_same_answers_as_ask_jsonl(engine, small_run, items):
    """The runner and `uncac-qa ask --jsonl` share one path: same answers, citations and rankings."""
    lines = [json.dumps({"id": i.id, "question": i.question}, ensure_ascii=False) for i in items]
    out = io.StringIO()
    assert run_jsonl(engine, lines, out) == (4, 0)
    served = [json.loads(line) for line in out.getvalue().splitlines()]
    for rec, res in zip(served, small_run.results):
        mine = res.to_json()
        assert rec["answer"] == mine["answer"] and rec["citations"] == mine["citations"]
        assert [(r["doc_id"], r["para"]) for r in rec["retrieved"]] == [(r["doc_id"], r["para"]) for r in mine["retrieved"]]
