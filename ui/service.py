"""What the chat, the widget and the HTTP API share: the loaded engine, its corpus, the feedback store.

The engine is loaded once per process and shared; one lock serialises questions, because the encoder,
the index and an optional LLM client are not promised to be thread-safe, and Gradio and FastAPI call
from worker threads.

Example::

    assistant = Assistant(Engine(settings).load())
    result = assistant.ask("工作组关于资产申报提出了什么建议？", filters=Filters(years=(2019,)))
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any, Protocol

from rag.config import Settings
from rag.corpus.loader import Corpus
from rag.errors import QueryError
from rag.request import Filters, clean_question
from rag.result import AnswerResult
from ui.feedback import FeedbackStore


class EngineLike(Protocol):
    """What the UI needs of ``rag.engine.Engine`` (after ``load()``)."""

    settings: Settings
    corpus: Corpus

    def ask(
        self, question: str, *, filters: Filters = ..., k: int | None = None, history: tuple[tuple[str, str], ...] = ()
    ) -> AnswerResult: ...


@dataclass(frozen=True)
class FilterChoices:
    """The options of the filter widgets, taken from the corpus (so a user document shows up too)."""

    documents: list[tuple[str, str]]  # (label, doc_id)
    bodies: list[str]
    years: list[int]


class Assistant:
    def __init__(self, engine: EngineLike, store: FeedbackStore | None = None) -> None:
        self.engine = engine
        self.settings: Settings = engine.settings
        self.corpus: Corpus = engine.corpus
        self.store = store or FeedbackStore.for_settings(self.settings)
        self._lock = threading.Lock()

    @property
    def max_chars(self) -> int:
        return self.settings.answer.max_question_chars

    def ask(
        self, question: str, *, filters: Filters = Filters(), k: int | None = None,
        history: tuple[tuple[str, str], ...] = (),
    ) -> AnswerResult:
        """Validate, then ask the engine (one question at a time). QueryError on bad input."""
        q = clean_question(question, self.max_chars)
        if filters.doc_ids:
            self.corpus.check_doc_ids(filters.doc_ids)
        with self._lock:
            return self.engine.ask(q, filters=filters, k=k, history=history)

    def config(self) -> dict[str, Any]:
        """The configuration stored with each rating."""
        return self.settings.model_dump(mode="json")

    def filter_choices(self, lang: str) -> FilterChoices:
        docs = []
        for d in self.corpus.documents:
            m = d.meta
            ref = m.symbol or (m.short_ref_zh if lang == "zh" else m.short_ref)
            docs.append((ref, d.doc_id))
        bodies = sorted({d.meta.body for d in self.corpus.documents if d.meta.body})
        years = sorted({d.meta.year for d in self.corpus.documents if d.meta.year}, reverse=True)
        return FilterChoices(docs, bodies, years)


def question_problem(question: object, max_chars: int) -> tuple[str, dict[str, Any]] | None:
    """Why a question cannot be asked, as an interface string key and its arguments; None when it is fine.

    The rule that ``rag.request.clean_question`` reports (``QueryError.key``/``params``); the key lets
    the chat say it in either language (``t(key, lang, **fmt)``).

    >>> question_problem("   ", 2000)
    ('empty', {})
    """
    try:
        clean_question(question, max_chars)
        return None
    except QueryError as e:
        return e.key, (e.params if e.key != "bad_input" else {"msg": str(e)})
