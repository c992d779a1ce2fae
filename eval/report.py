"""Evaluation reports: a table on stdout, and a report directory.

``write_report(runs, out_dir)`` writes, for one run or two runs side by side (``uncac-qa eval
--compare``)::

    report.md            tables, figures, latency, the worst items
    report.html          the same, self-contained (inline CSS, the PNGs beside it by relative link)
    recall_at_k.png      recall@k for k = 1..10, overall and per language (second run dashed)
    by_type.png          recall@5, key-fact recall, citation precision and recall per question type
    refusal.png          refusal accuracy and false-refusal rate, overall and per language
    latency.png          histogram of per-question latency
    results.jsonl        every question: answer, citations, retrieved ids, metrics (first run)
    results-compare.jsonl  the same for the second run, when there is one
    summary.json         the aggregates and latency of every run

Example::

    run = run_eval(engine, items, label="hybrid")
    print(format_table([run]))
    write_report([run], Path("eval/reports/latest"))
"""

from __future__ import annotations

import html
import json
import re
import unicodedata
from collections.abc import Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from eval.runner import HEADLINE, RECALL_KS, EvalRun, refusal_review, worst_items

FIGURES = ("recall_at_k.png", "by_type.png", "refusal.png", "latency.png")
TYPE_METRICS = ("recall@5", "kf_recall", "cit_precision", "cit_recall")
NICE = {
    "recall@1": "recall@1", "recall@5": "recall@5", "recall@10": "recall@10", "mrr": "MRR",
    "ndcg@10": "nDCG@10", "kf_recall": "key-fact recall", "cit_precision": "citation precision",
    "cit_recall": "citation recall", "refusal_correct": "refusal accuracy", "false_refusal": "false-refusal rate",
}


# ----------------------------------------------------------------------------------------------------
# tables (rows of strings, rendered as text, Markdown or HTML)


def _f(v: float | None, digits: int = 3) -> str:
    return "–" if v is None else f"{v:.{digits}f}"


def _delta(a: float | None, b: float | None) -> str:
    if a is None or b is None:
        return "–"
    d = b - a
    return "0" if abs(d) < 5e-4 else f"{d:+.3f}"


def _groups(run: EvalRun) -> list[tuple[str, str | None, str]]:
    """(group, value, column title) for overall, each language and each type."""
    out: list[tuple[str, str | None, str]] = [("overall", None, "overall")]
    out += [("lang", v, v) for v in run.summary["lang"]]
    out += [("type", v, v) for v in run.summary["type"]]
    return out


def _group(run: EvalRun, group: str, value: str | None) -> dict[str, Any] | None:
    return run.summary["overall"] if group == "overall" else run.summary[group].get(value)


def matrix_rows(run: EvalRun) -> list[list[str]]:
    """Header + one row per headline metric; columns: overall, each language, each type."""
    groups = _groups(run)
    header = ["metric", *(f"{t} (n={_group(run, g, v)['n']})" for g, v, t in groups)]
    rows = [header]
    for m in HEADLINE:
        rows.append([NICE[m], *(_f(_group(run, g, v)["metrics"].get(m)) for g, v, _ in groups)])
    lat = ["latency p50 / p95 ms"]
    for g, v, _ in groups:
        xs = sorted(r["latency_ms"] for r in run.rows if r["latency_ms"] is not None and (g == "overall" or r[g] == v))
        lat.append(f"{_pct(xs, 50):.0f} / {_pct(xs, 95):.0f}" if xs else "–")
    rows.append(lat)
    return rows


ANSWER_TYPE_METRICS = ("recall@5", "mrr", "kf_recall", "cit_precision", "cit_recall", "refusal_correct", "false_refusal")


def answer_type_rows(run: EvalRun) -> list[list[str]]:
    """One row per expected answer type (count, date, person…): n and the answer metrics."""
    groups = run.summary.get("answer_type") or {}
    rows = [["answer type", "n", *ANSWER_TYPE_METRICS]]
    for value, g in groups.items():
        rows.append([str(value), str(g["n"]), *(_f(g["metrics"].get(m)) for m in ANSWER_TYPE_METRICS)])
    return rows


def _pct(sorted_xs: list[float], q: float) -> float:
    from eval.metrics import percentile

    return percentile(sorted_xs, q)


