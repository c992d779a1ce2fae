"""The hybrid searcher: a batch of queries in, ranked chunk hits out, composed of small parts.

Dense (:mod:`~rag.retrieval.dense`), BM25 (:mod:`~rag.retrieval.sparse`), the paragraphs' own text
(:mod:`~rag.retrieval.paragraph_text`) and exact references (:mod:`~rag.retrieval.reference`), each a
``Retriever`` that takes every query's document scope into its backend's search; a fusion strategy
(:mod:`~rag.retrieval.fusion`) chosen once from ``retrieval.route`` says which lists each question needs
and fuses them by reciprocal rank. The index is any ``embeddings.search_index.SearchIndex`` (FAISS
directory or Milvus), so the chain has one retrieval face whatever the backend.

Every hit carries its cosine similarity with the question (``dense``), whichever list found it: fused
scores are ranks, but the answer chain's refusal decision needs a calibrated evidence strength.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from rag.config import RetrievalSettings
from rag.corpus.loader import Corpus
from rag.corpus.records import Chunk
from rag.errors import QueryError
from rag.request import Filters
from rag.retrieval.dense import DenseRetriever
from rag.retrieval.fusion import fusion_for
from rag.retrieval.paragraph_rows import ParagraphRows
from rag.retrieval.paragraph_text import ParagraphTextRetriever, exact_text_search
from rag.retrieval.reference import ReferenceRetriever
from rag.retrieval.retriever import Query, Retriever
from rag.retrieval.scope import allowed_docs, check_filters
from rag.retrieval.sparse import SparseRetriever


@dataclass(frozen=True)
class Hit:
    """A retrieved chunk. ``score`` orders the list; ``dense`` is the cosine with the query."""

    chunk: Chunk
    score: float
    dense: float
    sources: tuple[str, ...]  # which paths found it: "reference", "dense", "bm25"

    @property
    def key(self) -> tuple[str, int]:
        return self.chunk.key


class HybridSearcher:
    """Dense + BM25 + own text + exact references over a loaded index, fused. Cheap to build; holds no model."""

    def __init__(self, index, encoder, corpus: Corpus, settings: RetrievalSettings, text_vectors=None) -> None:
        """``index``: an ``embeddings.search_index.SearchIndex``; ``text_vectors``: the paragraphs' own-text
        vectors (without the chunk prefix): the answerer's ``UnitIndex`` (its ``search_text``), or a
        (paragraph keys, matrix) pair; None = no own-text list."""
        self.index = index
        self.encoder = encoder
        self.corpus = corpus
        self.settings = settings
        rows = ParagraphRows(index, corpus)
        self.fusion = fusion_for(settings)
        # Documents written in a Latin or Cyrillic or Arabic script: a question in such a language is also
        # searched by its own words (the stemmer of its language), not only through the glossary.
        own_words = any(d.meta.language != "zh" for d in corpus.documents)
        self.retrievers: dict[str, Retriever] = {
            "dense": DenseRetriever(index),
            "bm25": SparseRetriever(index, glossary=settings.glossary, own_words=own_words),
        }
        if text_vectors is not None:
            # The units' own search (memory-mapped, scopes pushed in), or an in-memory (keys, matrix) pair.
            search = text_vectors.search_text if hasattr(text_vectors, "search_text") else exact_text_search(*text_vectors)
            self.retrievers["text"] = ParagraphTextRetriever(search, rows.first)
        self.references = ReferenceRetriever(index, corpus, rows)

    @property
    def chunks(self) -> Sequence[Chunk]:
        return self.index.chunks

    # --- search ---

    def search(self, queries: Sequence[str], filters: Sequence[Filters] | Filters = Filters(), k: int | None = None) -> list[list[Hit]]:
        """Ranked hits for each query (a single query is a batch of one); QueryError for an unknown
        document, body or year in the filters, before anything is encoded."""
        if isinstance(queries, str):
            raise QueryError("search() takes a list of queries; wrap a single one as [query]")
        if not queries:
            return []
        per_q = list(filters) if not isinstance(filters, Filters) else [filters] * len(queries)
        for f in per_q:
            check_filters(f, self.corpus)
        qvecs = self.encoder.encode_queries(list(queries))
        return self.search_encoded(queries, qvecs, [allowed_docs(f, self.corpus) for f in per_q], k)

    def search_encoded(self, queries: Sequence[str], qvecs: np.ndarray, allowed: Sequence[set[str] | None],
                       k: int | None = None) -> list[list[Hit]]:
        """Like ``search`` with the query vectors already computed and each query's allowed documents
        resolved (``rag.retrieval.scope.allowed_docs``; None = all): the answer chain's path, whose
        requests ``Engine.request`` has checked."""
        k = k or self.settings.k
        batch = [Query.of(q, v, a) for q, v, a in zip(queries, qvecs, allowed)]
        weights = [self.fusion.weights(q.plan.script) for q in batch]
        lists: list[dict[str, list[int]]] = [{} for _ in batch]
        for name, retriever in self.retrievers.items():
            todo = [i for i, w in enumerate(weights) if name in w]
            if todo:
                for i, rows in zip(todo, retriever.retrieve([batch[i] for i in todo], self.settings.candidates)):
                    lists[i][name] = rows
        cap = max(1, int(k * self.settings.reference_max_share))
        refs = (self.references.retrieve(batch, cap) if self.settings.exact_reference_boost else [[] for _ in batch])
        return [self._assemble(q, self.fusion.fuse(found, w), r, found, k)
                for q, w, found, r in zip(batch, weights, lists, refs)]

    def _assemble(self, q: Query, ranked: list[tuple[int, float]], ref_rows: list[int],
                  lists: dict[str, list[int]], k: int) -> list[Hit]:
        """References first (above the best fused score), then the fused list, to ``k`` hits."""
        found_by = {name: set(rows) for name, rows in lists.items() if name in ("dense", "bm25")}
        top = ranked[0][1] if ranked else 1.0
        order = [(r, top + 1.0 / (j + 1), ("reference",)) for j, r in enumerate(ref_rows)]
        seen = set(ref_rows)
        for r, s in ranked:
            if len(order) >= k:
                break
            if r not in seen:
                order.append((r, s, ()))
                seen.add(r)
        order = order[:k]
        if not order:
            return []
        vectors = self.index.vectors_of([r for r, _, _ in order])
        # One dot product per row (not one matrix product): the same float32 sums the refusal
        # thresholds were calibrated on, to the last bit.
        sims = [float(v @ q.vector) for v in vectors]
        chunks = self.index.chunks
        return [Hit(chunks[r], float(s), sim, extra + tuple(n for n, rows in found_by.items() if r in rows))
                for (r, s, extra), sim in zip(order, sims)]
