"""The default answerer: quotes the sentences and sub-items of the top paragraphs that answer the
question. No LLM, works offline, never says anything the documents do not say.

Each unit (sentence or "(b) …" item) of the top sources is scored by

    score = cos(question, unit) + LEX * overlap(question, unit) + PARA * cos(question, its paragraph)
            + RANK / rank of its paragraph in the retrieval

where overlap is the share of the question's Chinese character bigrams found in the unit; for an English
question, the share of its glossary-translated Chinese terms found in the unit (see
``rag.retrieval.glossary``). The rank term carries the fused retrieval order, which is better than the
paragraph cosine alone for cross-language questions. For a list question, units that enumerate
("调职、降级、停职或开除", or a sub-item) get up to LIST more. The best units
within MARGIN of the best one are quoted in reading order, at most ``max_sentences``. A list question
("哪些…", "which…", "what are…") gets the whole list of the best paragraph that has one; a number/date
question leads with the best sentence holding a number.
"""

from __future__ import annotations

import re

import numpy as np

from rag.answer.base import AnswerInput, Answerer, Draft, DraftSentence
from rag.answer.units import Unit
from rag.retrieval.glossary import translate_terms

LEX = 0.15
PARA = 0.5
RANK = 0.02
LIST = 0.03
MARGIN = 0.035
MAX_LIST_ITEMS = 12

_LIST_Q = re.compile(
    r"哪些|哪几|列出|列举|有什么.{0,6}(职能|建议|专题|措施|议程|目标|问题)|包括什么|(职能|议程|专题|目标|要素)(是|有)什么"
    r"|\b(which|list|what are|what were|name the|enumerate)\b|\bwhat (functions|recommendations|topics|measures|items)\b",
    re.I,
)
_NUM_Q = re.compile(
    r"多少|几(个|次|项|名|家|届|月|年|国)|何时|什么时候|哪一?年|哪一?天|日期|第几|几号|号决议|哪(个|次)会议"
    r"|\bhow (many|much|long|often)\b|\bwhen\b|\bwhat (year|date|day|month)\b|\bwhich (resolution|year|date)\b|\bnumber of\b",
    re.I,
)
_DIGIT = re.compile(r"\d|[一二三四五六七八九十]+(次|个|项|年|月|日|届)")
_Q_STOP = set("什么哪些如何是否怎样为何关于有关的了吗呢和与及在对工作组") | {"?", "？"}


def question_kind(question: str) -> str:
    """'list', 'number' or 'fact' — decides the shape of an extractive answer.

    >>> question_kind("工作组有哪些职能？"), question_kind("How many regional meetings were held?"), question_kind("什么是资产申报？")
    ('list', 'number', 'fact')
    """
    if _NUM_Q.search(question):
        return "number"
    if _LIST_Q.search(question):
        return "list"
    return "fact"


def _bigrams(s: str) -> set[str]:
    cjk = [c for c in s if "\u4e00" <= c <= "\u9fff"]
    return {a + b for a, b in zip(cjk, cjk[1:]) if not (a in _Q_STOP and b in _Q_STOP)}


def overlap(question: str, text: str, idf=None) -> float:
    """Share of the question's CJK bigrams that occur in ``text``; for a question with no Chinese, the
    share of its glossary terms that occur in ``text``, each term weighted by ``idf(term)`` when given
    (so "举报人" outweighs "毒品和犯罪问题办公室", which is everywhere). 0 when it has no terms."""
    q = _bigrams(question)
    if q:
        return len(q & _bigrams(text)) / len(q)
    terms = [t for t in translate_terms(question) if not t.isdigit() and len(t) > 1]
    weights = [idf(t) if idf else 1.0 for t in terms]
    total = sum(weights)
    return sum(w for t, w in zip(terms, weights) if t in text) / total if total else 0.0


def enumerates(u: Unit) -> float:
    """0-1: how much a unit reads as a list (sub-items count fully; else 3+ separators)."""
    if u.sub is not None:
        return 1.0
    return min(1.0, sum(u.text.count(c) for c in "、；;") / 3)


class ExtractiveAnswerer(Answerer):
    name = "extractive"

    def __init__(self, max_sentences: int = 4) -> None:
        self.max_sentences = max_sentences

    def score_units(self, inp: AnswerInput) -> list[tuple[float, int, Unit]]:
        """(score, source number, unit) for every unit of every source, best first."""
        listing = question_kind(inp.question) == "list"
        scored: list[tuple[float, int, Unit]] = []
        for src in inp.sources:
            units = inp.units.units(src.key)
            if not units:
                continue
            cos = inp.units.unit_vectors(src.key) @ inp.qvec
            for u, c in zip(units, cos):
                s = float(c) + LEX * overlap(inp.question, u.text, inp.units.idf) + PARA * src.score + RANK / src.n
                if listing:
                    s += LIST * enumerates(u)
                scored.append((s, src.n, u))
        scored.sort(key=lambda t: -t[0])
        return scored

    def _answer(self, inp: AnswerInput) -> Draft:
        scored = self.score_units(inp)
        if not scored:
            return Draft((), self.name, refused=True)
        kind = question_kind(inp.question)
        if kind == "list":
            listed = self._list_answer(scored)
            if listed:
                return Draft(tuple(listed), self.name)
        best = scored[0][0]
        chosen = [(s, n, u) for s, n, u in scored if s >= best - MARGIN][: self.max_sentences]
        if kind == "number":
            with_num = next(((s, n, u) for s, n, u in scored[:20] if _DIGIT.search(u.text)), None)
            if with_num and with_num not in chosen:
                chosen = [with_num] + chosen[: self.max_sentences - 1]
            elif with_num:
                chosen.remove(with_num)
                chosen.insert(0, with_num)
            lead, rest = chosen[:1], sorted(chosen[1:], key=lambda t: (t[1], t[2].order))
            chosen = lead + rest
        else:
            chosen.sort(key=lambda t: (t[1], t[2].order))  # sources in rank order, units in reading order
        return Draft(tuple(self._sentence(n, u, chosen) for _s, n, u in chosen), self.name)

    @staticmethod
    def _sentence(n: int, u: Unit, chosen) -> DraftSentence:
        first_of_list = u.sub is not None and not any(
            c[1] == n and c[2].sub is not None and c[2].order < u.order for c in chosen
        )
        return DraftSentence(u.text, (n,), u.lead if first_of_list else None)

    def _list_answer(self, scored) -> list[DraftSentence] | None:
        """The list (sub-items) of the best-scoring paragraph among the top units that has one."""
        for _s, n, u in scored[: 3 * self.max_sentences]:
            if u.sub is None and not u.text.endswith(("：", ":")):
                continue
            items = sorted({(uu.order, uu.sub): uu for _x, m, uu in scored if m == n and uu.sub is not None}.items())
            if len(items) < 2:
                continue
            items = [uu for _k, uu in items][:MAX_LIST_ITEMS]
            lead = items[0].lead
            return [DraftSentence(uu.text, (n,), lead if i == 0 else None) for i, uu in enumerate(items)]
        return None
