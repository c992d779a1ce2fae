"""The language-neutral facts of a Chinese unit, in English, for English readers.

Nothing offline can translate Chinese prose here, but much of what a question asks for needs no
translation: numbers, dates, symbols, resolution and article numbers, Latin-script names, country
names (ISO 3166 via ``pycountry``) and organisations (the glossary). An English answer leads with
those, then quotes the Chinese sentence that proves them. Every English word comes from a span of
the cited unit through a table or the gazetteer; nothing is invented, and a fact with no known
English form is left out rather than guessed.

>>> english_facts("工作组于 2017 年 8 月 21 日至 23 日在维也纳举行了第八次会议。")
['21–23 August 2017', 'Vienna']
>>> english_facts("会议由主席 Alexander Kononov (俄罗斯联邦) 和副主席 Andrés Lamoliatte Vargas (智利) 主持。", {"person"})
['Alexander Kononov (Russian Federation)', 'Andrés Lamoliatte Vargas (Chile)']
>>> english_facts("到 2011 年 5 月 27 日，总共有 28 个会员国提交了这类信息", {"count"})
['28']
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from rag.answer.spans import Span, find_spans, gazetteer

MONTHS = "January February March April May June July August September October November December".split()
_CN_NUM = {"一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9, "十": 10}
# Which span types answer which question types (the rest of a unit's facts are shown when nothing is asked).
_SHOWN = {
    "count": ("count",), "money": ("money",), "percent": ("percent",), "date": ("date",),
    "person": ("person", "org", "place"), "place": ("place",), "org": ("org",), "reference": ("reference",),
    "list": ("place", "org", "person"),
}
_DEFAULT = ("date", "count", "money", "percent", "person", "place", "org", "reference")


def english_date(text: str) -> str | None:
    """"2017 年 8 月 21 日至 23 日" -> "21–23 August 2017"; "2011 年 5 月" -> "May 2011"; "2011 年" -> "2011".

    >>> english_date("2011 年 5 月 27 日"), english_date("8月31日"), english_date("2010年12月13日至15日")
    ('27 May 2011', '31 August', '13–15 December 2010')
    """
    t = re.sub(r"\s+", "", text)
    m = re.fullmatch(r"(?:(\d{4})年?)?(?:(\d{1,2})月)?(?:(\d{1,2})日)?(?:(?:至|到|-|—)(?:(\d{4})年)?(?:(\d{1,2})月)?(\d{1,2})日)?", t)
    if not m or not any(m.groups()):
        return None
    y, mo, d, y2, mo2, d2 = m.groups()
    month = MONTHS[int(mo) - 1] if mo and 1 <= int(mo) <= 12 else None
    if d2:
        month2 = MONTHS[int(mo2) - 1] if mo2 and 1 <= int(mo2) <= 12 else None
        end = " ".join(x for x in (d2, month2 or month, y2 or y) if x)
        start = " ".join(x for x in (d, month if month2 else None, y if y2 and y2 != y else None) if x)
        return f"{start}–{end}" if start else end
    return " ".join(x for x in (d, month, y) if x)


def _count(s: Span, text: str) -> str:
    n = s.text
    digits = re.sub(r"[^\d,.]", "", n)
    value = digits or str(_CN_NUM.get(n[0], "")) if n else ""
    if not value:
        return ""
    more = "多" in n or "余" in n
    return f"more than {value}" if more else value


def _reference(s: Span) -> str | None:
    t = re.sub(r"\s+", "", s.text)
    if m := re.fullmatch(r"第(\d{1,2}/\d{1,2})号决议", t):
        return f"resolution {m.group(1)}"
    if m := re.fullmatch(r"第(\d+)条(?:第(\d+)款)?", t):
        return f"article {m.group(1)}" + (f", paragraph {m.group(2)}" if m.group(2) else "")
    if m := re.fullmatch(r"第(\d+)段", t):
        return f"para. {m.group(1)}"
    if re.fullmatch(r"[A-Z]{2,5}(?:/[A-Z0-9.]+){2,}", t):
        return t
    return None


def english_facts(text: str, types: Iterable[str] = ()) -> list[str]:
    """The facts of ``text`` that answer ``types`` (all language-neutral ones when empty), in English."""
    wanted = {t for k in types for t in _SHOWN.get(k, ())} or set(_DEFAULT)
    g = gazetteer()
    spans = find_spans(text)
    out: list[str] = []
    used: set[int] = set()
    for i, s in enumerate(spans):
        if s.type not in wanted or i in used:
            continue
        fact: str | None = None
        if s.type == "date":
            fact = english_date(s.text)
        elif s.type == "count":
            fact = _count(s, text)
        elif s.type in ("money", "percent"):
            fact = s.text.replace("美元", " US dollars").replace("欧元", " euros").replace("％", "%") if re.search(r"\d", s.text) else None
        elif s.type == "person":
            fact = s.text
            # "Name (俄罗斯联邦)": the country right after a name, in parentheses, goes with it
            nxt = next((j for j, x in enumerate(spans) if x.type == "place" and 0 < x.start - s.end <= 3
                        and re.fullmatch(r"\s*[(（]\s*", text[s.end : x.start])), None)
            if nxt is not None:
                used.add(nxt)
                fact = f"{s.text} ({g.places[spans[nxt].text]})"
        elif s.type == "place":
            fact = g.places.get(s.text)
        elif s.type == "org":
            fact = g.orgs.get(s.text)
        elif s.type == "reference":
            fact = _reference(s)
        if fact and fact not in out:
            out.append(fact)
    return out[:8]
