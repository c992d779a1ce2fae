"""The evaluation runner: every dataset item through the engine, scored per item and aggregated; and
the regression gate over the aggregate.

The items go through :func:`rag.engine.answer_in_batches`, the batch path of
``uncac-qa ask --jsonl`` (``engine.request`` + ``engine.ask_batch``), so the numbers describe what the
CLI, the UI and the API serve.

Per item (a *row*, see :data:`ROW_METRICS`):

- retrieval, from ``result.retrieved`` (distinct paragraphs in rank order): ``recall@1..10``,
  ``hit@1/5/10``, ``mrr``, ``ndcg@10``;
- ``kf_recall``: key facts found in the answer text AND the citation quotes (key facts are Chinese; an
  English answer frames Chinese quotes);
- ``cit_precision`` / ``cit_recall``: the cited ``(doc_id, para)`` against the gold paragraphs;
- ``refused``, ``refusal_correct`` (unanswerable items), ``false_refusal`` (answerable items);
- ``latency_ms``: the engine's ``timings_ms["total"]`` (batch mode: retrieval time is the batch's
  share per question).

Rows also carry ``evidence`` (the best retrieved paragraph's cosine with the question, what the
refusal threshold is compared with); it is reported, not averaged.

Metrics that do not apply to an item are ``None`` and left out of its means (see ``eval.metrics``).

Example::

    engine = Engine(load_settings()).load()
    run = run_eval(engine, load_dataset("eval/data/qa.jsonl"))
    run.headline()["recall@5"]                       # overall
    check_thresholds(run.summary, load_thresholds("eval/thresholds.json"))   # [] = gate passes
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from eval.dataset import QAItem
from eval.metrics import (
    aggregate,
    citation_precision,
    citation_recall,
    false_refusal,
    key_fact_recall,
    latency_summary,
    refusal_correct,
    retrieval_scores,
)
from rag.errors import ConfigError, UncacQAError

RECALL_KS: tuple[int, ...] = tuple(range(1, 11))
HIT_KS: tuple[int, ...] = (1, 5, 10)

#: Per-item metric columns (averaged by ``aggregate``), in report order.
ROW_METRICS: tuple[str, ...] = (
    *(f"recall@{k}" for k in RECALL_KS),
    *(f"hit@{k}" for k in HIT_KS),
    "mrr",
    "ndcg@10",
    "kf_recall",
    "cit_precision",
    "cit_recall",
    "refused",
    "refusal_correct",
    "false_refusal",
    "latency_ms",
)

#: The metrics a person reads first (tables, thresholds), with a short description each.
HEADLINE: dict[str, str] = {
    "recall@1": "gold paragraphs in the top 1 retrieved",
    "recall@5": "gold paragraphs in the top 5 retrieved",
    "recall@10": "gold paragraphs in the top 10 retrieved",
    "mrr": "mean reciprocal rank of the first gold paragraph",
    "ndcg@10": "nDCG@10, binary relevance",
    "kf_recall": "key facts found in the answer and its quotes",
    "cit_precision": "share of cited paragraphs that are gold",
    "cit_recall": "share of gold paragraphs that are cited",
    "refusal_correct": "refusal accuracy: unanswerable questions refused",
    "false_refusal": "false-refusal rate: answerable questions refused (lower is better)",
}

ProgressFn = Callable[[int, int], None]


@dataclass
class EvalRun:
    """One configuration run over a dataset: per-item rows, results and the aggregate."""

    label: str
    items: list[QAItem]
    results: list[Any]  # AnswerResult, or the UncacQAError raised for that item
    rows: list[dict[str, Any]]
    summary: dict[str, Any]  # eval.metrics.aggregate(rows, by=("lang", "type"))
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


#: The order in which a question's answer types name its one reported type (a "how many … which" question is a count).
ANSWER_TYPE_ORDER = ("count", "money", "percent", "date", "person", "place", "org", "reference", "title",
                     "list", "purpose", "definition")


def answer_type(question: str) -> str:
    """The question's main expected answer type (``rag.answer.question``), or "other" for an untyped
    "how/what" question; the eval report breaks every metric down by it.

    >>> answer_type("有多少个会员国提交了信息？"), answer_type("Who chaired the meeting?"), answer_type("如何确保机密性？")
    ('count', 'person', 'other')
    """
    from rag.answer.question import analyze

    types = analyze(question).types
    return next((t for t in ANSWER_TYPE_ORDER if t in types), "other")


def score_item(item: QAItem, result: Any) -> dict[str, Any]:
    """The row of one item: grouping fields, then every metric of :data:`ROW_METRICS`.

    ``result`` is an ``AnswerResult``; an exception in its place (the engine failed on this item) scores
    as a refused answer with nothing retrieved, so a failure can only lower the numbers.
    """
    row: dict[str, Any] = {"id": item.id, "lang": item.lang, "type": item.type, "answer_type": answer_type(item.question)}
    failed = isinstance(result, Exception)
    ranked = [] if failed else [(r.doc_id, r.para) for r in result.retrieved]
    cited = [] if failed else [(c.doc_id, c.para) for c in result.citations]
    refused = True if failed else bool(result.refused)
    gold = item.gold_set
    scores = retrieval_scores(ranked, gold, ks=RECALL_KS, ndcg_k=10)
    row |= {f"recall@{k}": scores[f"recall@{k}"] for k in RECALL_KS}
    row |= {f"hit@{k}": scores[f"hit@{k}"] for k in HIT_KS}
    row["mrr"] = scores["mrr"]
    row["ndcg@10"] = scores["ndcg@10"]
    text = "" if failed else "\n".join([result.answer, *(c.quote for c in result.citations)])
    row["kf_recall"] = key_fact_recall(text, item.key_facts) if item.answerable else None
    row["cit_precision"] = citation_precision(cited, gold)
    row["cit_recall"] = citation_recall(cited, gold)
    row["refused"] = refused
    row["refusal_correct"] = refusal_correct(item.answerable, refused)
    row["false_refusal"] = false_refusal(item.answerable, refused)
    row["latency_ms"] = None if failed else float(result.timings_ms.get("total", 0.0))
    row["evidence"] = None if failed else max((float(r.score) for r in result.retrieved), default=0.0)
    return row


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


def worst_items(run: EvalRun, n: int = 10) -> list[tuple[dict[str, Any], list[str]]]:
    """The ``n`` items that went most wrong, each with the reasons in words, worst first.

    Badness adds up: a wrong refusal decision (an answerable question refused, an unanswerable one
    answered) weighs 2; for answerable items, missed recall@5, missed key facts, uncited gold and
    non-gold citations add their shortfall.
    """
    scored = []
    for it, res, row in zip(run.items, run.results, run.rows):
        why: list[str] = []
        bad = 0.0
        if isinstance(res, Exception):
            why.append(f"engine error: {res}")
            bad += 3
        if row["false_refusal"]:
            why.append("answerable but REFUSED")
            bad += 2
        if row["refusal_correct"] == 0.0:
            why.append("unanswerable but ANSWERED")
            bad += 2
        if it.answerable:
            r5, mrr = row["recall@5"] or 0.0, row["mrr"] or 0.0
            if r5 < 1:
                rank = _first_gold_rank(res, it)
                why.append(f"recall@5 {r5:.2f} (first gold at rank {rank or '>10'})")
                bad += 1 - r5
            bad += (1 - mrr) * 0.5
            kf = row["kf_recall"]
            if kf is not None and kf < 1:
                missing = [f for f in it.key_facts if key_fact_recall(_answer_text(res), [f]) == 0.0]
                why.append(f"key facts {kf:.2f}, missing {missing}")
                bad += 1 - kf
            cp, cr = row["cit_precision"], row["cit_recall"]
            if not row["refused"] and cp is not None and cp < 1:
                why.append(f"citation precision {cp:.2f}")
                bad += (1 - cp) * 0.5
            if not row["refused"] and cr is not None and cr < 1:
                why.append(f"citation recall {cr:.2f}")
                bad += (1 - cr) * 0.5
        if why:
            scored.append((bad, row["id"], {"id": it.id, "question": it.question, "lang": it.lang, "type": it.type}, why))
    scored.sort(key=lambda x: (-x[0], x[1]))
    return [(info, why) for _, _, info, why in scored[:n]]


def refusal_review(run: EvalRun) -> dict[str, Any]:
    """What the refusal thresholds see: the evidence score of every unanswerable item (refused or not),
    best first, and per language the spread (min, p5, p10, median) of evidence over answerable items,
    to place each language's threshold between the two."""
    from eval.metrics import percentile

    unans = [{"id": it.id, "lang": it.lang, "question": it.question, "evidence": row["evidence"], "refused": row["refused"]}
             for it, row in zip(run.items, run.rows) if not it.answerable]
    spread: dict[str, dict[int, float | None]] = {}
    for lang in sorted({it.lang for it in run.items}):
        xs = [row["evidence"] for it, row in zip(run.items, run.rows)
              if it.answerable and it.lang == lang and row["evidence"] is not None]
        if xs:
            spread[lang] = {q: percentile(xs, q) for q in (0, 5, 10, 50)}
    return {"unanswerable": sorted(unans, key=lambda u: -(u["evidence"] or 0.0)), "answerable_evidence": spread}


