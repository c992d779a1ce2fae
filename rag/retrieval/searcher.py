"""The hybrid searcher: a batch of queries in, ranked chunk hits out.

Routing by script (measured on a 40-question probe, see the issue): e5-small alone reaches MRR .945 on
Chinese questions and .53 on English ones over these Chinese documents; BM25 over jieba words is strong
for Chinese (.88) and noise for English (.15). So Chinese queries fuse dense + BM25 by reciprocal rank;
English queries fuse dense with BM25 over their glossary-translated terms ("crosslingual", weighted by
``retrieval.crosslingual_weight``; 0 = dense only). ``retrieval.route`` forces one mode for experiments.

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
from rag.request import Filters
from rag.retrieval.fusion import rrf
from rag.retrieval.glossary import translate_terms
from rag.retrieval.query import QueryPlan
from rag.retrieval.scope import allowed_docs, check_filters
from rag.errors import QueryError


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
    """Dense + BM25 + exact references over a loaded index. Cheap to build; holds no model itself."""

    def __init__(self, index, encoder, corpus: Corpus, settings: RetrievalSettings, text_vectors=None) -> None:
        """``text_vectors``: (paragraph keys, their vectors without the chunk prefix), e.g. from the
        answerer's ``UnitIndex``; None = no second dense list."""
        self.text_keys, self.text_vectors = text_vectors if text_vectors is not None else ([], None)
        self.index = index
        self.encoder = encoder
        self.corpus = corpus
        self.settings = settings
        self.chunks: list[Chunk] = list(index.chunks)
        self._rows_by_para: dict[tuple[str, int], list[int]] = {}
        doc_rows: dict[str, list[int]] = {}
        for i, c in enumerate(self.chunks):
            self._rows_by_para.setdefault(c.key, []).append(i)
            doc_rows.setdefault(c.doc_id, []).append(i)
        self._doc_rows = {d: np.asarray(r) for d, r in doc_rows.items()}
        self._symbol_doc = {d.meta.symbol: d.doc_id for d in corpus.documents if d.meta.symbol}
        # Documents written in a Latin or Cyrillic or Arabic script: a question in such a language is also
        # searched by its own words (the stemmer of its language), not only through the glossary.
        self._own_words = any(d.meta.language != "zh" for d in corpus.documents)

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
        plans = [QueryPlan.of(q) for q in queries]
        n = len(self.chunks)
        widen = any(a is not None for a in allowed)
        kc = min(n, self.settings.candidates * (self.settings.filtered_widening if widen else 1))
        dense_lists = self.index.search_dense(qvecs, kc)
        modes = [self._mode(p) for p in plans]
        bm25_text = [self._bm25_text(p) for p in plans]
        bm25_idx = [i for i, m in enumerate(modes) if m in ("hybrid", "bm25", "crosslingual") and bm25_text[i]]
        bm25_lists: dict[int, list[tuple[int, float]]] = {}
        if bm25_idx:
            res = self.index.search_bm25([bm25_text[i] for i in bm25_idx], kc)
            bm25_lists = dict(zip(bm25_idx, res))
        out = []
        for i, plan in enumerate(plans):
            ok = self._row_filter(allowed[i])
            dense = [r for r, _ in dense_lists[i] if ok(r)]
            if allowed[i] is not None and len(dense) < k:
                dense = self._exact_in(qvecs[i], allowed[i], kc)  # few rows pass: search them exactly
            bm25 = [r for r, _ in bm25_lists.get(i, []) if ok(r)]
            lists = {"dense": dense, "bm25": bm25}
            tw = self.settings.text_weight_zh if plan.script == "zh" else self.settings.text_weight_en
            text = self._text_rows(qvecs[i], kc, ok) if tw > 0 and self.text_vectors is not None and modes[i] != "bm25" else []
            if modes[i] == "dense":
                ranked = [(r, 1.0 / (self.settings.rrf_k + j + 1)) for j, r in enumerate(dense)]
            elif modes[i] == "bm25":
                ranked = [(r, 1.0 / (self.settings.rrf_k + j + 1)) for j, r in enumerate(bm25)]
            elif modes[i] == "crosslingual":
                ranked = rrf([dense, bm25, text], k=self.settings.rrf_k, weights=[1.0, self.settings.crosslingual_weight, tw])
            else:
                ranked = rrf([dense, bm25, text], k=self.settings.rrf_k, weights=[1.0, 1.0, tw])
            refs = self._reference_rows(plan, allowed[i]) if self.settings.exact_reference_boost else []
            out.append(self._assemble(qvecs[i], ranked, refs, lists, k))
        return out

    def _text_rows(self, qvec: np.ndarray, kc: int, ok) -> list[int]:
        """Chunk rows (a paragraph's first chunk) ranked by the paragraph's own-text cosine."""
        sims = self.text_vectors @ qvec
        out = []
        for j in np.argsort(-sims, kind="stable"):
            rows = self._rows_by_para.get(self.text_keys[j])
            if rows and ok(rows[0]):
                out.append(rows[0])
                if len(out) >= kc:
                    break
        return out

    def _mode(self, plan: QueryPlan) -> str:
        route = self.settings.route
        if route == "script":
            if plan.script == "zh":
                return "hybrid"
            return "crosslingual" if self.settings.crosslingual_weight > 0 else "dense"
        return route

    def _bm25_text(self, plan: QueryPlan) -> str:
        """BM25 searches Chinese words: a Latin-script query is searched through its glossary terms, and
        by its own words when documents in other languages than Chinese are indexed."""
        if plan.script == "zh" or not self.settings.glossary:
            return plan.text
        terms = " ".join(translate_terms(plan.text))
        # With documents in the question's own language indexed, its words find them directly; in an
        # all-Chinese corpus (today's) they match nothing, so the query stays as it was.
        return f"{plan.text} {terms}".strip() if self._own_words else terms

    def _row_filter(self, allowed: set[str] | None):
        if allowed is None:
            return lambda r: True
        return lambda r: self.chunks[r].doc_id in allowed

    def _exact_in(self, qvec: np.ndarray, allowed: set[str], kc: int) -> list[int]:
        rows = np.concatenate([self._doc_rows[d] for d in allowed if d in self._doc_rows] or [np.zeros(0, int)])
        sims = self.index.vectors[rows] @ qvec
        return [int(rows[j]) for j in np.argsort(-sims, kind="stable")[:kc]]

    def _reference_rows(self, plan: QueryPlan, allowed: set[str] | None) -> list[int]:
        """Chunks of the paragraphs a query names exactly: "symbol, para. N" first, then mentions."""
        refs = plan.refs
        if not refs:
            return []
        docs = [self._symbol_doc[s] for s in refs.symbols if s in self._symbol_doc]
        if allowed is not None and len(allowed) == 1 and not docs:
            docs = list(allowed)
        rows: list[int] = []
        for d in docs:
            for n, _sub in refs.paras:
                rows += self._rows_by_para.get((d, n), [])
        pats = refs.patterns()
        if pats:
            for p in self.corpus.paragraphs:
                if (allowed is None or p.doc_id in allowed) and any(x.search(p.text) for x in pats):
                    rows += self._rows_by_para.get(p.key, [])
        return list(dict.fromkeys(rows))

    def _assemble(self, qvec, ranked, ref_rows, lists, k) -> list[Hit]:
        found_by = {name: set(rows) for name, rows in lists.items()}
        vec = self.index.vectors
        hits: list[Hit] = []
        seen: set[int] = set()
        if ref_rows:
            sims = vec[ref_rows] @ qvec
            # Mentions ordered by similarity; at most reference_max_share of the list, so topical hits still show.
            order = [ref_rows[j] for j in np.argsort(-sims, kind="stable")][: max(1, int(k * self.settings.reference_max_share))]
            top = ranked[0][1] if ranked else 1.0
            for j, r in enumerate(order):
                hits.append(self._hit(r, top + 1.0 / (j + 1), float(vec[r] @ qvec), ("reference",), found_by))
                seen.add(r)
        for r, s in ranked:
            if len(hits) >= k:
                break
            if r not in seen:
                hits.append(self._hit(r, s, float(vec[r] @ qvec), (), found_by))
                seen.add(r)
        return hits[:k]

    def _hit(self, r: int, score: float, dense: float, extra: tuple[str, ...], found_by) -> Hit:
        sources = extra + tuple(name for name, rows in found_by.items() if r in rows)
        return Hit(self.chunks[r], float(score), dense, sources)
