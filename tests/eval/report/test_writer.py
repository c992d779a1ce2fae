"""The report directory: every file ``write_report`` promises, for one run and for two side by side."""

from __future__ import annotations

import json
import struct
from dataclasses import replace

import pytest

from eval.report import write_report
from eval.report.figures import FIGURES
from eval.report.tables import NICE
from eval.scoring import HEADLINE, ROW_METRICS

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.mark.slow
def test_report_files(small_run, tmp_path):
    files = write_report([small_run], tmp_path, dataset="eval/data/qa.jsonl")
    for name in ("report.md", "report.html", "results.jsonl", "summary.json", *FIGURES):
        assert (tmp_path / name).is_file() and name in files
    records = [json.loads(line) for line in (tmp_path / "results.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [r["id"] for r in records] == [r["id"] for r in small_run.rows]
    for r in records:
        assert {"question", "answer", "refused", "citations", "retrieved", "metrics"} <= set(r)
        assert set(r["metrics"]) == set(ROW_METRICS)
    md = (tmp_path / "report.md").read_text(encoding="utf-8")
    for m in HEADLINE:
        assert NICE[m] in md, m
    assert "latency p50" in md and "Worst items" in md
    for name in FIGURES:
        assert f"]({name})" in md
        data = (tmp_path / name).read_bytes()
        assert data[:8] == PNG_MAGIC and data[12:16] == b"IHDR"
        width, height = struct.unpack(">II", data[16:24])
        assert width > 200 and height > 150
    page = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert page.startswith("<!doctype html>") and all(f"src='{n}'" in page for n in FIGURES)
    assert "http://" not in page and "https://" not in page and "<script" not in page  # self-contained


@pytest.mark.slow
def test_compare_report(small_run, tmp_path):
    other = replace(small_run, label="other")
    write_report([small_run, other], tmp_path)
    assert (tmp_path / "results-compare.jsonl").is_file()
    md = (tmp_path / "report.md").read_text(encoding="utf-8")
    assert "## small vs other" in md and "| small | other | Δ |" in md
    # identical runs: every delta is zero
    assert all(line.endswith("| 0 |") or line.endswith("| – |") for line in md.splitlines()
               if line.startswith("| overall | ") and "latency" not in line)
