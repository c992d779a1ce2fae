"""Quotable units of a paragraph: its sentences and its sub-items, each addressable for a citation.

The extractive answerer quotes units; the citation guard checks answer sentences against them. A
sub-item "(j) …" is one unit cited as "para. 54 (j)"; the sentence that introduces a list ("…商定了以下
结论和建议：") is kept as the unit's ``lead`` so a quoted item can be read alone.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from rag.corpus.records import Paragraph
from rag.text import split_sentences

# Text that addresses a language model rather than a reader. UN documents never contain it; a
# poisoned user document might ("Ignore previous instructions…"). Such units are never quoted and
# never count as support for an answer.
_INJECTION = re.compile(
    r"ignore (all |any )?(previous|prior|above|earlier) (instructions|prompts?)|disregard (the|all|previous) "
    r"|system prompt|you are (now )?(an? )?(ai|assistant|chatbot|language model)|as an ai\b|"
    r"忽略(以上|上述|之前|前面|先前)(的)?(所有)?(指示|指令|说明|提示)|系统提示|你现在是|作为(一个)?(人工智能|AI|语言模型)",
    re.I,
)


def looks_like_injection(text: str) -> bool:
    return bool(_INJECTION.search(text))


@dataclass(frozen=True)
class Unit:
    """One quotable piece of a paragraph."""

    doc_id: str
    para: int
    sub: str | None  # sub-item label, e.g. "j"
    text: str  # the sentence or the item's text (without its "(j)" marker)
    lead: str | None  # the list's introducing sentence, for sub-items
    order: int  # position in the paragraph, to keep quotes in reading order

    @property
    def key(self) -> tuple[str, int]:
        return (self.doc_id, self.para)


ENUM_PIECE_MAX = 40  # characters: a "；"-piece this short is a list item, not a clause of its own


def join_enumerations(sentences: list[str]) -> list[str]:
    """Keep a colon-introduced enumeration whole: "…几个因素：独立性；综合法律框架；…以及遵守国际条约。"
    is split at every "；" by the sentence splitter, but its items only make sense together, and a
    list question must be able to quote all of them.

    >>> join_enumerations(["因素包括：独立性；", "综合法律框架；", "以及公众信任。", "另一句。"])
    ['因素包括：独立性；综合法律框架；以及公众信任。', '另一句。']
    """
    out: list[str] = []
    open_list = False
    for s in sentences:
        if open_list and len(s) <= ENUM_PIECE_MAX:
            out[-1] += s
        else:
            out.append(s)
        open_list = out[-1].endswith(("；", ";")) and ("：" in out[-1] or ":" in out[-1]) and not out[-1].endswith(("：；",))
    return out


def paragraph_units(p: Paragraph) -> list[Unit]:
    """Split a paragraph into sentences and sub-items; injection-like text is left out."""
    units: list[Unit] = []
    lead: str | None = None
    sub_texts = {s.label: s.text for s in p.subs}
    inline = bool(p.subs) and not any(line.startswith(f"({s.label}) ") for s in p.subs for line in p.text.split("\n"))
    for line in p.text.split("\n"):
        m = re.match(r"^\(([a-z]{1,2}|[一二三四五六七八九十]+)\) ", line)
        if m and m.group(1) in sub_texts and not inline:
            units.append(Unit(p.doc_id, p.para, m.group(1), sub_texts[m.group(1)], lead, len(units)))
            continue
        sentences = join_enumerations(split_sentences(line))
        for s in sentences:
            units.append(Unit(p.doc_id, p.para, None, s, None, len(units)))
        if sentences and sentences[-1].endswith(("：", ":")):
            lead = sentences[-1]
    if inline:  # items written inside a sentence: also quotable one by one
        first = split_sentences(p.text.split("(a)")[0] if "(a)" in p.text else p.text)
        intro = first[-1] if first else None
        for s in p.subs:
            units.append(Unit(p.doc_id, p.para, s.label, s.text, intro, len(units)))
    return [u for u in units if u.text.strip() and not looks_like_injection(u.text)]
