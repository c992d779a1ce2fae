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

from eval.report.tables import format_table
from eval.report.writer import write_report

__all__ = ["format_table", "write_report"]
