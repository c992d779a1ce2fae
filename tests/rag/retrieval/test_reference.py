"""The reference retriever on the real corpus: a cited "symbol, para. N" comes back, and a filter to
other documents keeps it out (filters apply to every path)."""

from __future__ import annotations

from rag.retrieval.paragraph_rows import ParagraphRows
from rag.retrieval.reference import ReferenceRetriever
from rag.retrieval.retriever import Query


def test_cited_paragraph_first_and_filters_respected(small_index, corpus):
    index, encoder = small_index
    rows_by_paragraph = {}
    for i, c in enumerate(index.chunks):
        rows_by_paragraph.setdefault(c.key, []).append(i)
    r = ReferenceRetriever(index, corpus, ParagraphRows(index, corpus))
    text = "CAC/COSP/WG.4/2019/L.1/Add.1, para. 5 说了什么？"
    qv = encoder.encode_queries([text])[0]
    cited = r.retrieve([Query.of(text, qv)], 3)[0]
    assert cited and index.chunks[cited[0]].key == ("wg4-2019-l1-add1", 5)
    other = sorted({c.doc_id for c in index.chunks} - {"wg4-2019-l1-add1"})[0]
    # Under a filter to another document the cited paragraph stays out; that document's own paragraphs
    # that mention the symbol may come back.
    assert all(index.chunks[row].doc_id == other for row in r.retrieve([Query.of(text, qv, {other})], 3)[0])
    assert r.retrieve([Query.of("第 8 段", qv, {other})], 3)[0] == rows_by_paragraph[(other, 8)][:3]
