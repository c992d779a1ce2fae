"""The two readable report pages: ``report.md`` and ``report.html`` (self-contained: inline CSS, the
PNGs beside it by relative link), the same sections in the same order.

Example::

    meta = {"generated": "2025-01-01 12:00 UTC", "dataset": "eval/data/qa.jsonl"}
    write_markdown([run], out / "report.md", meta)
    write_html([run], out / "report.html", meta)
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from eval.report.figures import FIGURES
from eval.report.render import fmt, render_html, render_md
from eval.report.tables import answer_type_rows, compare_rows, matrix_rows
from eval.review import refusal_review, worst_items
from eval.runner import EvalRun


def _settings_lines(run: EvalRun) -> list[str]:
    """The configuration that matters for quality: model, every retrieval and answer field."""
    s = run.settings or {}
    kv = lambda d: ", ".join(f"{k}={v}" for k, v in d.items())
    return [f"model {s.get('embeddings', {}).get('model')}",
            f"retrieval: {kv(s.get('retrieval', {}))}",
            f"answer: {kv(s.get('answer', {}))}"]


LATENCY_NOTE = (
    "Per-question latency here is the engine's timings_ms.total in batches of 16: it includes the batch's shared retrieval and the answers composed before it, so it is close to the batch's wall time. Single-question latency (ask() p50/p95) and the searcher's pieces are measured by `make bench`."
)

DEFINITIONS = [
    ("recall@k", "share of an item's gold paragraphs among the top k distinct retrieved paragraphs (answerable items)"),
    ("MRR", "mean of 1/rank of the first gold paragraph among the retrieved paragraphs"),
    ("nDCG@10", "normalised discounted cumulative gain over the top 10, binary relevance"),
    ("key-fact recall", "share of the item's key facts (Chinese) found, whitespace-insensitively, in the answer and its citation quotes"),
    ("citation precision", "share of cited (doc_id, para) that are gold; 0 for an answerable item answered without citation or refused"),
    ("citation recall", "share of gold paragraphs that are cited"),
    ("refusal accuracy", "share of unanswerable questions refused"),
    ("false-refusal rate", "share of answerable questions refused (lower is better)"),
    ("latency", "the engine's timings_ms.total per question, in batches of 16 (retrieval time is the batch's share)"),
]


def _worst(run: EvalRun, n: int = 10) -> list[list[str]]:
    rows = [["id", "question", "what went wrong"]]
    for info, why in worst_items(run, n):
        rows.append([info["id"], info["question"], "; ".join(why)])
    return rows


def _refusal_rows(run: EvalRun) -> tuple[list[list[str]], str]:
    review = refusal_review(run)
    rows = [["id", "question", "evidence", "refused"]]
    for u in review["unanswerable"]:
        rows.append([u["id"], u["question"], fmt(u["evidence"]), "yes" if u["refused"] else "NO"])
    answer = run.settings.get("answer") or {}
    thresholds = ", ".join(f"{k} {v}" for k, v in answer.items() if k.startswith("refusal_threshold"))
    spreads = "; ".join(
        f"{lang}: min {fmt(sp[0])}, p5 {fmt(sp[5])}, p10 {fmt(sp[10])}, median {fmt(sp[50])}"
        for lang, sp in review["answerable_evidence"].items()
    )
    note = f"{thresholds or 'refusal threshold: not in the settings'}. Evidence of answerable questions, {spreads}."
    return rows, note


def write_markdown(runs: Sequence[EvalRun], path: Path, meta: dict[str, Any]) -> None:
    """``report.md`` for one run or two side by side; ``meta`` holds ``generated`` and ``dataset``."""
    main = runs[0]
    lines = ["# uncac-qa evaluation report", ""]
    lines += [f"- generated {meta['generated']} over `{meta['dataset']}` ({len(main.items)} questions)"]
    for run in runs:
        lines += [f"- **{run.label}**: " + "; ".join(f"`{x}`" for x in _settings_lines(run))]
    lines += ["", "## Metrics", ""]
    for run in runs:
        if len(runs) > 1:
            lines += [f"### {run.label}", ""]
        lines += [render_md(matrix_rows(run)), ""]
    if len(runs) == 2:
        lines += [f"## {runs[0].label} vs {runs[1].label}", "", "Δ = second − first.", "",
                  render_md(compare_rows(runs[0], runs[1])), ""]
    lines += ["## Per answer type", "", "The question's expected answer type, from the question analyser "
              "(`rag/answer/question.py`); \"other\" = an untyped how/what question.", ""]
    for run in runs:
        if len(runs) > 1:
            lines += [f"### {run.label}", ""]
        lines += [render_md(answer_type_rows(run)), ""]
    lines += ["## Figures", ""]
    for name, title in zip(FIGURES, ("recall@k", "per question type", "refusal", "latency")):
        lines += [f"![{title}]({name})", ""]
    lines += ["## Latency", "", LATENCY_NOTE, ""]
    for run in runs:
        lat = run.latency
        lines += [f"- {run.label}: p50 {fmt(lat.get('p50'), 0)} ms, p95 {fmt(lat.get('p95'), 0)} ms, mean "
                  f"{fmt(lat.get('mean'), 0)} ms, max {fmt(lat.get('max'), 0)} ms; whole run {lat.get('wall_s', 0):.1f} s "
                  f"({fmt(lat.get('per_question_ms'), 0)} ms per question)"]
    lines += ["", f"## Worst items ({main.label})", "", render_md(_worst(main)), ""]
    rrows, note = _refusal_rows(main)
    lines += [f"## Unanswerable questions ({main.label})", "",
              "Evidence = the best retrieved paragraph's cosine with the question; the chain refuses below "
              "the answer section's refusal threshold (or when no sentence survives the citation guard).", "",
              note, "", render_md(rrows), ""]
    for run in runs:
        if errs := run.errors():
            lines += [f"## Errors ({run.label})", ""] + [f"- `{i}`: {m}" for i, m in errs] + [""]
    lines += ["## Definitions", ""] + [f"- **{k}**: {v}" for k, v in DEFINITIONS] + [""]
    path.write_text("\n".join(lines), encoding="utf-8")


_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI","Noto Sans CJK SC","PingFang SC",sans-serif;max-width:1100px;
margin:2em auto;padding:0 1em;color:#222;line-height:1.45}
table{border-collapse:collapse;margin:.6em 0 1.4em;font-size:.9em}
th,td{border:1px solid #ccc;padding:.25em .6em;text-align:left;vertical-align:top}
th{background:#f3f3f3}
.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
img{max-width:100%;border:1px solid #eee;margin:.4em 0}
code{background:#f5f5f5;padding:0 .2em}
"""


