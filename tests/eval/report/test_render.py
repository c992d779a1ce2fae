"""Table rendering: alignment by column kind and CJK display width, escaping in Markdown and HTML."""

from __future__ import annotations

from eval.report.render import fmt, fmt_delta, render_html, render_md, render_text

ROWS = [["问题", "n", "MRR"], ["会议", "3", "0.500"], ["a|b", "12", "–"]]


def test_cells():
    assert fmt(None) == "–" and fmt(0.12345) == "0.123" and fmt(412.6, 0) == "413"
    assert fmt_delta(0.1, 0.3) == "+0.200" and fmt_delta(0.3, 0.1) == "-0.200" and fmt_delta(0.3, 0.3004) == "0"
    assert fmt_delta(None, None) == "–"


def test_text_aligns_cjk_by_display_width():
    lines = render_text(ROWS).splitlines()
    # "问题" is four columns wide, so the text column is four wide; numbers are right-aligned
    assert lines[0] == "问题   n    MRR"
    assert lines[1] == "----  --  -----"
    assert lines[2] == "会议   3  0.500"
    assert lines[3] == "a|b   12      –"


def test_markdown_escapes_pipes_and_aligns_numbers():
    md = render_md(ROWS).splitlines()
    assert md[1] == "|---|---:|---:|"
    assert md[3] == "| a\\|b | 12 | – |"


def test_html_escapes_every_cell():
    page = render_html([["x", "n"], ["<b>&", "1"]])
    assert "<td>&lt;b&gt;&amp;</td><td class='num'>1</td>" in page
    assert page.startswith("<table><thead><tr><th>x</th><th class='num'>n</th></tr></thead>")
