"""Typed spans in source text: the counts, dates, people, places, organisations, references, titles,
lists and purpose clauses a unit (sentence or sub-item) holds.

The extractive reader prefers a unit that holds the kind of thing a question asks for (see
``rag.answer.question``) over a topic sentence that does not, and refuses when no unit on the topic
holds one. The detectors are regular expressions over UN Chinese text (with its Latin-script names
and symbols) plus a gazetteer: ISO 3166 country names in their official Chinese forms from
``pycountry`` (a maintained list, not a hand-made one), extended with the glossary's UN-specific
places and organisations (``rag/retrieval/glossary_en_zh.yaml``).

>>> [(s.type, s.text) for s in find_spans("到 2011 年 5 月 27 日，总共有 28 个会员国提交了这类信息")]
[('date', '2011 年 5 月 27 日'), ('count', '28 个')]
>>> [s.text for s in find_spans("会议由主席 Alexander Kononov (俄罗斯联邦) 主持。") if s.type in ("person", "place")]
['Alexander Kononov', '俄罗斯联邦']
>>> [s.type for s in find_spans("实施《公约》第 5、7、12 和 13 条")]   # an article list is not a count
['title', 'reference']
"""

from __future__ import annotations

import gettext
import re
from dataclasses import dataclass
from functools import lru_cache

from rag.retrieval.glossary import load_glossary
from rag.text import script_of

#: Chinese measure words that follow a counted number ("28 个会员国", "3 次会议", "162 名专家").
MEASURES = "个名项起次家份位笔所届期条步种类国批场轮座部本门"
NUM = r"(?:\d[\d,，.]*\d|\d|[一二两三四五六七八九十百千万几数]+)"

_COUNT = re.compile(rf"({NUM})\s*(多|余)?\s*([{MEASURES}])")
_MONEY = re.compile(
    rf"{NUM}\s*(?:多|余)?\s*(?:万|亿|千|百万)?\s*(?:美元|欧元|瑞士法郎|英镑|日元|人民币|元)|(?:US\$|\$|€|USD|EUR)\s*\d[\d,.]*"
)
_PERCENT = re.compile(rf"{NUM}\s*(?:%|％)|百分之[零一二三四五六七八九十百\d.]+")
_DATE = re.compile(
    r"(?:19|20)\d{2}\s*年(?:\s*\d{1,2}\s*月)?(?:\s*\d{1,2}\s*日)?"
    r"(?:\s*(?:至|到|-|—)\s*(?:(?:19|20)\d{2}\s*年\s*)?(?:\d{1,2}\s*月\s*)?\d{1,2}\s*日)?"
    r"|\d{1,2}\s*月\s*\d{1,2}\s*日(?:\s*(?:至|到|-|—)\s*(?:\d{1,2}\s*月\s*)?\d{1,2}\s*日)?"
    r"|(?<![\d/.])(?:19|20)\d{2}(?![\d/])"
)
# Latin-script personal names in Chinese text: two to five capitalised words, particles allowed
# ("Harib Saeed al-Amimi", "Andrés Lamoliatte Vargas"); all-capital acronyms are not names.
_NAME_WORD = r"[A-ZÀ-Ý][a-zà-ÿ'’\-]+"
_PERSON = re.compile(rf"(?<![A-Za-z]){_NAME_WORD}(?:\s+(?:(?:al|el|de|da|del|van|von|bin|ibn)[\- ])?{_NAME_WORD}){{1,4}}")
_ROLE = re.compile(r"(?:副?主席|秘书长|执行主任|科长|处长|司长|局长|部长|主任|总干事|报告员|特别代表)")
_REFERENCE = re.compile(
    r"第\s*\d{1,2}\s*/\s*\d{1,2}\s*号决议|第\s*[\d一二三四五六七八九十、和至\s]+\s*条(?:\s*第\s*\d+\s*款)?"
    r"|第\s*\d{1,3}\s*段|[A-Z]{2,5}(?:/[A-Z0-9.]+){2,}"
)
_TITLE = re.compile(r"《[^》]{1,80}》|“[^”]{2,60}”")
_PURPOSE = re.compile(r"目的是|目的在于|旨在|以便|以期|为了|以确保|可确保|从而|用以|首要目标|目标是|宗旨|因为|由于|原因")
_DEFINITION = re.compile(r"是指|系指|指的是|定义为|界定为|即")
_ORG_SUFFIX = re.compile(
    r"[\u4e00-\u9fff]{2,12}?(?:办公室|委员会|理事会|组织|学院|大学|银行|协会|联合会|联盟|网络|倡议|论坛|中心|计划署|基金会|法院|议会|政府|机构|部)"
)
# A number inside an ordinal list ("第 5、7、12 和 13 条") is no count: look back over such characters for 第.
_ORDINAL_BACK = re.compile(r"第[\d\s、，,和及至\-]*$")


