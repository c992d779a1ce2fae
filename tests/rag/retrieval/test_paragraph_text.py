"""The own-text retriever: paragraphs by the cosine of their own-text vector, as their first chunk's row."""

from __future__ import annotations

import numpy as np

from rag.retrieval.paragraph_text import ParagraphTextRetriever, exact_text_search
from rag.retrieval.retriever import Query


def test_top_k_equals_brute_force_and_skips_paragraphs_without_chunks():
    rs = np.random.default_rng(3)
    keys = [(f"d{i % 3}", i) for i in range(40)]
    vecs = rs.standard_normal((40, 8)).astype(np.float32)
    vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
    first = {key: 100 + j for j, key in enumerate(keys) if j % 5}  # every 5th paragraph has no chunk
    r = ParagraphTextRetriever(exact_text_search(keys, vecs), lambda ks: {k: first[k] for k in ks if k in first})
    qv = vecs[7] + 0.1 * vecs[9]
    for docs in (None, frozenset({"d1"}), frozenset({"nope"})):
        got = r.retrieve([Query.of("x", qv, docs)], 6)[0]
        pool = [j for j, key in enumerate(keys) if key in first and (docs is None or key[0] in docs)]
        sims = vecs[pool] @ qv
        assert got == [first[keys[pool[j]]] for j in np.argsort(-sims, kind="stable")[:6]]
