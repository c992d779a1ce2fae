"""The report directory: every file of one evaluation (see :mod:`eval.report`), written together.

Example::

    files = write_report([run], Path("eval/reports/latest"), dataset="eval/data/qa.jsonl")
    files["report.md"]
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from eval.report.figures import write_figures
from eval.report.pages import write_html, write_markdown
from eval.runner import EvalRun


def write_results(run: EvalRun, path: Path) -> None:
    """``results.jsonl``: one :meth:`EvalRun.result_records` record a line."""
    with path.open("w", encoding="utf-8") as f:
        for rec in run.result_records():
            f.write(json.dumps(rec, ensure_ascii=False) + "\n")


def write_report(runs: Sequence[EvalRun], out_dir: str | Path, *, dataset: str = "") -> dict[str, Path]:
    """Write every report file (listed in :mod:`eval.report`) into ``out_dir``; returns them by name."""
    if not runs or len(runs) > 2:
        raise ValueError(f"write_report takes one or two runs, got {len(runs)}")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    meta = {"generated": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"), "dataset": dataset}
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
