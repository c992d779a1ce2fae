"""Paragraph -> chunk rows: the store's lookup (chunks.sqlite) equals mapping every record (the oracle),
and a backend without the lookup is mapped once."""

from __future__ import annotations

from rag.retrieval.paragraph_rows import ParagraphRows


class Plain:
    """An index without ``rows_of_paragraphs``: the fallback maps its records."""

    def __init__(self, chunks):
        self.chunks = list(chunks)


def test_lookup_equals_mapping_every_record(small_index, corpus):
    index, _ = small_index
    mapped = {}
    for i, c in enumerate(index.chunks):
        mapped.setdefault(c.key, []).append(i)
    long = max(mapped, key=lambda k: len(mapped[k]))  # a paragraph split into several chunks
    keys = [long, ("wg4-2019-l1-add1", 5), ("wg4-2019-l1-add1", 999), ("no-such-doc", 1)]
    want = {k: mapped[k] for k in keys if k in mapped}
    assert ParagraphRows(index, corpus).of(keys) == want and len(want[long]) > 1
    plain = ParagraphRows(Plain(index.chunks), corpus)
    assert plain.of(keys) == want and plain.first(keys) == {k: v[0] for k, v in want.items()}
    assert ParagraphRows(index, corpus).of([]) == {}
