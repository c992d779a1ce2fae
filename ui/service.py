"""What the chat, the widget and the HTTP API share: the loaded engine, its corpus, the feedback store.

The engine is loaded once per process and shared. Every question goes through one
:class:`rag.batcher.MicroBatcher`: only its worker threads (``server.engine_workers``) touch the
engine, and questions that arrive together are answered in one encoder call. A question is validated
once, by ``Engine.request`` (:meth:`Assistant.request`; QueryError with ``key``/``params`` naming the
rule). Gradio's worker threads wait on :meth:`Assistant.ask` / :meth:`Assistant.answer`; the HTTP API
awaits :meth:`Assistant.submit` without holding a thread.

Example::

    assistant = Assistant(Engine(settings).load()).start()
    result = assistant.ask("工作组关于资产申报提出了什么建议？", filters=Filters(years=(2019,)))
    assistant.close()
"""

from __future__ import annotations

from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any, Protocol

from rag.batcher import MicroBatcher
from rag.config import Settings
from rag.corpus.loader import Corpus
from rag.request import AskRequest, Filters
from rag.result import AnswerResult
from ui.feedback import FeedbackStore
from ui.i18n import body_name
from ui.ratelimit import RateLimiter


class EngineLike(Protocol):
    """What the UI needs of ``rag.engine.Engine`` (after ``load()``)."""

    settings: Settings
    corpus: Corpus

    def request(
        self, question: str, *, filters: Filters = ..., k: int | None = None, history: tuple[tuple[str, str], ...] = ()
    ) -> AskRequest:
        """A validated request; QueryError for a bad question, filter, k or history."""

    def ask_batch(self, requests: list[AskRequest]) -> list[AnswerResult]: ...


@dataclass(frozen=True)
class FilterChoices:
    """The options of the filter widgets, taken from the corpus (so a user document shows up too)."""

    documents: list[tuple[str, str]]  # (label, doc_id)
    bodies: list[tuple[str, str]]  # (name with code, code): "预防腐败问题工作组 (WG.4)", "WG.4"
    years: list[int]


class Assistant:
    def __init__(self, engine: EngineLike, store: FeedbackStore | None = None) -> None:
        self.engine = engine
        self.settings: Settings = engine.settings
        self.corpus: Corpus = engine.corpus
        self.store = store or FeedbackStore.for_settings(self.settings)
        self.batcher = MicroBatcher.for_settings(engine, self.settings.server)
        self.feedback_limiter = RateLimiter(self.settings.server.feedback_per_minute)

    def start(self) -> Assistant:
        self.batcher.start()
        return self

    def close(self) -> None:
        self.batcher.close()

    def request(
        self, question: str, *, filters: Filters = Filters(), k: int | None = None,
        history: tuple[tuple[str, str], ...] = (),
    ) -> AskRequest:
        """Validate (``Engine.request``, the one place): QueryError on bad input."""
        return self.engine.request(question, filters=filters, k=k, history=history)

    def submit(self, request: AskRequest) -> Future:
        """Queue a validated request (BusyError when the queue is full); the Future holds the AnswerResult."""
        return self.batcher.start().submit(request)

    def ask(
        self, question: str, *, filters: Filters = Filters(), k: int | None = None,
        history: tuple[tuple[str, str], ...] = (),
    ) -> AnswerResult:
        """Validate, then wait for the answer (QueryError on bad input, BusyError when overloaded)."""
        return self.answer(self.request(question, filters=filters, k=k, history=history))

    def answer(self, request: AskRequest) -> AnswerResult:
        """Wait for a validated request's answer (BusyError when overloaded or past
        ``server.answer_timeout_s``)."""
        self.batcher.start()
        return self.batcher.ask(request, timeout=self.settings.server.answer_timeout_s)

    def config(self) -> dict[str, Any]:
        """The configuration stored with each rating."""
        return self.settings.model_dump(mode="json")

    def filter_choices(self, lang: str) -> FilterChoices:
        docs = []
        for d in self.corpus.documents:
            m = d.meta
            ref = m.symbol or (m.short_ref_zh if lang == "zh" else m.short_ref)
            docs.append((ref, d.doc_id))
        codes = sorted({d.meta.body for d in self.corpus.documents if d.meta.body})
        bodies = [(body_name(code, lang), code) for code in codes]
        years = sorted({d.meta.year for d in self.corpus.documents if d.meta.year}, reverse=True)
        return FilterChoices(docs, bodies, years)

