"""LangChain face of the hybrid searcher, so the answer chain is an ordinary LCEL pipeline.

``invoke(question)`` returns Documents (chunk text + citation metadata); ``batch`` encodes all the
questions in one encoder call instead of one call per thread.
"""

from __future__ import annotations

from typing import Any

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from langchain_core.runnables import RunnableConfig
from pydantic import ConfigDict

from rag.request import Filters
from rag.retrieval.searcher import Hit, HybridSearcher


def hit_to_document(hit: Hit) -> Document:
    c = hit.chunk
    return Document(
        page_content=c.text,
        id=c.id,
        metadata={
            "doc_id": c.doc_id, "para": c.para, "part": c.part, "paragraph_id": c.paragraph_id,
            "label_en": c.label_en, "label_zh": c.label_zh, "score": hit.score, "dense": hit.dense,
            "sources": list(hit.sources),
        },
    )


class HybridRetriever(BaseRetriever):
    """Dense + BM25 + exact-reference retrieval with document/body/year filters."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    searcher: HybridSearcher
    filters: Filters = Filters()
    k: int | None = None

    def _get_relevant_documents(self, query: str, *, run_manager: CallbackManagerForRetrieverRun) -> list[Document]:
        return [hit_to_document(h) for h in self.searcher.search([query], self.filters, self.k)[0]]

    def batch(self, inputs: list[str], config: RunnableConfig | list[RunnableConfig] | None = None, **kwargs: Any) -> list[list[Document]]:
        return [[hit_to_document(h) for h in hits] for hits in self.searcher.search(list(inputs), self.filters, self.k)]
