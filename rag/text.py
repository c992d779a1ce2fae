"""Small text utilities shared by the parser, chunker, retriever and answerers.

Chinese needs no spaces, so joining wrapped lines and splitting sentences differ from Latin text;
these helpers do both for mixed zh/en UN text.
"""

from __future__ import annotations

import re
import unicodedata

# Sentence ends in Chinese and Latin text. A closing quote/bracket right after the end mark stays with
# the sentence ("…。”").
_SENT_END = re.compile(r"(?<=[。！？；!?;])[”’』」）)]*|(?<=[.])(?=\s+[A-Z(“\"])")
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_LATIN_WORD = re.compile(r"[A-Za-z]{2,}")
TERMINAL = tuple("。！？；：!?;:")


def script_of(text: str) -> str:
    """'zh' when the text holds any Han character, else 'en' (used to route queries and frame answers).

    >>> script_of("资产申报"), script_of("asset declarations"), script_of("What is 第 5 段?")
    ('zh', 'en', 'zh')
    """
    return "zh" if _CJK.search(text) else "en"


def join_wrapped(left: str, right: str) -> str:
    """Join two pieces of one line that a PDF wrapped: no space between CJK text, one between words.

    >>> join_wrapped("反腐败", "学院"), join_wrapped("the", "Group")
    ('反腐败学院', 'the Group')
    """
    left, right = left.rstrip(), right.lstrip()
    if not left or not right:
        return left + right
    if left[-1].isascii() and right[0].isascii() and left[-1].isalnum() and right[0].isalnum():
        return f"{left} {right}"
    return left + right


def split_sentences(text: str) -> list[str]:
    """Split at sentence ends (。！？； and . ! ? ;), keeping the end marks; empty pieces dropped.

    >>> split_sentences("第一句。第二句；第三句")
    ['第一句。', '第二句；', '第三句']
    """
    out: list[str] = []
    for line in text.split("\n"):
        start = 0
        for m in _SENT_END.finditer(line):
            piece = line[start : m.end()].strip()
            if piece:
                out.append(piece)
            start = m.end()
        if line[start:].strip():
            out.append(line[start:].strip())
    return out


def display_width(s: str) -> int:
    """Columns a line takes in a fixed-width layout (wide East Asian characters count twice)."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in s)


def normalize_for_match(s: str) -> str:
    """NFKC, lower-case, all whitespace removed: for whitespace-insensitive substring checks."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", s)).lower()
