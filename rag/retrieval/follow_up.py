"""The follow-up rewrite, the chain's first step: what is searched for a question asked after another.

A question that points back (a real anaphor: "它", "这些", a leading "该…"/"其…", "what about…") or has
no topic of its own ("那 2017 年呢？", "And in 2020?") is searched together with the previous question,
so "那 2017 年呢？" after a question on asset declarations still finds asset declarations. A question
with its own topic ("工作组有哪些职能？") is new. Only the search text changes: the question answered,
refused and shown stays the one asked.
"""

from __future__ import annotations

import re

from rag.text import script_of

# Real anaphors: "它/它们", "这些/那些/上述", a sentence-initial "该…/其…" ("该工具…", "其目标…"), "那…呢".
# Not pointers: "应该", "其他", "其中", "尤其", "极其" — the characters occur inside ordinary words.
_POINTER_ZH = re.compile(r"它们?|这些|那些|上述|前述|此事|^(?:该|其)(?![他余它中实次])|^那|呢[？?]?$|(?<![应活])该(?:项|组|机构|办公室|工具|方案|报告|会议|倡议|网络|数据库|文件|计划|举措)")
_POINTER_EN = re.compile(r"\b(?:it|its|they|them|their|this|that|those|these|such)\b|^(?:what|how) about\b|^and\b", re.I)
# A question with a subject of its own names one: enough content characters beyond its question words.
_QUESTION_WORDS_ZH = re.compile(r"什么|哪些|哪个|如何|怎样|怎么|是否|为什么|为何|多少|几|谁|何时|哪里|哪|呢|吗|了|的|是|有|在|和|与|及|年|月|日|[？?，,。\s\d]")
_STOP_EN = set("what which who whom when where why how is are was were do does did the a an of in on for to and or about with by from at as be been this that these those it its they their them what's".split())


def follow_up_query(question: str, history: tuple[tuple[str, str], ...], *, topic_chars_zh: int = 3,
                    topic_words_en: int = 2) -> str:
    """Search text for ``question`` after the turns in ``history``: the previous question and this one
    when this one points back or has fewer than ``topic_chars_zh`` content characters (Chinese) /
    ``topic_words_en`` content words (English) of its own (``answer.follow_up_topic_*``); else itself.

    >>> h = (("工作组关于资产申报提出了什么建议？", "…"),)
    >>> follow_up_query("那2017年呢？", h) != "那2017年呢？", follow_up_query("工作组有哪些职能？", h)
    (True, '工作组有哪些职能？')
    >>> follow_up_query("应该如何改进举报人保护？", h), follow_up_query("其他国家有哪些做法？", h)
    ('应该如何改进举报人保护？', '其他国家有哪些做法？')
    >>> follow_up_query("And in 2020?", (("What about asset declarations?", "…"),))
    'What about asset declarations? And in 2020?'
    """
    if not history:
        return question
    prev = history[-1][0]
    q = question.strip()
    if script_of(q) == "zh":
        pointing = bool(_POINTER_ZH.search(q))
        own_topic = len(_QUESTION_WORDS_ZH.sub("", q)) >= topic_chars_zh
    else:
        pointing = bool(_POINTER_EN.search(q))
        own_topic = len([w for w in re.findall(r"[a-z][a-z'-]+", q.lower()) if w not in _STOP_EN]) >= topic_words_en
    return f"{prev} {question}" if pointing or not own_topic else question
