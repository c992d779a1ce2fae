"""Detect a UN document symbol (``CAC/COSP/WG.4/2019/L.1/Add.1``, ``A/RES/58/4``) in a document header."""

from __future__ import annotations

import re

# A symbol is an upper-case series name followed by at least two "/"-separated parts, one with a digit:
# CAC/COSP/2011/1, CAC/COSP/WG.4/2019/L.1/Add.1, A/RES/58/4, E/CN.15/2019/1, CTOC/COP/2020/1.
SYMBOL = re.compile(r"(?<![\w/.])([A-Z]{1,8}(?:/[A-Z][A-Za-z0-9.\-]*|/\d[\w.\-]*)+(?:/(?:Add|Rev|Corr)\.\d+)*)(?![\w/])")


def looks_like_symbol(s: str) -> bool:
    return bool(SYMBOL.fullmatch(s)) and s.count("/") >= 2 and any(c.isdigit() for c in s)


def find_symbols(text: str) -> list[str]:
    """All symbol-shaped strings in ``text``, in order, without duplicates.

    >>> find_symbols("联 合 国   CAC/COSP/WG.4/2019/L.1/Add.1 ; see A/RES/58/4 and www.x.org/a/1")
    ['CAC/COSP/WG.4/2019/L.1/Add.1', 'A/RES/58/4']
    """
    out: list[str] = []
    for m in SYMBOL.finditer(text):
        s = m.group(1).rstrip(".")
        if looks_like_symbol(s) and s not in out:
            out.append(s)
    return out


def detect_symbol(header_lines: list[str]) -> str | None:
    """The document's own symbol: the first symbol on a header line that is not a footnote.

    UN documents print their symbol in the top line of the first page; a footnote in the header
    (``* CAC/COSP/2011/1.`` — the provisional agenda) names another document and is skipped.
    """
    for line in header_lines:
        s = line.strip()
        if not s or s[0] in "*¹²³⁴⁵⁶⁷⁸⁹":
            continue
        found = find_symbols(s)
        if found:
            return found[0]
    return None
