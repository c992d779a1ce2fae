"""The exact-reference path: chunks of the paragraphs a question names ("CAC/COSP/WG.4/2019/L.1/Add.1,
para. 5", "第 8 段" under a one-document filter), then the paragraphs that mention what it names
(a resolution, an article, a symbol), closest to the question first. The searcher puts them above
the fused list, at most ``retrieval.reference_max_share`` of it, so topical hits still show.

Example::

    ReferenceRetriever(index, corpus, ParagraphRows(index, corpus)).retrieve([Query.of("第 3/2 号决议的执行情况", qvec)], k=3)
"""

from __future__ import annotations

import numpy as np

from embeddings.search_index import SearchIndex
from rag.corpus.loader import Corpus
from rag.retrieval.paragraph_rows import ParagraphRows
from rag.retrieval.retriever import Query, Retriever


class ReferenceRetriever(Retriever):
    """Rows of the paragraphs a query cites or whose text mentions what it cites."""

    name = "reference"

    def __init__(self, index: SearchIndex, corpus: Corpus, rows: ParagraphRows) -> None:
        self.index = index
        self.corpus = corpus
        self.rows = rows
        self.symbol_doc = {d.meta.symbol: d.doc_id for d in corpus.documents if d.meta.symbol}
        self._folded: list[str] | None = None  # casefolded paragraph texts, made on the first mention scan

    def _retrieve(self, queries: list[Query], k: int) -> list[list[int]]:
        out = []
        for q in queries:
            rows = self._named(q)
            if rows:
                sims = self.index.vectors_of(rows) @ q.vector
                rows = [rows[j] for j in np.argsort(-sims, kind="stable")[:k]]
            out.append(rows)
        return out

    def _named(self, q: Query) -> list[int]:
        """Cited paragraphs first ("symbol, para. N"), then mentions, each row once."""
        refs = q.plan.refs
        if not refs:
            return []
        docs = [self.symbol_doc[s] for s in refs.symbols if s in self.symbol_doc and (q.docs is None or self.symbol_doc[s] in q.docs)]
        if q.docs is not None and len(q.docs) == 1 and not docs:
            docs = list(q.docs)  # "第 8 段" with one document chosen: that document's paragraph 8
        keys = [(d, n) for d in docs for n, _sub in refs.paras]
        pats = refs.patterns()
        if pats:
            keys += self._mentions(pats, refs.pattern_words(), q.docs)
        found = self.rows.of(keys)
        return list(dict.fromkeys(r for key in keys for r in found.get(key, [])))

    def _mentions(self, pats, words: frozenset[str], docs) -> list[tuple[str, int]]:
        """Keys of the paragraphs (in ``docs``, None: all) that a pattern matches, in corpus order. A
        paragraph whose folded text holds none of ``words`` cannot match, so its regexes are skipped."""
        paragraphs = self.corpus.paragraphs
        if self._folded is None:
            self._folded = [p.text.casefold() for p in paragraphs]
        return [p.key for p, folded in zip(paragraphs, self._folded, strict=True)
                if (docs is None or p.doc_id in docs) and any(w in folded for w in words)
                and any(x.search(p.text) for x in pats)]