def _answer_text(res: Any) -> str:
    if isinstance(res, Exception) or res is None:
        return ""
    return "\n".join([res.answer, *(c.quote for c in res.citations)])


def _first_gold_rank(res: Any, item: QAItem) -> int | None:
    if isinstance(res, Exception) or res is None:
        return None
    seen: list[tuple[str, int]] = []
    for r in res.retrieved:
        key = (r.doc_id, r.para)
        if key not in seen:
            seen.append(key)
            if key in item.gold_set:
                return len(seen)
    return None


# ----------------------------------------------------------------------------------------------------
# regression gate

#: The thresholds file's note; JSON has no comments, so it lives under this key.
THRESHOLDS_DOC = (
    "Regression gate (tests/eval/test_gate.py, `uncac-qa eval --check-thresholds`): the least acceptable "
    "value of each metric over eval/data/qa.jsonl. Set from measured values floored to 2 decimals "
    "(`uncac-qa eval --write-thresholds`; the system is deterministic, so no noise margin). Thresholds are "
    "RAISED as the system improves, never lowered silently: a lowered threshold must be explained in the "
    "commit message. '1-false_refusal' is 1 minus the false-refusal rate, so every entry is 'higher is better'."
)

#: What the gate checks: overall headline metrics, and recall@5 per language.
GATED_OVERALL: tuple[str, ...] = (
    "recall@5", "mrr", "ndcg@10", "kf_recall", "cit_precision", "cit_recall", "refusal_correct", "1-false_refusal",
)
GATED_PER_LANG: tuple[str, ...] = ("recall@5",)


