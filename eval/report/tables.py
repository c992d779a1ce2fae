"""What the report's tables hold: the metric matrix of a run (overall, per language, per question
type), its per-answer-type table, two runs side by side with their deltas, and the table
``uncac-qa eval`` prints.

Example::

    print(format_table([run]))                       # the matrix
    print(format_table([run, other]))                # both matrices, then A / B / Δ
    render_md(compare_rows(run, other))              # the comparison for report.md
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from eval.metrics import percentile
from eval.report.render import fmt, fmt_delta, render_text
from eval.runner import EvalRun
from eval.scoring import HEADLINE

TYPE_METRICS = ("recall@5", "kf_recall", "cit_precision", "cit_recall")
NICE = {
    "recall@1": "recall@1", "recall@5": "recall@5", "recall@10": "recall@10", "mrr": "MRR",
    "ndcg@10": "nDCG@10", "kf_recall": "key-fact recall", "cit_precision": "citation precision",
    "cit_recall": "citation recall", "refusal_correct": "refusal accuracy", "false_refusal": "false-refusal rate",
}


def columns(run: EvalRun) -> list[tuple[str, str | None, str]]:
    """(group, value, column title) for overall, each language and each type: the report's columns."""
    out: list[tuple[str, str | None, str]] = [("overall", None, "overall")]
    out += [("lang", v, v) for v in run.summary["lang"]]
    out += [("type", v, v) for v in run.summary["type"]]
    return out


def group(run: EvalRun, name: str, value: str | None) -> dict[str, Any] | None:
    """The aggregate of ``name``/``value`` (``"lang", "zh"``; ``"overall", None``), or None if the run has none."""
    return run.summary["overall"] if name == "overall" else run.summary[name].get(value)


def matrix_rows(run: EvalRun) -> list[list[str]]:
    """Header + one row per headline metric; columns: overall, each language, each type."""
    cols = columns(run)
    header = ["metric", *(f"{t} (n={group(run, g, v)['n']})" for g, v, t in cols)]
    rows = [header]
    for m in HEADLINE:
        rows.append([NICE[m], *(fmt(group(run, g, v)["metrics"].get(m)) for g, v, _ in cols)])
    lat = ["latency p50 / p95 ms"]
    for g, v, _ in cols:
        xs = sorted(r["latency_ms"] for r in run.rows if r["latency_ms"] is not None and (g == "overall" or r[g] == v))
        lat.append(f"{percentile(xs, 50):.0f} / {percentile(xs, 95):.0f}" if xs else "–")
    rows.append(lat)
    return rows


ANSWER_TYPE_METRICS = ("recall@5", "mrr", "kf_recall", "cit_precision", "cit_recall", "refusal_correct", "false_refusal")


def answer_type_rows(run: EvalRun) -> list[list[str]]:
    """One row per expected answer type (count, date, person…): n and the answer metrics."""
    groups = run.summary.get("answer_type") or {}
    rows = [["answer type", "n", *ANSWER_TYPE_METRICS]]
    for value, g in groups.items():
        rows.append([str(value), str(g["n"]), *(fmt(g["metrics"].get(m)) for m in ANSWER_TYPE_METRICS)])
    return rows


def compare_rows(a: EvalRun, b: EvalRun) -> list[list[str]]:
    """Header + rows ``group | metric | A | B | Δ (B − A)``: every headline metric overall and per
    language, the type metrics per type."""
    rows = [["group", "metric", a.label, b.label, "Δ"]]
    for g, v, title in columns(a):
        ga, gb = group(a, g, v), group(b, g, v)
        metrics = list(HEADLINE) if g != "type" else [*TYPE_METRICS, "mrr", "refusal_correct", "false_refusal"]
        for m in metrics:
            va = ga["metrics"].get(m) if ga else None
            vb = gb["metrics"].get(m) if gb else None
            if va is None and vb is None:
                continue
            rows.append([title, NICE[m], fmt(va), fmt(vb), fmt_delta(va, vb)])
    for key, name in (("p50", "latency p50 ms"), ("p95", "latency p95 ms")):
        va, vb = a.latency.get(key), b.latency.get(key)
        rows.append(["overall", name, fmt(va, 0), fmt(vb, 0), "–" if va is None or vb is None else f"{vb - va:+.0f}"])
    return rows


def format_table(runs: Sequence[EvalRun]) -> str:
    """What ``uncac-qa eval`` prints: the metric matrix of each run, then A/B/Δ when there are two."""
    parts = []
    for run in runs:
        parts.append(f"== {run.label}: {len(run.items)} questions ==\n{render_text(matrix_rows(run))}")
    if len(runs) == 2:
        parts.append(f"== {runs[0].label} vs {runs[1].label} (Δ = second − first) ==\n"
                     f"{render_text(compare_rows(runs[0], runs[1]))}")
    for run in runs:
        if errs := run.errors():
            parts.append(f"{run.label}: {len(errs)} questions failed: " + "; ".join(f"{i}: {m}" for i, m in errs[:5]))
    return "\n\n".join(parts)