def compare_rows(a: EvalRun, b: EvalRun) -> list[list[str]]:
    """Header + rows ``group | metric | A | B | Δ (B − A)``: every headline metric overall and per
    language, the type metrics per type."""
    rows = [["group", "metric", a.label, b.label, "Δ"]]
    for g, v, title in _groups(a):
        ga, gb = _group(a, g, v), _group(b, g, v)
        metrics = list(HEADLINE) if g != "type" else [*TYPE_METRICS, "mrr", "refusal_correct", "false_refusal"]
        for m in metrics:
            va = ga["metrics"].get(m) if ga else None
            vb = gb["metrics"].get(m) if gb else None
            if va is None and vb is None:
                continue
            rows.append([title, NICE[m], _f(va), _f(vb), _delta(va, vb)])
    for key, name in (("p50", "latency p50 ms"), ("p95", "latency p95 ms")):
        va, vb = a.latency.get(key), b.latency.get(key)
        rows.append(["overall", name, _f(va, 0), _f(vb, 0), "–" if va is None or vb is None else f"{vb - va:+.0f}"])
    return rows


_NUMERIC = re.compile(r"^[\d.+\-–/ ]*$")


def _numeric_columns(rows: list[list[str]]) -> list[bool]:
    """Which columns hold only numbers (right-aligned); the others are text (left-aligned)."""
    return [all(_NUMERIC.match(r[i]) for r in rows[1:]) for i in range(len(rows[0]))]


