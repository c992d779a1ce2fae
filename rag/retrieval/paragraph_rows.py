"""Which index rows hold a paragraph's chunks, asked of the index when it can answer (the FAISS store's
chunks.sqlite has a paragraph index: a lookup is one query, nothing is mapped at start-up), else mapped
once from every record (a backend without that lookup; what the searcher did for every index before,
~30 s at a million chunks).

Example::

    rows = ParagraphRows(index, corpus)
    rows.of([("wg4-2019-l1-add1", 5)])   # {("wg4-2019-l1-add1", 5): [17]}
"""

from __future__ import annotations

from collections.abc import Iterable

from rag.corpus.loader import Corpus

Key = tuple[str, int]


class ParagraphRows:
    """Rows of each paragraph's chunks (in row order), by paragraph key ``(doc_id, para)``."""

    def __init__(self, index, corpus: Corpus) -> None:
        self.index = index
        self.corpus = corpus
        self._mapped: dict[Key, list[int]] | None = None

    def of(self, keys: Iterable[Key]) -> dict[Key, list[int]]:
        """The rows of those ``keys`` that are indexed (a paragraph with no chunk is left out)."""
        keys = list(dict.fromkeys(keys))
        if not keys:
            return {}
        lookup = getattr(self.index, "rows_of_paragraphs", None)
        if lookup is None:
            mapped = self._map()
            return {k: mapped[k] for k in keys if k in mapped}
        ids = {}
        for k in keys:
            p = self.corpus.paragraph(*k)
            if p is not None:
                ids[p.id] = k
        out: dict[Key, list[int]] = {}
        rows = [int(r) for r in lookup(list(ids))]
        for r, chunk in zip(rows, self.index.chunks.get_many(rows) if hasattr(self.index.chunks, "get_many")
                            else (self.index.chunks[r] for r in rows)):
            out.setdefault(chunk.key, []).append(r)
        return out

    def first(self, keys: Iterable[Key]) -> dict[Key, int]:
        """The row of each indexed paragraph's first chunk."""
        return {k: rows[0] for k, rows in self.of(keys).items()}

    def _map(self) -> dict[Key, list[int]]:
        if self._mapped is None:
            self._mapped = {}
            for i, c in enumerate(self.index.chunks):
                self._mapped.setdefault(c.key, []).append(i)
        return self._mapped
