"""Tables as rows of strings, rendered for a terminal, Markdown or HTML; the numbers in their cells.

A table is a header row and body rows, every cell already a string; a column holding only numbers is
right-aligned in all three renderings. The eval report, ``uncac-qa eval`` and ``make bench`` print
through here.

>>> rows = [["metric", "zh"], ["MRR", fmt(0.90912)], ["Δ", fmt_delta(0.5, 0.5)]]
>>> print(render_text(rows))
metric     zh
------  -----
MRR     0.909
Δ           0
>>> print(render_md(rows))
| metric | zh |
|---|---:|
| MRR | 0.909 |
| Δ | 0 |
"""

from __future__ import annotations

import html
import re
import unicodedata


def fmt(v: float | None, digits: int = 3) -> str:
    """``v`` with ``digits`` decimals; "–" when there is no value (the metric does not apply)."""
    return "–" if v is None else f"{v:.{digits}f}"


def fmt_delta(a: float | None, b: float | None) -> str:
    """``b − a`` signed to 3 decimals, "0" when it rounds away, "–" when either is missing.

    >>> fmt_delta(0.5, 0.75), fmt_delta(0.5, 0.5002), fmt_delta(None, 1.0)
    ('+0.250', '0', '–')
    """
    if a is None or b is None:
        return "–"
    d = b - a
    return "0" if abs(d) < 5e-4 else f"{d:+.3f}"


_NUMERIC = re.compile(r"^[\d.+\-–/ ]*$")


def _numeric_columns(rows: list[list[str]]) -> list[bool]:
    """Which columns hold only numbers (right-aligned); the others are text (left-aligned)."""
    return [all(_NUMERIC.match(r[i]) for r in rows[1:]) for i in range(len(rows[0]))]


def _width(text: str) -> int:
    """Display width: CJK characters take two columns in a terminal."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def render_text(rows: list[list[str]]) -> str:
    """Aligned columns and a dashed rule under the header, for a terminal (CJK counts two columns)."""
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
    """A Markdown table; ``|`` in a cell is escaped and newlines become spaces."""
    head, *body = rows
    align = ["---:" if num else "---" for num in _numeric_columns(rows)]
    line = lambda cells: "| " + " | ".join(c.replace("|", "\\|").replace("\n", " ") for c in cells) + " |"
    return "\n".join([line(head), "|" + "|".join(align) + "|", *(line(r) for r in body)])


def render_html(rows: list[list[str]]) -> str:
    """An HTML ``<table>``, every cell escaped; numeric columns get ``class='num'``."""
    head, *body = rows
    cls = [" class='num'" if num else "" for num in _numeric_columns(rows)]
    th = "".join(f"<th{k}>{html.escape(c)}</th>" for c, k in zip(head, cls))
    trs = "".join("<tr>" + "".join(f"<td{k}>{html.escape(c)}</td>" for c, k in zip(r, cls)) + "</tr>" for r in body)
    return f"<table><thead><tr>{th}</tr></thead><tbody>{trs}</tbody></table>"
