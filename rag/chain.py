"""The answer chain, one LCEL pipeline behind the CLI, the UI, the HTTP API and the evaluation:

    retrieve (batch: one encoder call) → context (numbered paragraphs within a token budget)
    → answer (extractive, or LLM with extractive fallback) → citation guard → AnswerResult

Each step is a Runnable over one ``State`` record per question; ``chain.batch(requests)`` runs a whole
evaluation set through the same code path as a single question.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from langchain_core.runnables import Runnable, RunnableConfig, RunnableLambda

from rag.answer.base import AnswerInput, Answerer
from rag.answer.context import Source, build_sources, paragraphs_of
from rag.answer.english import english_facts
from rag.answer.guard import CitationGuard
from rag.answer.question import analyze
from rag.answer.refusal import RefusalPolicy
from rag.answer.unit_index import UnitIndex
from rag.config import AnswerSettings, ReaderSettings
from rag.corpus.loader import Corpus
from rag.errors import LLMError
from rag.request import AskRequest
from rag.result import REFUSAL, AnswerResult, AnswerSentence, Retrieved
from rag.retrieval.glossary import named_entities
from rag.retrieval.query import parse_refs, year_pattern
from rag.retrieval.searcher import Hit, HybridSearcher
from rag.text import script_of

EN_FRAME = ("The documents state (names, numbers and dates in English; each sentence quoted in the original Chinese, "
            "which this offline assistant does not translate):")
NO_SUPPORT = {"zh": "最接近的段落中没有能回答该问题的句子。", "en": "No sentence of the nearest paragraphs answers the question."}
UNSUPPORTED_MARK = {"zh": "（无出处，未经文件证实）", "en": " (unsupported: no source found)"}


@dataclass
class State:
    request: AskRequest
    query: str  # what is searched (the question, with the previous turn for a follow-up)
    lang: str
    qvec: np.ndarray | None = None
    hits: list[Hit] = field(default_factory=list)
    sources: list[Source] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    t_answer: float = 0.0


class RetrieveStep(Runnable[State, State]):
    """Retrieval as a Runnable whose ``batch`` encodes all queries at once."""

    def __init__(self, searcher: HybridSearcher) -> None:
        self.searcher = searcher

    def invoke(self, input: State, config: RunnableConfig | None = None, **kwargs: Any) -> State:
        return self.batch([input], config)[0]

    def batch(self, inputs: list[State], config: Any = None, *, return_exceptions: bool = False, **kwargs: Any) -> list[State]:
        if not inputs:
            return []
        t = time.perf_counter()
        qvecs = self.searcher.encoder.encode_queries([s.query for s in inputs])
        hits = self.searcher.search_encoded([s.query for s in inputs], qvecs, [s.request.filters for s in inputs],
                                            max(s.request.k or self.searcher.settings.k for s in inputs))
        per = (time.perf_counter() - t) * 1000 / len(inputs)
        for s, v, h in zip(inputs, qvecs, hits):
            s.qvec, s.hits = v, h[: s.request.k or self.searcher.settings.k]
            s.timings["retrieve"] = per
        return inputs


# Real anaphors: "它/它们", "这些/那些/上述", a sentence-initial "该…/其…" ("该工具…", "其目标…"), "那…呢".
# Not pointers: "应该", "其他", "其中", "尤其", "极其" — the characters occur inside ordinary words.
_POINTER_ZH = re.compile(r"它们?|这些|那些|上述|前述|此事|^(?:该|其)(?![他余它中实次])|^那|呢[？?]?$|(?<![应活])该(?:项|组|机构|办公室|工具|方案|报告|会议|倡议|网络|数据库|文件|计划|举措)")
_POINTER_EN = re.compile(r"\b(?:it|its|they|them|their|this|that|those|these|such)\b|^(?:what|how) about\b|^and\b", re.I)
# A question with a subject of its own names one: two or more content characters beyond its question words.
_QUESTION_WORDS_ZH = re.compile(r"什么|哪些|哪个|如何|怎样|怎么|是否|为什么|为何|多少|几|谁|何时|哪里|哪|呢|吗|了|的|是|有|在|和|与|及|年|月|日|[？?，,。\s\d]")
_STOP_EN = set("what which who whom when where why how is are was were do does did the a an of in on for to and or about with by from at as be been this that these those it its they their them what's".split())


def follow_up_query(question: str, history: tuple[tuple[str, str], ...]) -> str:
    """Search text for a follow-up: a question that points back (a real anaphor: "它", "这些", a leading
    "该…"/"其…", "what about…") or has no topic of its own ("那 2017 年呢？", "And in 2020?") is searched
    together with the previous question, so "那 2017 年呢？" after a question on asset declarations still
    finds asset declarations. A short question with its own topic ("工作组有哪些职能？") is new.

    >>> h = (("工作组关于资产申报提出了什么建议？", "…"),)
    >>> follow_up_query("那2017年呢？", h) != "那2017年呢？", follow_up_query("工作组有哪些职能？", h)
    (True, '工作组有哪些职能？')
    >>> follow_up_query("应该如何改进举报人保护？", h), follow_up_query("其他国家有哪些做法？", h)
    ('应该如何改进举报人保护？', '其他国家有哪些做法？')
    """
    if not history:
        return question
    prev = history[-1][0]
    q = question.strip()
    if script_of(q) == "zh":
        pointing = bool(_POINTER_ZH.search(q))
        own_topic = len(_QUESTION_WORDS_ZH.sub("", q)) >= 3
    else:
        pointing = bool(_POINTER_EN.search(q))
        own_topic = len([w for w in re.findall(r"[a-z][a-z'-]+", q.lower()) if w not in _STOP_EN]) >= 2
    return f"{prev} {question}" if pointing or not own_topic else question


class AnswerChain:
    """Builds and runs the LCEL pipeline; holds no heavy state of its own."""

    def __init__(self, searcher: HybridSearcher, corpus: Corpus, units: UnitIndex, guard: CitationGuard,
                 answerer: Answerer, fallback: Answerer, settings: AnswerSettings,
                 reader: ReaderSettings | None = None) -> None:
        self.searcher, self.corpus, self.units, self.guard = searcher, corpus, units, guard
        self.answerer, self.fallback, self.settings = answerer, fallback, settings
        self.refusal = RefusalPolicy(corpus, settings, (reader or ReaderSettings()).answerable_sources)
        self._shares: dict[tuple[str, ...], float] = {}
        self.runnable: Runnable = (
            RunnableLambda(self._start)
            | RetrieveStep(searcher)
            | RunnableLambda(self._context)
            | RunnableLambda(self._finish)
        )

    def _start(self, req: AskRequest) -> State:
        return State(req, follow_up_query(req.question, req.history), script_of(req.question))

    def _context(self, s: State) -> State:
        s.t_answer = time.perf_counter()
        s.hits = self.promote_entities(s.request.question, s.hits)
        s.sources = build_sources(s.hits, self.corpus, max_paragraphs=self.settings.context_paragraphs,
                                  max_tokens=self.settings.context_tokens)
        return s

    def promote_entities(self, question: str, hits: list[Hit]) -> list[Hit]:
        """Chunks mentioning what the question is specifically about move first (stable otherwise): the
        organisations and places it names ("the OSCE round table" must be answered from the paragraph
        about the OSCE, even when another round table ranked higher), and its year, written in the
        paragraph or being its document's year ("据2019年报告草稿增编…" is about the 2019 document)."""
        # An entity most paragraphs mention (UNODC, the Working Group) picks out nothing: skip it.
        entities = [forms for forms in named_entities(question) if self._share(forms) <= self.settings.promote_max_share]
        years = parse_refs(question).years
        if not entities and not years:
            return hits

        def mentions(h: Hit) -> int:
            meta = self.corpus.meta(h.chunk.doc_id)
            text = h.chunk.embed_text + meta.descriptive_text
            n = sum(any(f in text for f in forms) for forms in entities)
            return n + any(meta.year == y or year_pattern(y).search(h.chunk.text) for y in years)

        return sorted(hits, key=lambda h: -mentions(h))

    def _share(self, forms: tuple[str, ...]) -> float:
        """Share of the corpus' paragraphs that mention any of ``forms`` (cached)."""
        if forms not in self._shares:
            paras = self.corpus.paragraphs
            self._shares[forms] = sum(any(f in p.text for f in forms) for p in paras) / max(1, len(paras))
        return self._shares[forms]

    def evidence(self, s: State) -> float:
        """Strength of the best evidence: the best cosine of a retrieved chunk with the question."""
        return max((h.dense for h in s.hits), default=0.0)

    def _finish(self, s: State) -> AnswerResult:
        notice = None
        sentences: list[AnswerSentence] = []
        citations: list = []
        top = [(src.paragraph.doc_id, src.text) for src in s.sources]
        decision = self.refusal.decide(s.request.question, s.lang, self.evidence(s), self.searcher.allowed_docs(s.request.filters), top)
        refused = not s.sources or decision.refused
        if decision.refused:
            notice = decision.message(s.lang)
        backend = self.answerer.name
        if not refused:
            inp = AnswerInput(s.request.question, s.lang, s.qvec, s.sources, self.units)
            try:
                draft = self.answerer.answer(inp)
            except LLMError as e:
                notice = f"{e}; the extractive answer is shown instead"
                draft = self.fallback.answer(inp)
            sentences, citations = self.guard.check(draft, s.sources)
            if draft.backend != self.fallback.name and not any(x.supported for x in sentences) and not draft.refused:
                notice = notice or "the LLM answer had no sentence the sources support; the extractive answer is shown instead"
                draft = self.fallback.answer(inp)
                sentences, citations = self.guard.check(draft, s.sources)
            backend = draft.backend
            refused = draft.refused or not any(x.supported for x in sentences)
            if refused:
                notice = notice or NO_SUPPORT[s.lang]
        if refused:
            sentences, citations = [], []
        s.timings["answer"] = (time.perf_counter() - s.t_answer) * 1000
        # This question's own work: in a batch, its share of the encoder call plus its answer step.
        s.timings["total"] = s.timings["retrieve"] + s.timings["answer"]
        retrieved = tuple(Retrieved(d, p, sc) for (d, p), sc in paragraphs_of(s.hits))
        return AnswerResult(
            question=s.request.question,
            answer=self.render(sentences, citations, refused, retrieved, s.lang, backend, s.request.question),
            refused=refused, citations=tuple(citations), retrieved=retrieved, timings_ms=dict(s.timings),
            sentences=tuple(sentences), lang=s.lang, backend=backend, notice=notice,
        )

    def render(self, sentences, citations, refused: bool, retrieved, lang: str, backend: str, question: str = "") -> str:
        """Plain-text answer with a UN-style citation after every sentence."""
        if refused:
            lines = [REFUSAL[lang]]
            for r in retrieved[:3]:
                p = self.corpus.paragraph(r.doc_id, r.para)
                if p:
                    lines.append(f"- {p.label_zh if lang == 'zh' else p.label_en}")
            return "\n".join(lines)
        quote = lang == "en" and backend == "extractive"
        lines = [EN_FRAME] if quote else []
        types = analyze(question).types if quote and question else frozenset()
        for x in sentences:
            labels = list(dict.fromkeys(citations[i].label_zh if lang == "zh" else citations[i].label_en for i in x.citations))
            body = f"“{x.text}”" if quote else x.text
            if quote and (facts := english_facts(x.text, types)):
                body = f"{'; '.join(facts)} — {body}"  # the fact in English first, then the Chinese that proves it
            if not x.supported:
                lines.append(f"{body}{UNSUPPORTED_MARK[lang]}")
            elif lang == "zh":
                lines.append(f"{body}（{'；'.join(labels)}）")
            else:
                lines.append(f"{'- ' if quote else ''}{body} ({'; '.join(labels)})")
        return "\n".join(lines)

    def invoke(self, req: AskRequest) -> AnswerResult:
        return self.runnable.invoke(req)

    def batch(self, reqs: list[AskRequest]) -> list[AnswerResult]:
        return self.runnable.batch(reqs, config={"max_concurrency": 1})
