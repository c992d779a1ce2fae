"""Question analysis: what kind of thing a question asks for, and its parts.

The extractive reader looks for a unit that holds the asked-for thing (a count, a date, a person…;
see ``rag.answer.spans``), and refuses when no unit on the topic holds one. A question may ask for
several things: "…依据哪部法律设立的？其首要目标是什么？", "who chaired the meeting and when was it
held?" — each part gets its own best unit.

Answer types:

=============  ==========================================  ==============================================
type           Chinese cues                                English cues
=============  ==========================================  ==============================================
count          多少个/名/次…, 几个, 哪三步                  how many, number of
money          多少资金/钱/经费/损失, 金额                  how much money/funding, what amount
percent        百分之, 比例, 百分比                         percentage, per cent
date           何时, 什么时候, 哪一年, 哪一天, 日期          when, what/which year/date/month
person         谁, 何人, 哪位                               who, whom
place          哪里, 何地, 哪个城市/国家, 哪些国家           where, which city/country/countries/region
org            哪个/哪些机构/组织/大学                       which organization/institution/body/university
reference      哪一条/款, 哪项决议, 第几号                   which article/resolution/paragraph
title          标题, 题为, 名称, 叫什么                      title, called, named
list           哪些, 哪几, 列出, 包括什么                    which …s, what are, list
purpose        目的, 为什么, 为何, 旨在, 目标                why, purpose, aim, objective, goal
definition     什么是, 是指, 定义, 含义                      what is meant, define, definition
=============  ==========================================  ==============================================

*Strict* types (count, money, percent, date, person, place, reference) name a thing a unit either
holds or does not: their absence from every unit on the topic is a reason to refuse.

>>> a = analyze("美国政府道德办公室是依据哪部法律设立的？其首要目标是什么？")
>>> [sorted(p.types) for p in a.parts]
[['title'], ['purpose']]
>>> sorted(analyze("Who presided over the Working Group's eighth meeting in August 2017?").types)
['person']
>>> analyze("各缔约国已向数据库提名了多少名专家？").parts[0].quantity
('名', '专家')
>>> sorted(analyze("秘书处所说的“三步走”做法是指哪三步？").types)   # a list of three, not a count
['list']
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from rag.answer.spans import MEASURES
from rag.retrieval.query import parse_refs
from rag.text import script_of

STRICT = frozenset({"count", "money", "percent", "date", "person", "place", "reference"})

_CUES: dict[str, tuple[str, str]] = {
    # type: (Chinese regex, English regex)
    "money": (r"多少[^？?，,。]{0,14}?(?:资金|钱|经费|费用|预算|损失|捐款|美元|欧元)|金额|资金(?:总额|数额)|数额",
              r"\bhow much (?:money|funding|fund|did .{0,40}(?:cost|contribute|provide|fund|donate|lose))|\bwhat amount\b|\bamount of (?:money|funding)\b|\bhow much .{0,30}(?:cost|worth)\b"),
    "percent": (r"百分之|百分比|比例|比率", r"\bpercentage\b|\bper ?cent\b|\bproportion\b|\bshare of\b"),
    "count": (rf"(?:多少|几)\s*[{MEASURES}]|多少", r"\bhow many\b|\bnumber of\b"),
    "date": (r"何时|什么时候|哪一?年|哪一?天|哪个月|几月|几号(?!决议)|日期|哪日|何年|哪段时间|多久",
             r"\bwhen\b|\b(?:what|which) (?:year|date|day|month|period)\b|\bin what year\b|\bon what date\b|\bhow long\b"),
    "person": (r"谁|何人|哪位|哪一位|哪些人|什么人",
               r"\bwho\b|\bwhom\b|\bwhose\b|\bwhich (?:person|official|expert|chair|speaker|panellist|panelist)s?\b"),
    "place": (r"哪里|何地|何处|哪儿|在哪(?:里|儿|个|座)|哪个?(?:城市|国家|地方|地区|区域)|哪些(?:国家|城市|地区|区域)|哪国|哪座城市",
              r"\bwhere\b|\b(?:which|what) (?:cit(?:y|ies)|countr(?:y|ies)|region|regions|place|venue|states)\b|\bin which (?:city|country)\b"),
    "org": (r"哪(?:个|家|些)?(?:机构|组织|部门|单位|大学|实体|伙伴)",
            r"\b(?:which|what) (?:organi[sz]ations?|institutions?|bod(?:y|ies)|agenc(?:y|ies)|universit(?:y|ies)|offices?|entit(?:y|ies)|partners?)\b"),
    "reference": (r"哪(?:一)?(?:条款|条|款)|哪(?:一)?(?:项|号)决议|第几(?:条|号|段)|哪份文件|文号|哪个条款",
                  r"\b(?:which|what) (?:article|resolution|paragraph|provision|document)s?\b"),
    "title": (r"标题|题为|题目|名称|叫什么|称为什么|哪部法律|什么法律|哪本|哪份出版物",
              r"\b(?:title|titled|called|named)\b|\bwhat (?:law|publication|guide|handbook)\b|\bwhich (?:law|publication|guide)\b"),
    "list": (r"哪些|哪几|列出|列举|包括什么|包括哪|有什么.{0,6}(?:职能|建议|专题|措施|议程|目标|问题|要素|因素|做法|例子)|(?:职能|议程|专题|要素|步骤)(?:是|有)什么|哪(?:两|三|四|五|六|七|八|九|十)",
             r"\b(?:which|what) (?:two|three|four|five|six|seven|eight|nine|ten)\b|\bwhich (?:\w+ ){0,2}(?!(?:is|was|has|does|this|its|as|us)\b)\w+s\b|\bwhat (?:are|were)\b|\blist\b|\bname the\b|\benumerate\b|\bwhat (?:\w+ ){0,2}(?:functions|recommendations|topics|measures|items|issues|factors|elements|examples|steps|areas)\b"),
    "purpose": (r"目的|为什么|为何|旨在|用意|宗旨|目标是什么|首要目标|为了什么|原因", r"\bwhy\b|\bpurpose\b|\baims?\b|\bobjectives?\b|\bgoals?\b|\breason\b"),
    "definition": (r"什么是|是指什么|定义|含义|指的是什么", r"\bwhat is meant\b|\bdefin(?:e|es|ed|ition)\b|\bmeaning of\b"),
}
_COMPILED = {t: (re.compile(zh), re.compile(en, re.I)) for t, (zh, en) in _CUES.items()}
_HOW_MANY_ZH = re.compile(rf"(?:多少|几)\s*([{MEASURES}])([\u4e00-\u9fff]{{0,6}})")
_HOW_MANY_EN = re.compile(r"\bhow many ([a-z\-]+(?: [a-z\-]+)?)", re.I)
# Where an English question starts a second question: ", and what …", "; when …", "? Who …".
_EN_SPLIT = re.compile(r"(?:,\s*|;\s*|\?\s+|\s)and (?=(?:what|when|who|whom|where|which|how|why)\b)|\?\s+(?=[A-Z])", re.I)


@dataclass(frozen=True)
class QuestionPart:
    """One asked-for thing."""

    text: str
    types: frozenset[str]
    quantity: tuple[str, str] | None = None  # Chinese "多少名专家" -> ("名", "专家")
    year: int | None = None  # "2017年和2019年…分别…": the part about one year's document

    @property
    def strict(self) -> frozenset[str]:
        return self.types & STRICT


@dataclass(frozen=True)
class QuestionAnalysis:
    question: str
    lang: str
    parts: tuple[QuestionPart, ...]
    quoted: tuple[str, ...] = ()  # names in quotes or title marks: "“透明度队”" -> ("透明度队",)
    numbers: tuple[str, ...] = ()  # digits the question writes ("2011", "5", "27"): a unit repeating them is on point
    list_size: str | None = None  # "哪三步" / "which six": the numeral a whole list answer should show ("三")

    @property
    def types(self) -> frozenset[str]:
        return frozenset().union(*(p.types for p in self.parts))

    @property
    def is_list(self) -> bool:
        return "list" in self.types


def split_parts(question: str) -> list[str]:
    """The sub-questions of a multi-part question (one piece for a single question).

    >>> split_parts("工作组第一次会议提出了哪些建议？后来取得了什么进展？")
    ['工作组第一次会议提出了哪些建议？', '后来取得了什么进展？']
    >>> split_parts("Which institution is the main body, and what powers does it have?")
    ['Which institution is the main body', 'what powers does it have?']
    """
    q = question.strip()
    if script_of(q) == "zh":
        pieces = [p for p in re.split(r"(?<=[？?])", q) if p.strip()]
    else:
        pieces = [p.strip(" ,;") for p in _EN_SPLIT.split(q) if p and p.strip(" ,;?")]
    # A fragment too short to ask anything ("呢？") belongs to the piece before it.
    out: list[str] = []
    for p in pieces:
        if out and len(re.sub(r"[\s？?，,。]", "", p)) < 4:
            out[-1] += p
        else:
            out.append(p)
    return out or [q]


def _types(text: str) -> frozenset[str]:
    zh = script_of(text) == "zh"
    found = {t for t, (rz, re_en) in _COMPILED.items() if (rz if zh else re_en).search(text)}
    if zh and re.search(r"由谁|是谁|谁主持|谁主办", text):
        found.add("person")
    if {"money", "percent"} & found:
        found.discard("count")  # "多少资金" asks for an amount, not a count
    return frozenset(found)


def asked_quantity(text: str) -> tuple[str, str] | None:
    """(measure word, counted noun) of a Chinese "how many" question, e.g. ("名", "专家").

    >>> asked_quantity("各缔约国已向数据库提名了多少名专家？"), asked_quantity("提供了多少资金？")
    (('名', '专家'), None)
    """
    m = _HOW_MANY_ZH.search(text)
    if not m:
        return None
    noun = re.split(r"[和与及的在是了？?，,]", m.group(2))[0]
    return m.group(1), noun[:2] if len(noun) >= 2 else ""


#: Chinese forms of what English "how many …" questions count, to find "<number> <measure> …<noun>" in
#: Chinese text ("How many States…" -> "26 个国家"). Only for checking counts: not a search glossary.
COUNT_NOUNS_EN = {
    "staff": "工作人员", "employees": "工作人员", "states": "国", "countries": "国", "parties": "缔约国", "experts": "专家",
    "participants": "与会", "meetings": "会议", "workshops": "讲习班", "requests": "请求", "projects": "项目",
    "activities": "活动", "members": "成员", "judges": "法官", "prosecutors": "检察官", "officials": "官员",
    "representatives": "代表", "universities": "大学", "courses": "课程", "advisers": "顾问", "advisors": "顾问",
    "times": "次", "people": "人", "persons": "人", "cases": "案", "reports": "报告", "languages": "文",
}


def counted_noun_en(text: str) -> str | None:
    """The noun an English "how many" question counts: "How many States were reviewed" -> "states"."""
    m = _HOW_MANY_EN.search(text)
    return m.group(1).lower() if m else None


_QUOTED = re.compile(r"[“「『\"]([^”」』\"]{2,24})[”」』\"]|《([^》]{2,40})》")
_EACH = re.compile(r"分别|各自|respectively|\bcompare|\bboth\b|\beach of\b", re.I)
_LIST_SIZE = re.compile(r"哪(两|三|四|五|六|七|八|九|十)|\b(?:which|what)(?: \w+){0,2} (two|three|four|five|six|seven|eight|nine|ten)\b", re.I)
_EN_NUMERALS = dict(zip("two three four five six seven eight nine ten".split(), "两三四五六七八九十"))
_SECOND_NOUN = re.compile(r"(?:和|及|与|以及)([\u4e00-\u9fff]{2,6})")


def quoted_terms(question: str) -> list[str]:
    """Names a Chinese question puts in quotes or title marks: "“旋转门”问题" -> ["旋转门"].

    >>> quoted_terms("厄瓜多尔的“透明度队”是什么？"), quoted_terms('What is the "revolving door"?')
    (['透明度队'], [])
    """
    if not re.search(r"[\u4e00-\u9fff]", question):
        return []  # an English quoted phrase cannot be looked up in Chinese text
    return [a or b for a, b in _QUOTED.findall(question)]


def _count_parts(piece: str) -> list[QuestionPart]:
    """"多少名检察官和司法官员" asks two counts: (名, 检察) and (名, 司法)."""
    types = _types(piece)
    q = asked_quantity(piece)
    parts = [QuestionPart(piece, types, q)]
    if q and q[1]:
        m = _HOW_MANY_ZH.search(piece)
        if m and (second := _SECOND_NOUN.match(piece[m.end() - len(m.group(2)) + len(q[1]):].lstrip("员官人国家")) or _SECOND_NOUN.search(m.group(2))):
            parts.append(QuestionPart(piece, types, (q[0], second.group(1)[:2])))
    return parts


@lru_cache(maxsize=4096)
def analyze(question: str) -> QuestionAnalysis:
    """Types and parts of ``question`` (see the module docstring)."""
    lang = script_of(question)
    parts: list[QuestionPart] = []
    for piece in split_parts(question):
        if lang == "zh":
            parts += _count_parts(piece)
        else:
            noun = counted_noun_en(piece) if "count" in _types(piece) else None
            zh_noun = next((COUNT_NOUNS_EN[w] for w in (noun or "").split() if w in COUNT_NOUNS_EN), None)
            parts.append(QuestionPart(piece, _types(piece), ("", zh_noun) if zh_noun else None))
    # Parts that ask nothing typed and add no topic of their own are not separate questions.
    if len(parts) > 1 and not all(p.types for p in parts):
        merged = frozenset().union(*(p.types for p in parts))
        parts = [QuestionPart(question, merged, next((p.quantity for p in parts if p.quantity), None))]
    years = sorted(parse_refs(question).years)
    if len(parts) == 1 and len(years) >= 2 and (_EACH.search(question) or lang == "zh"):
        # "2017年和2019年的报告分别…": one part per year, each answered from that year's document
        parts = [QuestionPart(parts[0].text, parts[0].types, parts[0].quantity, y) for y in years]
    m = _LIST_SIZE.search(question)
    size = (m.group(1) or _EN_NUMERALS.get((m.group(2) or "").lower())) if m else None
    numbers = tuple(dict.fromkeys(re.findall(r"\d+", question)))
    return QuestionAnalysis(question, lang, tuple(parts), tuple(quoted_terms(question)), numbers, size)
