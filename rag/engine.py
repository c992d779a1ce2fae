"""The engine: corpus, model, index and answer chain, loaded once and shared by every front end.

Example::

    engine = Engine(load_settings()).load()
    result = engine.ask("工作组关于资产申报提出了什么建议？")
    print(result.answer)            # quoted sentences, each followed by "（…，第 N 段）"
    result.to_json()                # the `uncac-qa ask --json` / POST /api/ask schema
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator, Sequence
from typing import Any

from rag.config import ROOT, Settings
from rag.errors import IndexStateError, QueryError, UncacQAError
from rag.request import AskRequest, Filters, clean_history, clean_question
from rag.result import AnswerResult

log = logging.getLogger(__name__)


class Engine:
    """Cheap to construct; ``load()`` does the heavy work once (model ~3 s, index, unit vectors)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.corpus = None
        self.encoder = None
        self.index = None
        self.searcher = None
        self.units = None
        self.chain = None
        self.load_seconds = 0.0

    @property
    def loaded(self) -> bool:
        return self.chain is not None

    def load(self, *, progress: bool = False) -> "Engine":
        if self.loaded:
            return self
        t0 = time.perf_counter()
        from embeddings.encoders.factory import create_encoder
        from embeddings.encoders.sentence_transformer import set_threads
        from embeddings.store import recover_index
        from rag.answer.extractive import ExtractiveAnswerer
        from rag.answer.guard import CitationGuard, support_thresholds
        from rag.answer.unit_index import UnitIndex, units_dir
        from rag.chain import AnswerChain
        from rag.corpus.chunker import chunk_corpus
        from rag.corpus.loader import load_corpus
        from rag.index_backend import open_index, read_manifest, where
        from rag.retrieval.searcher import HybridSearcher

        s = self.settings
        if s.index.backend == "faiss":
            index_dir = s.path(s.index.dir)
            recover_index(index_dir, root=ROOT)  # a build killed mid-swap left <dir>.old: move it back (one warning)
            if not index_dir.exists():  # fail before the model loads: the fix is one command away
                raise IndexStateError(f"no index at {where(s)!r}; build it with: uncac-qa ingest")
        manifest = read_manifest(s)
        if manifest is None and s.index.backend == "milvus":
            raise IndexStateError(f"no index at {where(s)!r}; build it with: uncac-qa ingest")
        # Documents added with `uncac-qa ingest --add` are part of the index, so part of the corpus.
        # (A FAISS directory without a manifest is reported precisely by open_index below.)
        added = ((manifest or {}).get("meta") or {}).get("added_files") or []
        corpus = load_corpus(s, extra=added)
        encoder = create_encoder(s.embeddings)
        encoder.prepare("query")  # the first question must not pay for opening the query session
        index = open_index(s, encoder)
        reasons = index.stale_reasons(chunk_corpus(corpus, s), s.index)
        if reasons:
            raise IndexStateError(f"the index at {where(s)!r} is out of date ({'; '.join(reasons)}); update it with: uncac-qa ingest")
        set_threads(s.embeddings.index_threads)
        units = UnitIndex(corpus, encoder, units_dir(s)).load(progress=progress)
        set_threads(s.embeddings.query_threads)
        import faiss

        faiss.omp_set_num_threads(s.embeddings.query_threads)
        searcher = HybridSearcher(index, encoder, corpus, s.retrieval, units)
        extractive = ExtractiveAnswerer(s.answer.max_sentences, s.reader)
        answerer = extractive
        if s.answer.backend == "llm":
            from rag.answer.llm import LLMAnswerer, chat_model

            answerer = LLMAnswerer(chat_model(s.llm), s.answer.max_sentences)
        guard = CitationGuard(corpus, units, encoder, thresholds=support_thresholds(s.answer), unsupported=s.answer.unsupported,
                              settings=s.answer)
        self.corpus, self.encoder, self.index, self.units, self.searcher = corpus, encoder, index, units, searcher
        self.chain = AnswerChain(searcher, corpus, units, guard, answerer, extractive, s.answer, s.reader)
        self.load_seconds = time.perf_counter() - t0
        log.info("engine loaded in %.1f s", self.load_seconds)
        return self

    def _require(self) -> None:
        if not self.loaded:
            raise IndexStateError("the engine is not loaded: call Engine.load() first")

    def request(self, question: str, *, filters: Filters = Filters(), k: int | None = None,
                history: tuple[tuple[str, str], ...] = (), id: str | None = None) -> AskRequest:
        """A validated request: QueryError for a bad question, an unknown document/body/year or k.

        The one place a request is checked: the chain's steps trust what comes from here."""
        from rag.retrieval.scope import check_filters

        self._require()
        q = clean_question(question, self.settings.answer.max_question_chars)
        if k is not None and (isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= 200):
            raise QueryError(f"k = {k!r} is not allowed; allowed: a whole number from 1 to 200")
        check_filters(filters, self.corpus)
        return AskRequest(q, filters, k, clean_history(history), id)

    def ask(self, question: str, *, filters: Filters = Filters(), k: int | None = None,
            history: tuple[tuple[str, str], ...] = ()) -> AnswerResult:
        """Answer one question (a batch of one)."""
        return self.ask_batch([self.request(question, filters=filters, k=k, history=history)])[0]

    def ask_batch(self, requests: list[AskRequest]) -> list[AnswerResult]:
        """Answer validated requests together: one encoder call for all their questions."""
        self._require()
        return self.chain.batch(list(requests)) if requests else []


# --- one engine per process, and the batch path every batch caller shares ----------------------------

#: Questions answered per ``Engine.ask_batch`` call: one encoder call each; 16 keeps the first answers
#: coming quickly on a 2-core machine while amortising the per-call overhead.
BATCH_SIZE = 16

_ENGINES: dict[str, Any] = {}


def _settings_key(settings: Settings) -> str:
    return settings.model_dump_json()


def shared_engine(settings: Settings) -> Engine:
    """The loaded :class:`Engine` for ``settings``, loaded on first use and then reused by
    every command of this process (``ask``, ``eval``) and by tests that pre-register one."""
    key = _settings_key(settings)
    if key not in _ENGINES:
        _ENGINES[key] = Engine(settings).load()  # only a successful load is cached
    return _ENGINES[key]


def register_engine(engine) -> None:
    """Make an already loaded engine the one :func:`shared_engine` returns for its settings (tests)."""
    _ENGINES[_settings_key(engine.settings)] = engine


def answer_in_batches(engine, requests: Sequence[AskRequest], batch_size: int = BATCH_SIZE) -> Iterator[Any]:
    """Answer validated requests in order, ``batch_size`` at a time through ``engine.ask_batch``.

    Yields one ``AnswerResult`` per request, or the :class:`UncacQAError` raised for it: if a whole
    batch fails, its requests are retried one by one so that one bad request costs only its own answer.
    """
    for start in range(0, len(requests), batch_size):
        batch = list(requests[start : start + batch_size])
        try:
            yield from engine.ask_batch(batch)
        except UncacQAError:
            for req in batch:
                try:
                    yield engine.ask_batch([req])[0]
                except UncacQAError as e:
                    yield e
