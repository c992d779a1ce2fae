"""What the chat, the widget and the HTTP API share: the loaded engine, its corpus, the feedback store.

The engine is loaded once per process and shared. Every question goes through one
:class:`rag.batcher.MicroBatcher`: only its worker threads (``server.engine_workers``) touch the
engine, and questions that arrive together are answered in one encoder call. A question is validated
once, by ``Engine.request`` (:meth:`Assistant.request`; QueryError with ``key``/``params`` naming the
rule). Gradio's worker threads wait on :meth:`Assistant.ask` / :meth:`Assistant.answer`; the HTTP API
awaits :meth:`Assistant.submit` without holding a thread.

The engine can be replaced while questions are answered (a delegate's upload, ``ui.upload``):
:meth:`Assistant.swap_engine` points the batcher and the assistant at a freshly loaded engine at once;
a question already in a batch finishes on the old one. ``Assistant.corpus`` is a :class:`CurrentCorpus`,
a view of the serving engine's corpus, so what captured it once (the chat's handlers, the source
viewer, ``/healthz``) sees the new documents without being rebuilt.

Example::

    assistant = Assistant(Engine(settings).load()).start()
    result = assistant.ask("工作组关于资产申报提出了什么建议？", filters=Filters(years=(2019,)))
    assistant.close()
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
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


class CurrentCorpus:
    """The corpus of the engine an :class:`Assistant` serves with *now*: every attribute and lookup of
    :class:`rag.corpus.loader.Corpus` is read from ``assistant.engine.corpus`` when it is used, so a
    component that kept this object sees the documents of an engine swapped in later.

    >>> from types import SimpleNamespace
    >>> holder = SimpleNamespace(engine=SimpleNamespace(corpus=Corpus([])))
    >>> view = CurrentCorpus(holder)
    >>> len(view), view.doc_ids
    (0, [])
    """

    def __init__(self, holder: Any) -> None:
        self._holder = holder

    @property
    def now(self) -> Corpus:
        """The engine's corpus object at this moment (take it once for several lookups that must agree)."""
        return self._holder.engine.corpus

    def __getattr__(self, name: str) -> Any:
        return getattr(self.now, name)

    def __iter__(self) -> Iterator[Any]:
        return iter(self.now)

    def __len__(self) -> int:
        return len(self.now)


class Assistant:
    def __init__(self, engine: EngineLike, store: FeedbackStore | None = None) -> None:
        self.engine = engine
        self.settings: Settings = engine.settings
        self.corpus: Corpus = CurrentCorpus(self)  # type: ignore[assignment] - a live view with Corpus's interface
        self.store = store or FeedbackStore.for_settings(self.settings)
        self.batcher = MicroBatcher.for_settings(engine, self.settings.server)
        self.feedback_limiter = RateLimiter(self.settings.server.feedback_per_minute)
        self._swap_lock = threading.Lock()

    def swap_engine(self, engine: EngineLike) -> EngineLike:
        """Serve with ``engine`` (already loaded) from now on; returns the engine it replaces.

        The batcher is pointed at it first, then the assistant (validation, the corpus view): a request
        validated against the new corpus (a filter on a new document) is always answered by the new
        engine, and a request validated by the old one is answered by either (the new corpus holds the
        old one's documents). The lock keeps two swaps from interleaving; readers take no lock (each reads
        one reference). Questions are never paused: a batch in hand finishes on the old engine.
        """
        with self._swap_lock:
            old = self.engine
            self.batcher.swap_engine(engine)
            self.engine = engine
            return old

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
        documents = self.engine.corpus.documents  # once: the three lists come from one corpus
        docs = []
        for d in documents:
            m = d.meta
            ref = m.symbol or (m.short_ref_zh if lang == "zh" else m.short_ref)
            docs.append((ref, d.doc_id))
        codes = sorted({d.meta.body for d in documents if d.meta.body})
        bodies = [(body_name(code, lang), code) for code in codes]
        years = sorted({d.meta.year for d in documents if d.meta.year}, reverse=True)
        return FilterChoices(docs, bodies, years)