def _width(text: str) -> int:
    """Display width: CJK characters take two columns in a terminal."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def render_text(rows: list[list[str]]) -> str:
    numeric = _numeric_columns(rows)
    widths = [max(_width(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = []
    for n, r in enumerate(rows):
        cells = [(" " * (w - _width(c)) + c) if num else (c + " " * (w - _width(c)))
                 for c, w, num in zip(r, widths, numeric)]
        lines.append("  ".join(cells).rstrip())
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def render_md(rows: list[list[str]]) -> str:
    head, *body = rows
    align = ["---:" if num else "---" for num in _numeric_columns(rows)]
    line = lambda cells: "| " + " | ".join(c.replace("|", "\\|").replace("\n", " ") for c in cells) + " |"  # noqa: E731
    return "\n".join([line(head), "|" + "|".join(align) + "|", *(line(r) for r in body)])


def render_html(rows: list[list[str]]) -> str:
    head, *body = rows
    cls = [" class='num'" if num else "" for num in _numeric_columns(rows)]
    th = "".join(f"<th{k}>{html.escape(c)}</th>" for c, k in zip(head, cls))
    trs = "".join("<tr>" + "".join(f"<td{k}>{html.escape(c)}</td>" for c, k in zip(r, cls)) + "</tr>" for r in body)
    return f"<table><thead><tr>{th}</tr></thead><tbody>{trs}</tbody></table>"


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


# ----------------------------------------------------------------------------------------------------
# figures


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


_COLORS = {"overall": "#222222", "zh": "#c0392b", "en": "#2471a3"}


def plot_recall_at_k(runs: Sequence[EvalRun], path: Path) -> None:
    plt = _plt()
    fig, ax = plt.subplots(figsize=(6.4, 4.2), dpi=110)
    for n, run in enumerate(runs):
        style = "-" if n == 0 else "--"
        for g, v in [("overall", None), *(("lang", x) for x in run.summary["lang"])]:
            grp = _group(run, g, v)
            ys = [grp["metrics"].get(f"recall@{k}") for k in RECALL_KS]
            name = v or "overall"
            label = f"{name} ({run.label})" if len(runs) > 1 else name
            ax.plot(RECALL_KS, ys, style, marker="o", ms=3.5, color=_COLORS.get(name), label=label,
                    lw=2.2 if name == "overall" else 1.5)
    ax.set_xlabel("k (distinct paragraphs retrieved)")
    ax.set_ylabel("recall@k")
    ax.set_xticks(RECALL_KS)
    ax.set_ylim(0, 1.02)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="lower right")
    ax.set_title("Retrieval recall@k (answerable questions)")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def _grouped_bars(ax, runs: Sequence[EvalRun], groups: Sequence[tuple[str, str | None]], metric: str,
                  colors: tuple[str, str]) -> None:
    """One bar per (run, group) for ``metric``, runs side by side within each group, values printed."""
    width = 0.8 / len(runs)
    for n, run in enumerate(runs):
        ys = [(_group(run, g, v) or {"metrics": {}})["metrics"].get(metric) or 0.0 for g, v in groups]
        xs = [i + (n - (len(runs) - 1) / 2) * width for i in range(len(groups))]
        bars = ax.bar(xs, ys, width, label=run.label, color=colors[n % 2], hatch=None if n == 0 else "//", edgecolor="white")
        for bar, y in zip(bars, ys):
            ax.text(bar.get_x() + bar.get_width() / 2, y + 0.01, f"{y:.2f}", ha="center", va="bottom", fontsize=7)
    ax.set_xticks(range(len(groups)))
    ax.set_ylim(0, 1.12)
    ax.grid(axis="y", alpha=0.3)


def plot_by_type(runs: Sequence[EvalRun], path: Path) -> None:
    plt = _plt()
    types = [t for t in runs[0].summary["type"] if t != "unanswerable"]
    fig, axes = plt.subplots(2, 2, figsize=(8.4, 5.8), dpi=110, sharey=True)
    for ax, m in zip(axes.flat, TYPE_METRICS):
        _grouped_bars(ax, runs, [("type", t) for t in types], m, ("#2e86c1", "#f39c12"))
        ax.set_xticklabels([f"{t}\n(n={_group(runs[0], 'type', t)['n']})" for t in types], fontsize=8)
        ax.set_title(NICE[m], fontsize=10)
    fig.suptitle("Per question type (answerable types)", fontsize=11, y=0.99)
    fig.tight_layout()
    if len(runs) > 1:  # under the title, outside the axes: a legend inside would cover bars
        fig.subplots_adjust(top=0.84)
        handles, labels = axes.flat[0].get_legend_handles_labels()
        fig.legend(handles, labels, fontsize=8, loc="upper center", bbox_to_anchor=(0.5, 0.955),
                   ncol=len(runs), frameon=False)
    fig.savefig(path)
    plt.close(fig)


def plot_refusal(runs: Sequence[EvalRun], path: Path) -> None:
    plt = _plt()
    groups = [("overall", None), *(("lang", v) for v in runs[0].summary["lang"])]
    fig, axes = plt.subplots(1, 2, figsize=(8.0, 3.4), dpi=110, sharey=True)
    for ax, m in zip(axes, ("refusal_correct", "false_refusal")):
        _grouped_bars(ax, runs, groups, m, ("#27ae60", "#8e44ad"))
        ax.set_xticklabels([v or "overall" for _, v in groups])
        ax.set_title(NICE[m] + (" (higher is better)" if m == "refusal_correct" else " (lower is better)"), fontsize=9)
    fig.tight_layout()
    if len(runs) > 1:
        fig.subplots_adjust(top=0.80)
        handles, labels = axes[0].get_legend_handles_labels()
        fig.legend(handles, labels, fontsize=8, loc="upper center", ncol=len(runs), frameon=False)
    fig.savefig(path)
    plt.close(fig)


def plot_latency(runs: Sequence[EvalRun], path: Path) -> None:
    plt = _plt()
    fig, ax = plt.subplots(figsize=(6.4 if len(runs) == 1 else 9.0, 3.6), dpi=110)
    all_xs = [r["latency_ms"] for run in runs for r in run.rows if r["latency_ms"] is not None]
    bins = 30
    if all_xs:
        lo, hi = min(all_xs), max(all_xs)
        bins = [lo + (hi - lo) * i / 30 for i in range(31)] if hi > lo else 10
    for n, run in enumerate(runs):
        xs = [r["latency_ms"] for r in run.rows if r["latency_ms"] is not None]
        ax.hist(xs, bins=bins, alpha=0.75 if len(runs) == 1 else 0.55, label=run.label,
                color=["#2e86c1", "#f39c12"][n % 2])
        for key, ls in (("p50", "-"), ("p95", ":")):
            if run.latency.get(key) is not None:
                ax.axvline(run.latency[key], color=["#1b4f72", "#9c640c"][n % 2], ls=ls, lw=1.2,
                           label=f"{key} {run.latency[key]:.0f} ms" + (f" ({run.label})" if len(runs) > 1 else ""))
    ax.set_xlabel("latency per question, ms (engine timings_ms.total, batch mode)")
    ax.set_ylabel("questions")
    ax.grid(alpha=0.3)
    if len(runs) == 1:
        ax.legend(fontsize=8)
    else:  # beside the axes: two runs' labels would cover the histogram
        ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    ax.set_title("Latency")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def write_figures(runs: Sequence[EvalRun], out_dir: Path) -> list[Path]:
    out_dir = Path(out_dir)
    paths = [out_dir / name for name in FIGURES]
    plot_recall_at_k(runs, paths[0])
    plot_by_type(runs, paths[1])
    plot_refusal(runs, paths[2])
    plot_latency(runs, paths[3])
    return paths


# ----------------------------------------------------------------------------------------------------
# report files


def _settings_lines(run: EvalRun) -> list[str]:
    """The configuration that matters for quality: model, every retrieval and answer field."""
    s = run.settings or {}
    kv = lambda d: ", ".join(f"{k}={v}" for k, v in d.items())  # noqa: E731
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
        rows.append([u["id"], u["question"], _f(u["evidence"]), "yes" if u["refused"] else "NO"])
    answer = run.settings.get("answer") or {}
    thresholds = ", ".join(f"{k} {v}" for k, v in answer.items() if k.startswith("refusal_threshold"))
    spreads = "; ".join(
        f"{lang}: min {_f(sp[0])}, p5 {_f(sp[5])}, p10 {_f(sp[10])}, median {_f(sp[50])}"
        for lang, sp in review["answerable_evidence"].items()
    )
    note = f"{thresholds or 'refusal threshold: not in the settings'}. Evidence of answerable questions, {spreads}."
    return rows, note


def write_markdown(runs: Sequence[EvalRun], path: Path, meta: dict[str, Any]) -> None:
    main = runs[0]
    lines = [f"# uncac-qa evaluation report", ""]
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
        lines += [f"- {run.label}: p50 {_f(lat.get('p50'), 0)} ms, p95 {_f(lat.get('p95'), 0)} ms, mean "
                  f"{_f(lat.get('mean'), 0)} ms, max {_f(lat.get('max'), 0)} ms; whole run {lat.get('wall_s', 0):.1f} s "
                  f"({_f(lat.get('per_question_ms'), 0)} ms per question)"]
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
        parts.append(f"<li>{e(run.label)}: p50 {_f(lat.get('p50'), 0)} ms, p95 {_f(lat.get('p95'), 0)} ms, mean "
                     f"{_f(lat.get('mean'), 0)} ms, max {_f(lat.get('max'), 0)} ms; whole run {lat.get('wall_s', 0):.1f} s</li>")
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


def write_results(run: EvalRun, path: Path) -> None:
    with path.open("w", encoding="utf-8") as f:
        for rec in run.result_records():
            f.write(json.dumps(rec, ensure_ascii=False) + "\n")


def write_report(runs: Sequence[EvalRun], out_dir: str | Path, *, dataset: str = "") -> dict[str, Path]:
    """Write every report file (see the module docstring) into ``out_dir``; returns them by name."""
    if not runs or len(runs) > 2:
        raise ValueError(f"write_report takes one or two runs, got {len(runs)}")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    meta = {"generated": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"), "dataset": dataset}
    files = {p.name: p for p in write_figures(runs, out)}
    write_results(runs[0], out / "results.jsonl")
    files["results.jsonl"] = out / "results.jsonl"
    if len(runs) == 2:
        write_results(runs[1], out / "results-compare.jsonl")
        files["results-compare.jsonl"] = out / "results-compare.jsonl"
    elif (stale := out / "results-compare.jsonl").exists():
        stale.unlink()  # from an earlier --compare run into the same directory
    summary = {
        "generated": meta["generated"], "dataset": dataset,
        "runs": [{"label": r.label, "n": len(r.items), "summary": r.summary, "latency": r.latency,
                  "errors": r.errors()} for r in runs],
    }
    (out / "summary.json").write_text(json.dumps(summary, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    files["summary.json"] = out / "summary.json"
    write_markdown(runs, out / "report.md", meta)
    write_html(runs, out / "report.html", meta)
    files["report.md"], files["report.html"] = out / "report.md", out / "report.html"
    return files
