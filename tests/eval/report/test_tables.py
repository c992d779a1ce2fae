"""The report's tables: the matrix printed by ``uncac-qa eval`` and two runs side by side."""

from __future__ import annotations

from dataclasses import replace

import pytest

from eval.report.tables import NICE, format_table
from eval.scoring import HEADLINE


@pytest.mark.slow
def test_compare_table(small_run):
    other = replace(small_run, label="other")
    text = format_table([small_run, other])
    assert "small vs other" in text and "Δ" in text


@pytest.mark.slow
def test_matrix_names_every_headline_metric(small_run):
    text = format_table([small_run])
    assert text.startswith("== small: 4 questions ==")
    for m in HEADLINE:
        assert NICE[m] in text, m
