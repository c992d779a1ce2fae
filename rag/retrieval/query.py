"""Read what a query names exactly: document symbols, paragraph numbers, resolutions, articles.

Delegates cite the way UN documents do: "CAC/COSP/WG.4/2019/L.1/Add.1, para. 5", "第 3/2 号决议",
"resolution 7/5", "《公约》第 6 条" / "第六条" / "article 6". Such a query must surface the paragraphs that
mention the reference, whatever the embedding thinks. Chinese documents write articles with Arabic or
Chinese numerals ("第 8 条", "第十三条"), so both spellings are searched.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from rag.corpus.symbols import find_symbols
from rag.text import script_of

_CN_DIGITS = "零一二三四五六七八九"


def to_chinese_numeral(n: int) -> str:
    """1-99 in Chinese numerals as UN Chinese texts write article numbers.

    >>> [to_chinese_numeral(n) for n in (6, 10, 13, 20, 63)]
    ['六', '十', '十三', '二十', '六十三']
    """
    if n < 10:
        return _CN_DIGITS[n]
    tens, ones = divmod(n, 10)
    return ("" if tens == 1 else _CN_DIGITS[tens]) + "十" + (_CN_DIGITS[ones] if ones else "")


def from_chinese_numeral(s: str) -> int | None:
    """Inverse of to_chinese_numeral for 1-99; None if not such a numeral."""
    if not s or any(c not in _CN_DIGITS + "十" for c in s):
        return None
    if "十" not in s:
        return _CN_DIGITS.index(s) if len(s) == 1 else None
    tens, _, ones = s.partition("十")
    t = _CN_DIGITS.index(tens) if tens else 1
    o = _CN_DIGITS.index(ones) if ones else 0
    return t * 10 + o


_PARA_EN = re.compile(r"\b(?:para(?:graph)?s?\.?)\s*(\d{1,3})(?:\s*\(([a-z])\))?", re.I)
_PARA_ZH = re.compile(r"第\s*(\d{1,3})\s*段(?:\s*[(（]([a-z])[)）])?")
_RES_ZH = re.compile(r"第?\s*(\d{1,2}\s*/\s*\d{1,2})\s*号?\s*决议")
_RES_EN = re.compile(r"\bresolutions?\s+(\d{1,2}\s*/\s*\d{1,2})", re.I)
_ART_ZH = re.compile(r"第\s*(\d{1,2}|[一二三四五六七八九十]{1,3})\s*条")
_ART_EN = re.compile(r"\barticles?\s+(\d{1,2})\b", re.I)
_MEETING_ZH = re.compile(r"第\s*(\d{1,2}|[一二三四五六七八九十]{1,3})\s*(?:次会议|届会议|届会)")
_ORDINALS = ("first second third fourth fifth sixth seventh eighth ninth tenth eleventh twelfth thirteenth "
             "fourteenth fifteenth sixteenth seventeenth eighteenth nineteenth twentieth").split()
_MEETING_EN = re.compile(r"\b(" + "|".join(_ORDINALS) + r"|\d{1,2}(?:st|nd|rd|th))\s+(?:meeting|session)", re.I)
_YEAR = re.compile(r"(?<![\d/])(19[5-9]\d|20[0-4]\d)(?![\d/])")


@lru_cache(maxsize=256)
def year_pattern(year: int) -> re.Pattern[str]:
    """The year as a number of its own: 2019 in "2019年", not in "12019" or "20190".

    >>> bool(year_pattern(2019).search("2019年11月")), bool(year_pattern(2019).search("120190"))
    (True, False)
    """
    return re.compile(rf"(?<!\d){year}(?!\d)")


@dataclass(frozen=True)
class QueryRefs:
    """The exact references found in a query."""

    symbols: tuple[str, ...] = ()
    paras: tuple[tuple[int, str | None], ...] = ()  # (number, sub letter)
    resolutions: tuple[str, ...] = ()  # "3/2"
    articles: tuple[int, ...] = ()
    meetings: tuple[int, ...] = ()  # "第十二次会议" / "twelfth meeting" -> 12 (not used to boost: too common)
    years: tuple[int, ...] = ()  # not used to boost either; both serve the refusal check

    def __bool__(self) -> bool:
        return bool(self.symbols or self.paras or self.resolutions or self.articles)

    def meeting_patterns(self) -> list[re.Pattern[str]]:
        return [re.compile(rf"第\s*(?:{n}|{to_chinese_numeral(n)})\s*(?:次会议|届会议|届会)|\b{_ORDINALS[n - 1] if n <= 20 else n}\s+(?:meeting|session)", re.I)
                for n in self.meetings]

    def year_patterns(self) -> list[re.Pattern[str]]:
        return [year_pattern(y) for y in self.years]

    def resolution_patterns(self) -> list[re.Pattern[str]]:
        """One regex per resolution, finding "第 3/2 号决议" / "3/2号决议" / "resolution 3/2" in text."""
        out = []
        for r in self.resolutions:
            a, b = (x.strip() for x in r.split("/"))
            out.append(re.compile(rf"(?<!\d){a}\s*/\s*{b}(?!\d)\s*号?\s*决议|resolution\s+{a}/{b}\b", re.I))
        return out

    def article_patterns(self) -> list[re.Pattern[str]]:
        """One regex per article: "第 6 条", "第六条", "第 5、7、12 和 13 条" (for 12), "article 6"."""
        return [
            re.compile(rf"第\s*(?:{n}|{to_chinese_numeral(n)})\s*条|第\s*(?:[\d、，和至\-\s]+、\s*)?{n}(?:\s*[、，和至-]\s*\d+)*\s*条"
                       rf"|article\s+{n}\b", re.I)
            for n in self.articles
        ]

    def patterns(self) -> list[re.Pattern[str]]:
        """Regexes that find a mention of any named resolution, article or symbol in paragraph text."""
        return self.resolution_patterns() + self.article_patterns() + [re.compile(re.escape(s)) for s in self.symbols]

    def pattern_words(self) -> frozenset[str]:
        """Words of which a paragraph's ``str.casefold()`` text holds at least one whenever any of
        :meth:`patterns` matches it: every resolution pattern ends in 决议 or starts with "resolution",
        every article pattern holds 条 or "article", a symbol is itself. A substring test on them skips
        the regexes for most paragraphs (at 50k paragraphs the scan was 0.63 s a question). Kept here,
        beside the patterns, so that a change to one is seen to need a change to the other.

        >>> sorted(parse_refs("第 3/2 号决议与 CAC/COSP/2019/17 第 6 条").pattern_words())
        ['article', 'cac/cosp/2019/17', 'resolution', '决议', '条']
        """
        words: set[str] = set()
        if self.resolutions:
            words |= {"决议", "resolution"}
        if self.articles:
            words |= {"条", "article"}
        words |= {sym.casefold() for sym in self.symbols}
        return frozenset(words)


def _number(word: str) -> int | None:
    """"12", "十二", "twelfth" or "12th" -> 12."""
    w = word.lower()
    if w.isdigit():
        return int(w)
    if w in _ORDINALS:
        return _ORDINALS.index(w) + 1
    if re.fullmatch(r"\d+(?:st|nd|rd|th)", w):
        return int(re.sub(r"\D", "", w))
    return from_chinese_numeral(word)


def _numbers(query: str, *patterns: re.Pattern[str]) -> tuple[int, ...]:
    """The numbers that ``patterns`` (group 1) find in ``query``, in order, without duplicates."""
    found = (_number(m.group(1)) for rx in patterns for m in rx.finditer(query))
    return tuple(dict.fromkeys(n for n in found if n))


@lru_cache(maxsize=4096)
def parse_refs(query: str) -> QueryRefs:
    """Find symbols, paragraph numbers, resolutions and articles named in a query.

    >>> parse_refs("CAC/COSP/WG.4/2019/L.1/Add.1 第 5 段讲了什么？")
    QueryRefs(symbols=('CAC/COSP/WG.4/2019/L.1/Add.1',), paras=((5, None),), resolutions=(), articles=(), meetings=(), years=())
    >>> r = parse_refs("工作组第十二次会议于 2021 年何时举行？"); r.meetings, r.years
    ((12,), (2021,))
    >>> parse_refs("What does resolution 7/5 say about article 13?").resolutions, parse_refs("《公约》第十三条").articles
    (('7/5',), (13,))
    """
    paras = tuple((int(m.group(1)), m.group(2)) for rx in (_PARA_EN, _PARA_ZH) for m in rx.finditer(query))
    res = tuple(dict.fromkeys(re.sub(r"\s", "", m.group(1)) for rx in (_RES_ZH, _RES_EN) for m in rx.finditer(query)))
    arts = _numbers(query, _ART_ZH, _ART_EN)
    meetings = _numbers(query, _MEETING_ZH, _MEETING_EN)
    symbols = find_symbols(query)
    bare = _YEAR.sub("", " ".join(symbols))  # years inside a symbol are part of the symbol
    years = tuple(dict.fromkeys(int(y) for y in _YEAR.findall(query) if y not in bare))
    return QueryRefs(tuple(symbols), paras, res, arts, meetings, years)


@dataclass(frozen=True)
class QueryPlan:
    """How a query is searched: its script decides whether BM25 (over Chinese words) takes part."""

    text: str
    script: str  # "zh" | "en"
    refs: QueryRefs

    @classmethod
    def of(cls, text: str) -> "QueryPlan":
        return cls(text, script_of(text), parse_refs(text))