def write_html(runs: Sequence[EvalRun], path: Path, meta: dict[str, Any]) -> None:
    """``report.html``: the sections of :func:`write_markdown` (answer-type tables aside), self-contained."""
    main = runs[0]
    e = html.escape
    parts = [
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>",
        "<title>uncac-qa evaluation report</title>", f"<style>{_CSS}</style></head><body>",
        "<h1>uncac-qa evaluation report</h1><ul>",
        f"<li>generated {e(meta['generated'])} over <code>{e(meta['dataset'])}</code> ({len(main.items)} questions)</li>",
    ]
    for run in runs:
        parts.append(f"<li><b>{e(run.label)}</b>: {e('; '.join(_settings_lines(run)))}</li>")
    parts.append("</ul><h2>Metrics</h2>")
    for run in runs:
        if len(runs) > 1:
            parts.append(f"<h3>{e(run.label)}</h3>")
        parts.append(render_html(matrix_rows(run)))
    if len(runs) == 2:
        parts.append(f"<h2>{e(runs[0].label)} vs {e(runs[1].label)}</h2><p>Δ = second − first.</p>")
        parts.append(render_html(compare_rows(runs[0], runs[1])))
    parts.append("<h2>Figures</h2>")
    for name, title in zip(FIGURES, ("recall@k", "per question type", "refusal", "latency")):
        parts.append(f"<figure><img src='{e(name)}' alt='{e(title)}'><figcaption>{e(title)}</figcaption></figure>")
    parts.append(f"<h2>Latency</h2><p>{e(LATENCY_NOTE)}</p><ul>")
    for run in runs:
        lat = run.latency
        parts.append(f"<li>{e(run.label)}: p50 {fmt(lat.get('p50'), 0)} ms, p95 {fmt(lat.get('p95'), 0)} ms, mean "
                     f"{fmt(lat.get('mean'), 0)} ms, max {fmt(lat.get('max'), 0)} ms; whole run {lat.get('wall_s', 0):.1f} s</li>")
    parts.append(f"</ul><h2>Worst items ({e(main.label)})</h2>")
    parts.append(render_html(_worst(main)))
    rrows, note = _refusal_rows(main)
    parts.append(f"<h2>Unanswerable questions ({e(main.label)})</h2><p>Evidence = the best retrieved paragraph's "
                 f"cosine with the question; the chain refuses below the answer section's refusal threshold (or when no sentence "
                 f"survives the citation guard).</p><p>{e(note)}</p>")
    parts.append(render_html(rrows))
    for run in runs:
        if errs := run.errors():
            parts.append(f"<h2>Errors ({e(run.label)})</h2><ul>" + "".join(f"<li><code>{e(i)}</code>: {e(m)}</li>" for i, m in errs) + "</ul>")
    parts.append("<h2>Definitions</h2><ul>" + "".join(f"<li><b>{e(k)}</b>: {e(v)}</li>" for k, v in DEFINITIONS) + "</ul>")
    parts.append("</body></html>\n")
    path.write_text("\n".join(parts), encoding="utf-8")