@dataclass(frozen=True)
class Span:
    """One typed piece of a unit's text: ``text[start:end]`` of the unit is ``text``."""

    type: str  # count | money | percent | date | person | role | place | org | orgx | reference | title | list | purpose | definition
    start: int
    end: int
    text: str
    measure: str | None = None  # count: the measure word ("个")


@dataclass(frozen=True)
class Gazetteer:
    """Chinese place and organisation names with their English forms (for English answers)."""

    places: dict[str, str]  # Chinese name -> English name
    orgs: dict[str, str]
    place_re: re.Pattern[str]
    org_re: re.Pattern[str]


_SMALL = {"of", "on", "and", "the", "for", "in", "to", "against", "de", "du"}


def _english_name(key: str, acronym: bool = True) -> str:
    """A glossary key as an English name: "unodc" -> "UNODC", "world bank" -> "World Bank"."""
    if acronym and " " not in key and len(key) <= 6:
        return key.upper()
    words = key.split()
    return " ".join(w if (i and w in _SMALL) else w[:1].upper() + w[1:] for i, w in enumerate(words))


def _alternation(names) -> re.Pattern[str]:
    return re.compile("|".join(re.escape(n) for n in sorted(names, key=len, reverse=True)))


@lru_cache(maxsize=1)
def gazetteer() -> Gazetteer:
    """pycountry's ISO 3166 names (with official names) in zh_CN, then the glossary's places and
    organisations on top (UN forms such as "多民族玻利维亚国" or "毒品和犯罪问题办公室" that ISO lacks)."""
    import pycountry

    places: dict[str, str] = {}
    zh = gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=["zh_CN"], fallback=True)
    for c in pycountry.countries:
        for name in (getattr(c, "common_name", None), c.name, getattr(c, "official_name", None)):
            if name and (z := zh.gettext(name)) != name and re.search(r"[\u4e00-\u9fff]", z):
                places.setdefault(z, getattr(c, "common_name", None) or c.name)
    g = load_glossary()
    orgs: dict[str, str] = {}
    for key, forms in g.zh.items():
        if key not in g.entities:
            continue
        is_place = any(f in places for f in forms) or key in g.places
        target = places if is_place else orgs
        english = _english_name(key, acronym=not is_place)
        for f in forms:
            target.setdefault(f, english)
    return Gazetteer(places, orgs, _alternation(places), _alternation(orgs))


def _is_count(text: str, m: re.Match[str]) -> bool:
    if _ORDINAL_BACK.search(text[: m.start()]):
        return False  # "第 8 条", "第 5、7 和 13 条"
    if m.group(1) in ("几", "数", "一") and not m.group(2):
        return False  # "几个" / "数个": vague; "一个缔约国" / "一位代表": an article, not a figure
    return True


# Counts and dates as an English (Latin-script) language version writes them: "10 States parties",
# "six regional workshops", "6 September 2019", "in 2018". Used only on text without Chinese, so the
# Chinese documents' spans are exactly what they were.
_MONTHS = "January|February|March|April|May|June|July|August|September|October|November|December"
_DATE_EN = re.compile(rf"\b(?:\d{{1,2}}(?:[–-]\d{{1,2}})?\s+(?:{_MONTHS})(?:\s+\d{{4}})?|(?:{_MONTHS})\s+\d{{4}})\b|(?<![/\w])(?:19|20)\d{{2}}(?![/\w])")
_NUMBER_WORDS = "one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|fifteen|twenty|thirty|forty|fifty|hundred"
_COUNT_EN = re.compile(
    rf"(?<![\w./])(\d{{1,3}}(?:,\d{{3}})+|\d+|(?i:{_NUMBER_WORDS}))\s+(?!per\b|percent\b|%)([A-Za-z][A-Za-z-]+)"
)
_NOT_COUNTED = re.compile(r"(?:para(?:graph)?s?\.?|articles?|resolutions?|decisions?|no\.|of)\s*$", re.I)