def _metric(group: Mapping[str, Any], name: str) -> float | None:
    metrics = group["metrics"]
    if name.startswith("1-"):
        v = metrics.get(name[2:])
        return None if v is None else 1.0 - v
    return metrics.get(name)


def floor2(x: float) -> float:
    """``x`` rounded DOWN to 2 decimals, robust to binary noise (0.87 stored as 0.8699999… stays 0.87).

    >>> floor2(0.8699999999999999), floor2(0.879), floor2(1.0)
    (0.87, 0.87, 1.0)
    """
    return math.floor(round(x * 100, 6)) / 100


def measured_thresholds(summary: Mapping[str, Any]) -> dict[str, Any]:
    """The thresholds file content for ``summary``: each gated metric floored to 2 decimals."""
    out: dict[str, Any] = {"_doc": THRESHOLDS_DOC, "overall": {}, "lang": {}}
    for m in GATED_OVERALL:
        v = _metric(summary["overall"], m)
        if v is not None:
            out["overall"][m] = floor2(v)
    for lang, group in summary.get("lang", {}).items():
        out["lang"][lang] = {m: floor2(v) for m in GATED_PER_LANG if (v := _metric(group, m)) is not None}
    return out


def load_thresholds(path: str | Path) -> dict[str, Any]:
    """Read the thresholds JSON; ConfigError when it is missing or malformed."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"thresholds file not found: {str(path)!r}; create it with: uncac-qa eval --write-thresholds") from None
    except ValueError as e:
        raise ConfigError(f"thresholds file {str(path)!r} is not valid JSON ({e})") from None
    if not isinstance(data, dict):
        raise ConfigError(f"thresholds file {str(path)!r} must hold a JSON object")
    return data


def write_thresholds(path: str | Path, summary: Mapping[str, Any]) -> dict[str, Any]:
    """Write :func:`measured_thresholds` of ``summary`` to ``path`` and return it."""
    data = measured_thresholds(summary)
    Path(path).write_text(json.dumps(data, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return data


def check_thresholds(summary: Mapping[str, Any], thresholds: Mapping[str, Any]) -> list[str]:
    """Every gated metric below its threshold, as readable lines; ``[]`` means the gate passes.

    ``summary`` is ``eval.metrics.aggregate`` output (``EvalRun.summary``); ``thresholds`` is the
    thresholds file: ``{"overall": {metric: least}, "lang": {"zh": {metric: least}, ...}, "type": ...}``.
    Keys starting with ``_`` are notes. A metric or group the summary lacks is a failure too (a renamed
    metric must not switch its gate off), as is an unknown metric name.

    >>> s = {"overall": {"n": 2, "metrics": {"mrr": 0.5, "false_refusal": 0.25}, "support": {}}}
    >>> check_thresholds(s, {"overall": {"mrr": 0.6, "1-false_refusal": 0.75}})
    ['overall mrr = 0.5000 < 0.60']
    """
    problems: list[str] = []

    def check(where: str, group: Mapping[str, Any] | None, wanted: Mapping[str, Any]) -> None:
        for name, least in wanted.items():
            if name.startswith("_"):
                continue
            base = name[2:] if name.startswith("1-") else name
            if base not in ROW_METRICS:
                problems.append(f"{where} {name}: unknown metric; known: {', '.join(ROW_METRICS)}")
                continue
            value = None if group is None else _metric(group, name)
            if value is None:
                problems.append(f"{where} {name}: not measured (threshold {least})")
            elif value + 1e-9 < float(least):
                problems.append(f"{where} {name} = {value:.4f} < {float(least):.2f}")

    for section, wanted in thresholds.items():
        if section.startswith("_"):
            continue
        if section == "overall":
            check("overall", summary.get("overall"), wanted)
        elif section in ("lang", "type"):
            for value, metrics in wanted.items():
                check(f"{section}={value}", summary.get(section, {}).get(value), metrics)
        else:
            problems.append(f"thresholds section {section!r} is unknown; allowed: 'overall', 'lang', 'type'")
    return problems
