"""The paragraphs' own-text path: each paragraph encoded without the title/section prefix its chunk
carries (the answer units' own-text vectors), ranked by cosine with the question. A second dense
signal, measured to help English questions over Chinese texts (``retrieval.text_weight_en``); a hit
stands for its paragraph's first chunk.

The search itself is the units' (``rag.answer.unit_index.UnitIndex.search_text``: exact, over the
memory-mapped matrix, with each query's document scope pushed in); this retriever maps its paragraphs
to index rows.

Example::

    ParagraphTextRetriever(units.search_text, ParagraphRows(index, corpus).first).retrieve(queries, 50)
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import numpy as np

from rag.retrieval.retriever import Query, Retriever

#: ``search(qvecs, k, docs) -> per query [(paragraph key, cosine), ...]``, best first.
TextSearch = Callable[..., list[list[tuple[tuple[str, int], float]]]]


class ParagraphTextRetriever(Retriever):
    """Top-k paragraphs by own-text cosine, as their first chunk's row, within each query's documents."""

    name = "text"

    def __init__(self, search: TextSearch, first_rows: Callable[[list[tuple[str, int]]], Mapping[tuple[str, int], int]]) -> None:
        """``search``: the own-text search; ``first_rows(keys)``: the index row of each given paragraph's
        first chunk (``ParagraphRows.first``; a paragraph with no chunk in the index is never returned)."""
        self.search = search
        self.first_rows = first_rows

    def _retrieve(self, queries: list[Query], k: int) -> list[list[int]]:
        qvecs = np.stack([q.vector for q in queries])
        docs = [q.docs for q in queries]
        found = self.search(qvecs, k, docs=docs)
        out = []
        for i, hits in enumerate(found):
            first = self.first_rows([key for key, _ in hits])
            if len(first) < min(k, len(hits)):  # some paragraph has no chunk: ask for more, drop them
                hits = self.search(qvecs[i : i + 1], 2 * k + (len(hits) - len(first)), docs=[docs[i]])[0]
                first = self.first_rows([key for key, _ in hits])
            out.append([first[key] for key, _ in hits if key in first][:k])
        return out


def exact_text_search(keys: Sequence[tuple[str, int]], vectors: np.ndarray) -> TextSearch:
    """An own-text search over an in-memory matrix (tests, and vectors given without a ``UnitIndex``):
    exact, ties in paragraph order.

    >>> search = exact_text_search([("d", 1), ("d", 2), ("e", 1)], np.eye(3, dtype=np.float32))
    >>> search(np.array([[0.0, 1.0, 0.5]], np.float32), 2, docs=[frozenset({"d"})])
    [[(('d', 2), 1.0), (('d', 1), 0.0)]]
    """
    vectors = np.asarray(vectors, dtype=np.float32)
    doc_ids = np.asarray([key[0] for key in keys], dtype=object)

    def search(qvecs: np.ndarray, k: int, docs=None):
        out = []
        for i, qv in enumerate(np.atleast_2d(qvecs)):
            scope = None if docs is None else docs[i]
            pool = np.arange(len(keys)) if scope is None else np.flatnonzero(np.isin(doc_ids, list(scope)))
            sims = vectors[pool] @ qv if len(pool) else np.zeros(0, np.float32)
            top = np.argsort(-sims, kind="stable")[:k]
            out.append([(keys[pool[j]], float(sims[j])) for j in top])
        return out

    return search