def _english_spans(text: str, add) -> None:
    dates = list(_DATE_EN.finditer(text))
    for m in dates:
        add("date", m)
    for m in _COUNT_EN.finditer(text):
        inside_date = any(d.start() <= m.start() < d.end() for d in dates)
        if not inside_date and not _NOT_COUNTED.search(text[max(0, m.start() - 12) : m.start()]):
            add("count", m, m.group(2))


@lru_cache(maxsize=65536)
def find_spans(text: str) -> tuple[Span, ...]:
    """Every typed span of ``text``, in reading order (cached per text: units are reused across questions)."""
    out: list[Span] = []

    def add(t: str, m: re.Match[str], measure: str | None = None) -> None:
        out.append(Span(t, m.start(), m.end(), m.group(0).strip(), measure))

    if script_of(text) != "zh":
        _english_spans(text, add)
    else:
        dates = list(_DATE.finditer(text))
        date_cover = [(m.start(), m.end()) for m in dates]
        for m in dates:
            add("date", m)
        for m in _COUNT.finditer(text):
            inside_date = any(a <= m.start() < b for a, b in date_cover)
            if not inside_date and _is_count(text, m):
                add("count", m, m.group(3))
    for rx, t in ((_MONEY, "money"), (_PERCENT, "percent"), (_PERSON, "person"), (_ROLE, "role"),
                  (_REFERENCE, "reference"), (_TITLE, "title"), (_PURPOSE, "purpose"), (_DEFINITION, "definition")):
        for m in rx.finditer(text):
            add(t, m)
    g = gazetteer()
    for m in g.place_re.finditer(text):
        if not text.startswith(("文", "语"), m.end()):  # "西班牙文" is a language, not Spain
            add("place", m)
    seen_org = set()
    for m in g.org_re.finditer(text):
        add("org", m)
        seen_org.add(m.start())
    for m in _ORG_SUFFIX.finditer(text):
        if m.start() not in seen_org:
            add("orgx", m)  # shaped like an organisation ("…理事会", "教育部"), not a known one
    if enumeration(text) >= 1.0:
        out.append(Span("list", 0, len(text), text))
    out.sort(key=lambda s: (s.start, s.type))
    return tuple(out)


def enumeration(text: str) -> float:
    """0-1: how much ``text`` reads as a list ("调职、降级、停职或开除": 3 separators or more is a list)."""
    n = text.count("、") + text.count("；") + text.count(";")
    n += len(re.findall(r"(?:以及|和|及)", text)) * (1 if n else 0) * 0.5
    return min(1.0, n / 3)


def spans_of(text: str, *types: str) -> list[Span]:
    """The spans of ``text`` of the given types."""
    return [s for s in find_spans(text) if s.type in types]


def count_matches(text: str, measure: str | None, noun: str | None) -> float:
    """How well ``text`` answers "多少<measure><noun>": 1 = a number with that measure and the noun
    within 14 characters ("3 次关于保护举报人和证人的区域会议"), .6 = the measure only, .3 = any count, 0 = none."""
    best = 0.0
    latin = script_of(text) != "zh"
    for s in spans_of(text, "count"):
        if latin:  # an English version: the question's noun is a Chinese term, so any figure may answer
            best = max(best, 0.6)
        elif measure == "" and noun:  # English "how many States": any measure word, the noun must follow
            if noun in text[s.end : s.end + 16] or noun == s.measure:  # "9,000 多次" counts times
                return 1.0
            best = max(best, 0.3)
        elif measure and s.measure == measure:
            tail = text[s.end : s.end + 16]
            if noun and noun in tail:
                return 1.0
            best = max(best, 0.6 if not noun else 0.5)
        else:
            best = max(best, 0.3)
    return best
