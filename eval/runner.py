"""The evaluation runner: every dataset item through the engine, scored per item
(:func:`eval.scoring.score_item`) and aggregated into an :class:`EvalRun`.

The items go through :func:`rag.engine.answer_in_batches`, the batch path of
``uncac-qa ask --jsonl`` (``engine.request`` + ``engine.ask_batch``), so the numbers describe what the
CLI, the UI and the API serve.

Example::

    engine = Engine(load_settings()).load()
    run = run_eval(engine, load_dataset("eval/data/qa.jsonl"))
    run.headline()["recall@5"]                       # overall
    check_thresholds(run.summary, load_thresholds("eval/thresholds.json"))   # eval.gate: [] = passes
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from eval.dataset import QAItem
from eval.metrics import aggregate, latency_summary
from eval.scoring import HEADLINE, ROW_METRICS, score_item
from rag.errors import UncacQAError

ProgressFn = Callable[[int, int], None]


@dataclass
class EvalRun:
    """One configuration run over a dataset: per-item rows, results and the aggregate."""

    label: str
    items: list[QAItem]
    results: list[Any]  # AnswerResult, or the UncacQAError raised for that item
    rows: list[dict[str, Any]]
    summary: dict[str, Any]  # eval.metrics.aggregate(rows, by=("lang", "type", "answer_type"))
    latency: dict[str, Any]  # latency_summary of latency_ms (ms), plus wall seconds
    settings: dict[str, Any] = field(default_factory=dict)  # the configuration, for the report

    def headline(self, group: str = "overall", value: str | None = None) -> dict[str, float | None]:
        """Headline metrics of the whole set (default), or of ``group``/``value`` (``"lang", "en"``)."""
        g = self.summary["overall"] if group == "overall" else self.summary[group].get(value)
        return {m: (g["metrics"].get(m) if g else None) for m in HEADLINE}

    def errors(self) -> list[tuple[str, str]]:
        """``(item id, message)`` of items the engine could not answer."""
        return [(it.id, str(r)) for it, r in zip(self.items, self.results) if isinstance(r, Exception)]

    def result_records(self) -> list[dict[str, Any]]:
        """One JSON-able record per item: the question, the engine's result and the item's metrics."""
        out = []
        for it, res, row in zip(self.items, self.results, self.rows):
            rec: dict[str, Any] = {
                "id": it.id, "lang": it.lang, "type": it.type, "question": it.question,
                "gold": [[d, p] for d, p in it.gold], "key_facts": list(it.key_facts),
            }
            if isinstance(res, Exception):
                rec["error"] = str(res)
            else:
                rec |= {
                    "answer": res.answer,
                    "refused": res.refused,
                    "citations": [c.to_json() for c in res.citations],
                    "retrieved": [[r.doc_id, r.para, round(float(r.score), 4)] for r in res.retrieved],
                    "timings_ms": {k: round(v, 2) for k, v in res.timings_ms.items()},
                }
            rec["evidence"] = row.get("evidence")
            rec["metrics"] = {m: row.get(m) for m in ROW_METRICS}
            out.append(rec)
        return out


def run_eval(engine, items: Sequence[QAItem], *, label: str = "main", batch_size: int | None = None,
             progress: ProgressFn | None = None, warmup: bool = True) -> EvalRun:
    """Answer every item with ``engine`` (batch path of ``ask --jsonl``) and score it.

    Args:
        engine: a loaded ``rag.engine.Engine`` (or anything with ``request`` and ``ask_batch``).
        items: the dataset (``eval.dataset.load_dataset``).
        label: the configuration's name in reports ("main", "route=dense"...).
        batch_size: questions per ``ask_batch`` call (default: the CLI's, 16).
        progress: called with ``(done, total)`` after each batch.
        warmup: answer the first question once, untimed, before the run, so that one-off lazy
            initialisation (the jieba dictionary, first torch call: ~2 s) is not charged to the first
            batch's latencies. Answers are deterministic, so this changes no metric.

    Returns an :class:`EvalRun`. An item the engine rejects or fails on is recorded (``errors()``) and
    scored as refused, never skipped, so the aggregate always covers the whole dataset.
    """
    from rag.engine import BATCH_SIZE, answer_in_batches

    items = list(items)
    bs = batch_size or BATCH_SIZE
    requests, results = [], [None] * len(items)
    valid: list[int] = []
    for i, it in enumerate(items):
        try:
            requests.append(engine.request(it.question, id=it.id))
            valid.append(i)
        except UncacQAError as e:
            results[i] = e
    if warmup and requests:
        try:
            engine.ask_batch(requests[:1])
        except UncacQAError:
            pass  # the run records it
    t0 = time.perf_counter()
    for n, res in enumerate(answer_in_batches(engine, requests, bs), start=1):
        results[valid[n - 1]] = res
        if progress and (n % bs == 0 or n == len(requests)):
            progress(n, len(requests))
    wall = time.perf_counter() - t0
    rows = [score_item(it, res) for it, res in zip(items, results)]
    summary = aggregate(rows, by=("lang", "type", "answer_type"), metrics=ROW_METRICS)
    latency = latency_summary(r["latency_ms"] for r in rows if r["latency_ms"] is not None)
    latency["wall_s"] = wall
    latency["per_question_ms"] = wall * 1000 / max(1, len(requests))
    settings = engine.settings.model_dump(mode="json") if hasattr(engine, "settings") else {}
    return EvalRun(label, items, results, rows, summary, latency, settings)
