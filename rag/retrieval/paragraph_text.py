"""The paragraphs' own-text path: each paragraph encoded without the title/section prefix its chunk
carries (the answer units' ``paragraph_vectors``), ranked by cosine with the question. A second dense
signal, measured to help English questions over Chinese texts (``retrieval.text_weight_en``); a hit
stands for its paragraph's first chunk.

Example::

    ParagraphTextRetriever(units.paragraph_keys, units.paragraph_vectors, first_rows).retrieve(queries, 50)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from rag.retrieval.retriever import Query, Retriever


class ParagraphTextRetriever(Retriever):
    """Exact top-k over the paragraphs' own-text vectors, restricted to each query's documents."""

    name = "text"

    def __init__(self, keys: Sequence[tuple[str, int]], vectors: np.ndarray, first_rows: Mapping[tuple[str, int], int]) -> None:
        """``keys``/``vectors``: one row per paragraph; ``first_rows``: the index row of each paragraph's
        first chunk (a paragraph with no chunk in the index is never returned)."""
        keep = [j for j, key in enumerate(keys) if key in first_rows]
        self.rows = np.asarray([first_rows[keys[j]] for j in keep], dtype=np.int64)
        self.doc_ids = np.asarray([keys[j][0] for j in keep], dtype=object)
        self.vectors = np.asarray(vectors)[keep] if len(keep) else np.zeros((0, 0), np.float32)

    def _retrieve(self, queries: list[Query], k: int) -> list[list[int]]:
        out = []
        for q in queries:
            pool = np.arange(len(self.rows)) if q.docs is None else np.flatnonzero(np.isin(self.doc_ids, list(q.docs)))
            if not len(pool):
                out.append([])
                continue
            sims = self.vectors[pool] @ q.vector
            top = np.arange(len(pool)) if len(pool) <= k else np.argpartition(-sims, k - 1)[:k]
            top = top[np.lexsort((top, -sims[top]))]  # best first; ties in paragraph order
            out.append(self.rows[pool[top]].tolist())
        return out
