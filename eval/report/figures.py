"""The report's figures, one PNG each (matplotlib, Agg backend): recall@k curves, per-type bars,
refusal bars and the latency histogram; a second run is drawn dashed or hatched beside the first.

Example::

    write_figures([run], Path("eval/reports/latest"))   # the four PNGs of FIGURES
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from eval.report.tables import NICE, TYPE_METRICS, group
from eval.runner import EvalRun
from eval.scoring import RECALL_KS

#: The figure files, in report order.
FIGURES = ("recall_at_k.png", "by_type.png", "refusal.png", "latency.png")


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
            grp = group(run, g, v)
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
        ys = [(group(run, g, v) or {"metrics": {}})["metrics"].get(metric) or 0.0 for g, v in groups]
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
        ax.set_xticklabels([f"{t}\n(n={group(runs[0], 'type', t)['n']})" for t in types], fontsize=8)
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
    """Draw every figure of :data:`FIGURES` into ``out_dir``; their paths, in that order."""
    out_dir = Path(out_dir)
    paths = [out_dir / name for name in FIGURES]
    plot_recall_at_k(runs, paths[0])
    plot_by_type(runs, paths[1])
    plot_refusal(runs, paths[2])
    plot_latency(runs, paths[3])
    return paths
