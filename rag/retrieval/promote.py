"""Promotion, the step between retrieval and the context: retrieved chunks that mention what the
question is specifically about move first (the order is stable otherwise).

What counts: the organisations and places the question names ("the OSCE round table" must be answered
from the paragraph about the OSCE, even when another round table ranked higher), and its year, written
in the paragraph or being its document's year ("据2019年报告草稿增编…" is about the 2019 document). An
entity most paragraphs mention (UNODC, the Working Group) picks out nothing and is skipped.
"""

from __future__ import annotations

from rag.corpus.loader import Corpus
from rag.retrieval.glossary import named_entities
from rag.retrieval.query import parse_refs, year_pattern
from rag.retrieval.searcher import Hit


class EntityPromoter:
    """Reorders hits for a question; caches each entity's share of the corpus' paragraphs."""

    def __init__(self, corpus: Corpus, max_share: float) -> None:
        """``max_share``: an entity mentioned by more than this share of all paragraphs is ignored
        (``answer.promote_max_share``)."""
        self.corpus = corpus
        self.max_share = max_share
        self._shares: dict[tuple[str, ...], float] = {}

    def promote(self, question: str, hits: list[Hit]) -> list[Hit]:
        """``hits`` with those mentioning more of the question's entities and year first."""
        entities = [forms for forms in named_entities(question) if self.share(forms) <= self.max_share]
        years = parse_refs(question).years
        if not entities and not years:
            return hits

        def mentions(h: Hit) -> int:
            meta = self.corpus.meta(h.chunk.doc_id)
            text = h.chunk.embed_text + meta.descriptive_text
            n = sum(any(f in text for f in forms) for forms in entities)
            return n + any(meta.year == y or year_pattern(y).search(h.chunk.text) for y in years)

        return sorted(hits, key=lambda h: -mentions(h))

    def share(self, forms: tuple[str, ...]) -> float:
        """Share of the corpus' paragraphs that mention any of ``forms`` (cached)."""
        if forms not in self._shares:
            paras = self.corpus.paragraphs
            self._shares[forms] = sum(any(f in p.text for f in forms) for p in paras) / max(1, len(paras))
        return self._shares[forms]
