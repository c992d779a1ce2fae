"""The BM25 path: the question's words, or for an English (Latin-script) question over Chinese documents
its glossary-translated Chinese terms (measured: BM25 over English words is noise on these texts, .15
MRR, while the glossary terms help); with documents in other languages than Chinese indexed, the
question's own words are searched too. The document scope is a mask inside the search.

Example::

    SparseRetriever(index, glossary=True, own_words=False).retrieve([Query.of("asset declarations", qvec)], 50)
"""

from __future__ import annotations

from embeddings.search_index import SearchIndex
from rag.retrieval.glossary import translate_terms
from rag.retrieval.retriever import Query, Retriever


class SparseRetriever(Retriever):
    """Top-k rows by BM25 (Lucene) over the query text :meth:`terms` gives."""

    name = "bm25"

    def __init__(self, index: SearchIndex, *, glossary: bool, own_words: bool) -> None:
        """``glossary``: search Latin-script questions by their glossary terms (``retrieval.glossary``);
        ``own_words``: also by their own words (documents in a language other than Chinese are indexed)."""
        self.index = index
        self.glossary = glossary
        self.own_words = own_words

    def terms(self, query: Query) -> str:
        """The text BM25 searches for ``query`` ("" = nothing to search)."""
        plan = query.plan
        if plan.script == "zh" or not self.glossary:
            return plan.text
        terms = " ".join(translate_terms(plan.text))
        # With documents in the question's own language indexed, its words find them directly; in an
        # all-Chinese corpus (today's) they match nothing, so the query stays as it was.
        return f"{plan.text} {terms}".strip() if self.own_words else terms

    def _retrieve(self, queries: list[Query], k: int) -> list[list[int]]:
        texts = [self.terms(q) for q in queries]
        todo = [i for i, t in enumerate(texts) if t]
        out: list[list[int]] = [[] for _ in queries]
        if todo:
            found = self.index.search_bm25([texts[i] for i in todo], k, docs=[queries[i].docs for i in todo])
            for i, hits in zip(todo, found):
                out[i] = [r for r, _ in hits]
        return out
