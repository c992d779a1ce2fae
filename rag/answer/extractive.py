"""The default answerer, an extractive reader: it knows what the question asks for and quotes the
unit (sentence or "(b) …" item) of the top paragraphs that holds it. No LLM, works offline, never
says anything the documents do not say.

1. **Analysis** (``rag.answer.question``): the expected answer types (count, date, person, place,
   list, purpose…) and the parts of a multi-part question.
2. **Scoring.** Every unit of the top sources gets

       base = cos(question, unit) + lexical_weight * overlap(question, unit)
              + paragraph_weight * cos(question, its paragraph) + rank_weight / rank of its paragraph

   and, per part, ``+ type_weight * fit`` where ``fit`` (0-1) says how well the unit's typed spans
   (``rag.answer.spans``) match the part's types: a unit that holds "28 个会员国" beats the topic
   sentence beside it for "有多少个会员国…"; ``+ list_weight * enumeration`` for a list question.
3. **Selection.** Each part's best unit leads; a neighbour that continues its subject ("该工具…",
   "其中…", "这样可确保…") comes with it; other units of the same paragraph within ``margin`` of the
   best, and of other paragraphs within the tighter ``other_margin``, fill up to ``max_sentences``.
   A list question gets the whole enumeration (every sub-item) of the best paragraph that has one.

Whether a typed question can be answered at all is decided before drafting
(``rag.answer.answerability``). The weights are ``reader`` settings (config.yaml), tuned on the dev
set; the held-out and test sets measure them.

>>> ExtractiveAnswerer().name
'extractive'
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

from rag.answer.base import AnswerInput, Answerer, Draft, DraftSentence
from rag.answer.question import QuestionAnalysis, QuestionPart, analyze
from rag.answer.spans import count_matches, enumeration, find_spans
from rag.answer.units import Unit
from rag.config import ReaderSettings
from rag.retrieval.glossary import mentions_entity, named_entities, translate_terms
from rag.retrieval.query import parse_refs, year_pattern

_Q_STOP = set("什么哪些如何是否怎样为何关于有关的了吗呢和与及在对工作组") | {"?", "？"}
# A sentence that starts like this continues the one before it ("该工具…", "其中…", "这样可确保…").
_CONTINUES = re.compile(
    r"^(?:该|其(?!他|余|它国)|这(?:样|些|一|个|种|项)?|此(?:外|类|项)?|它|他|她|其中|另外|同时|因此|为此|从而|但|然而|并且|而且|这些)"
    r"|^(?:these|this|it|they|such|in addition|moreover|however)\b",
    re.I,
)


@lru_cache(maxsize=65536)
def _bigrams(s: str) -> frozenset[str]:
    """CJK character bigrams of ``s`` (cached: units are scored again for every question)."""
    cjk = [c for c in s if "\u4e00" <= c <= "\u9fff"]
    return frozenset(a + b for a, b in zip(cjk, cjk[1:]) if not (a in _Q_STOP and b in _Q_STOP))


def overlap(question: str, text: str, idf=None) -> float:
    """Share of the question's CJK bigrams that occur in ``text``; for a question with no Chinese, the
    share of its glossary terms that occur in ``text``, each term weighted by ``idf(term)`` when given
    (so "举报人" outweighs "毒品和犯罪问题办公室", which is everywhere). 0 when it has no terms.

    >>> overlap("资产申报制度", "各国的资产申报"), overlap("whistle-blower protection", "保护举报人")
    (0.6, 1.0)
    """
    if _bigrams(question):
        return focus_overlap(question, text, lambda _b: 1.0)
    terms = [t for t in translate_terms(question) if not t.isdigit() and len(t) > 1]
    weights = [idf(t) if idf else 1.0 for t in terms]
    total = sum(weights)
    return sum(w for t, w in zip(terms, weights) if t in text) / total if total else 0.0


def focus_overlap(question: str, text: str, weight) -> float:
    """Like :func:`overlap` for Chinese, but each question bigram weighted by ``weight(bigram)`` —
    the reader passes an IDF over the candidate units, so the words that pick out one sentence
    ("机密性") outweigh the topic words every sentence of the paragraph shares ("专家数据库")."""
    q = _bigrams(question)
    if not q:
        return 0.0
    t = _bigrams(text)
    total = sum(weight(b) for b in q)
    return sum(weight(b) for b in q if b in t) / total if total else 0.0


def enumerates(u: Unit) -> float:
    """0-1: how much a unit reads as a list (sub-items count fully; else 3+ separators)."""
    return 1.0 if u.sub is not None else enumeration(u.text)


def type_fit(u: Unit, part: QuestionPart) -> float:
    """0-1: how well the unit holds what ``part`` asks for (the best of its types).

    >>> from rag.answer.question import analyze
    >>> u = Unit("d", 1, None, "工作组的会议由主席 Alexander Kononov (俄罗斯联邦) 主持。", None, 1)
    >>> type_fit(u, analyze("Who chaired the meeting?").parts[0]), type_fit(u, analyze("会议何时举行？").parts[0])
    (1.0, 0.0)
    """
    if not part.types:
        return 0.0
    kinds = {s.type for s in find_spans(u.text)}
    best = 0.0
    for t in part.types:
        if t == "count":
            f = count_matches(u.text, *(part.quantity or (None, None))) if part.quantity else (1.0 if "count" in kinds else 0.0)
        elif t == "person":
            f = 1.0 if "person" in kinds else 0.7 if "role" in kinds else 0.6 if "org" in kinds else 0.4 if kinds & {"place", "orgx"} else 0.0
        elif t == "org":
            f = 1.0 if "org" in kinds else 0.8 if "orgx" in kinds else 0.0
        elif t == "list":
            f = enumerates(u)
        elif t == "title":
            f = 1.0 if "title" in kinds else 0.0
        else:
            f = 1.0 if t in kinds else 0.0
        best = max(best, f)
    return best


_ORDINAL_STEP = re.compile(r"^(?:第[一二三四五六七八九十]步|第[一二三四五六七八九十][，,、]|首先|其次|再次|最后(?:一步)?|其[一二三四五]|第一|第二|第三)")
_NUMERAL = {"两": "2", "三": "3", "四": "4", "五": "5", "六": "6", "七": "7", "八": "8", "九": "9", "十": "10"}


def _local_idf(units: list[Unit]):
    """IDF of CJK bigrams over the candidate units (ln(1 + N / df)); unseen bigrams get the top weight."""
    df: dict[str, int] = {}
    for u in units:
        for b in _bigrams(u.text):
            df[b] = df.get(b, 0) + 1
    n = max(1, len(units))
    top = math.log(1 + n)
    return lambda b: math.log(1 + n / df[b]) if b in df else top


@dataclass(frozen=True)
class Scored:
    base: float  # topic score (cosine, overlap, paragraph, rank)
    n: int  # source number
    unit: Unit
    fits: tuple[float, ...]  # type fit per question part
    vec: np.ndarray | None = field(default=None, compare=False, repr=False)  # the unit's passage vector

    def part_score(self, i: int, weights: ReaderSettings, listing: bool) -> float:
        s = self.base + weights.type_weight * self.fits[i]
        return s + (weights.list_weight * enumerates(self.unit) if listing else 0.0)



class ExtractiveAnswerer(Answerer):
    name = "extractive"

    def __init__(self, max_sentences: int = 4, settings: ReaderSettings | None = None) -> None:
        self.max_sentences = max_sentences
        self.settings = settings or ReaderSettings()

    def score_units(self, inp: AnswerInput, analysis: QuestionAnalysis | None = None) -> list[Scored]:
        """Every unit of every source with its topic score and per-part type fits, best topic first."""
        analysis = analysis or analyze(inp.question)
        w = self.settings
        zh = analysis.lang == "zh"
        pool = []
        for src in inp.sources:
            vecs = inp.units.unit_vectors(src.key)
            pool += [(src, u, c, v) for u, c, v in zip(inp.units.units(src.key), vecs @ inp.qvec, vecs)]
        idf = _local_idf([u for _s, u, _c, _v in pool])
        named_subs = {(n, sub) for n, sub in parse_refs(inp.question).paras if sub}
        entities = named_entities(inp.question)
        multi = len(analysis.parts) > 1
        out: list[Scored] = []
        for src, u, c, vec in pool:
            lex = focus_overlap(inp.question, u.text, idf) if zh else overlap(inp.question, u.text, inp.units.idf)
            base = float(c) + w.lexical_weight * lex + w.paragraph_weight * src.score + w.rank_weight / src.n
            if analysis.numbers:  # "截至2011年5月27日…": the unit that repeats the question's figures
                digits = set(re.findall(r"\d+", u.text))
                base += w.lexical_weight * sum(d in digits for d in analysis.numbers) / len(analysis.numbers)
            if any(q in u.text for q in analysis.quoted):
                base += w.type_weight  # "“透明度队”是什么": the sentence that names it
            if entities:  # "What did UNODC do…" is not answered by a paragraph about the EU
                missing = sum(not mentions_entity(forms, src.paragraph.text) for forms in entities)
                base -= w.type_weight * missing / len(entities)
            if (u.para, u.sub) in named_subs:
                base += w.named_sub_factor * w.type_weight  # "para. 54 (e)" names the unit itself
            fits = []
            for p in analysis.parts:
                f = type_fit(u, p)
                if multi and zh:
                    f += focus_overlap(p.text, u.text, idf)  # each part's own words ("其首要目标")
                if p.year is not None:
                    f += 1.0 if (src.year == p.year or year_pattern(p.year).search(u.text)) else -1.0
                if analysis.list_size and (analysis.list_size in u.text or _NUMERAL.get(analysis.list_size, "#") in u.text):
                    f += 1.0  # "哪三步" -> "分三步走"
                fits.append(f)
            out.append(Scored(base, src.n, u, tuple(fits), vec))
        out.sort(key=lambda s: -s.base)
        return out

    def _answer(self, inp: AnswerInput) -> Draft:
        analysis = analyze(inp.question)
        scored = self.score_units(inp, analysis)
        if not scored:
            return Draft((), self.name, refused=True)
        w, listing = self.settings, analysis.is_list
        if listing:
            listed = self._list_answer(scored, analysis)
            if listed:
                return Draft(tuple(listed), self.name)
        chosen: list[Scored] = []
        leads: list[Scored] = []
        for i, part in enumerate(analysis.parts):
            best = max(scored, key=lambda s: s.part_score(i, w, listing))
            if part.types - {"list"}:
                # A unit that holds the asked-for thing beats a topic sentence without it, within type_window.
                floor = best.part_score(i, w, listing) - w.type_window
                near = [s for s in scored if s.part_score(i, w, listing) >= floor]
                best = max(near, key=lambda s: (round(min(s.fits[i], 1.0), 1), s.part_score(i, w, listing)))
            leads.append(best)
            for s in self._with_context(best, scored):
                if s not in chosen:
                    chosen.append(s)
        limit = self.max_sentences + (len(analysis.parts) - 1) * w.part_extra_sentences
        if w.corroborate < 1.0:
            # The same fact restated in another paragraph or document ("…收录了 175 个国家…" in both 2011
            # papers) is quoted too: it is a second citation for the same claim, not a new claim.
            for lead in list(leads):
                twin = max((s for s in scored if s.n != lead.n and s.vec is not None and lead.vec is not None),
                           key=lambda s: float(s.vec @ lead.vec), default=None)
                if twin is not None and float(twin.vec @ lead.vec) >= w.corroborate and twin not in chosen:
                    chosen.append(twin)
        top = max(leads[0].part_score(0, w, listing), scored[0].base)
        lead_paras = {(s.unit.key) for s in leads}
        best_of = [(max(s.part_score(i, w, listing) for i in range(len(analysis.parts))), s) for s in scored]
        for score, s in sorted(best_of, key=lambda t: -t[0]):
            if len(chosen) >= limit:
                break
            # A list with no enumeration in one paragraph ("发言者提到了哪些做法？") is gathered across paragraphs.
            margin = w.margin if s.unit.key in lead_paras else w.list_other_margin if listing else w.other_margin
            if s not in chosen and score >= top - margin:
                chosen.append(s)
        chosen = chosen[:limit]
        # A quoted sentence that points back ("这样可确保机密性。") is quoted with the one it points to.
        by_pos = {(s.n, s.unit.order): s for s in scored if s.unit.sub is None}
        for s in list(chosen):
            prev = by_pos.get((s.n, s.unit.order - 1))
            if s.unit.sub is None and prev is not None and prev not in chosen and _CONTINUES.match(s.unit.text):
                chosen.insert(chosen.index(s), prev)
        rank = {s.unit.key: j for j, s in enumerate(leads)}
        chosen.sort(key=lambda s: (rank.get(s.unit.key, len(rank)), s.n, s.unit.order))
        pairs = [(s.n, s.unit) for s in chosen]
        return Draft(tuple(self._sentence(n, u, pairs) for n, u in pairs), self.name)

    @staticmethod
    def _with_context(best: Scored, scored: list[Scored]) -> list[Scored]:
        """The lead unit, with the sentence before it when it starts with a pointer back ("这样可确保…"),
        and the one after it when that continues the subject ("该工具…", "其中…")."""
        same = {s.unit.order: s for s in scored if s.n == best.n and s.unit.sub is None}
        out = [best]
        if best.unit.sub is None and _CONTINUES.match(best.unit.text) and (prev := same.get(best.unit.order - 1)):
            out.insert(0, prev)
        if best.unit.sub is None and (nxt := same.get(best.unit.order + 1)) and _CONTINUES.match(nxt.unit.text):
            out.append(nxt)
        steps = [x for o, x in sorted(same.items()) if o > best.unit.order and _ORDINAL_STEP.match(x.unit.text)]
        if len(steps) >= 2 or (steps and _ORDINAL_STEP.match(best.unit.text)):
            out += [x for x in steps if x not in out]  # "第一步…第二步…最后一步…": the whole sequence
        return out

    @staticmethod
    def _sentence(n: int, u: Unit, chosen: list[tuple[int, Unit]]) -> DraftSentence:
        first_of_list = u.sub is not None and not any(
            m == n and c.sub is not None and c.order < u.order for m, c in chosen
        )
        return DraftSentence(u.text, (n,), u.lead if first_of_list else None)

    def _list_answer(self, scored: list[Scored], analysis: QuestionAnalysis) -> list[DraftSentence] | None:
        """The whole list of the best paragraph that has one, when that paragraph is about as good as the
        best unit: its sub-items (with every line after an introducing "…：" sentence), or a run of
        "；"-separated pieces ("…几个因素：一个或多个反腐败机构具备独立性；综合法律框架；…")."""
        w = self.settings
        ranked = sorted(scored, key=lambda s: -s.part_score(0, w, True))
        best = ranked[0].part_score(0, w, True)
        for s in ranked[: w.list_scan_factor * self.max_sentences]:
            if s.part_score(0, w, True) < best - w.list_window_factor * w.margin:
                break
            u, n = s.unit, s.n
            same = sorted((x.unit for x in scored if x.n == n), key=lambda x: x.order)
            subs = [x for x in same if x.sub is not None]
            if (u.sub is not None or u.text.endswith(("：", ":"))) and len(subs) >= 2:
                start = next((x.order for x in same if x.text.endswith(("：", ":")) and x.order < subs[0].order), subs[0].order)
                items = [x for x in same if x.order > start or x.sub is not None][: w.max_list_items]
                intro = next((x for x in same if x.order == start and x.sub is None), None)
                lead = intro.text if intro is not None else subs[0].lead
                return [DraftSentence(x.text, (n,), lead if i == 0 else None) for i, x in enumerate(items)]
            run = self._run(u, same)
            if len(run) >= 3:
                return [DraftSentence(x.text, (n,)) for x in run[: w.max_list_items]]
        return None

    @staticmethod
    def _run(u: Unit, same: list[Unit]) -> list[Unit]:
        """The "；"-separated run of pieces that ``u`` belongs to, from the piece with "：" to the one ending "。"."""
        by_order = {x.order: x for x in same if x.sub is None}
        if u.sub is not None or u.order not in by_order:
            return []
        first = u.order
        while (prev := by_order.get(first - 1)) and prev.text.endswith(("；", ";")) and "：" not in by_order[first].text:
            first -= 1
        last = u.order
        while by_order[last].text.endswith(("；", ";")) and (last + 1) in by_order:
            last += 1
        return [by_order[o] for o in range(first, last + 1)]
