"""Which documents a request's filters allow: checked once (``check_filters``, called by
``Engine.request`` and by the searcher's public ``search``), then resolved (``allowed_docs``) wherever
the set is needed — retrieval and the refusal policy — without checking again.

>>> from rag.request import Filters
>>> allowed_docs(Filters(), None) is None  # no filter: every document (the corpus is not even read)
True
"""

from __future__ import annotations

from rag.corpus.loader import Corpus
from rag.errors import QueryError, one_of
from rag.request import Filters


def check_filters(filters: Filters, corpus: Corpus) -> None:
    """QueryError for an unknown document, body or year, naming the allowed ones."""
    if not filters:
        return
    metas = [d.meta for d in corpus.documents]
    for d in filters.doc_ids:
        corpus.document(d)  # raises, naming the document ids
    bodies = sorted({m.body for m in metas if m.body})
    for b in filters.bodies:
        if b not in bodies:
            raise QueryError(f"unknown body {one_of(b, bodies)}")
    years = sorted({m.year for m in metas if m.year})
    for y in filters.years:
        if y not in years:
            raise QueryError(f"no document from year {one_of(y, years)}")
    if not allowed_docs(filters, corpus):
        # Each value exists, but not together (the 2020 report and the year 2011): said before searching,
        # not as "no paragraph close enough".
        raise QueryError(f"no document matches these filters together: {filters.describe()}", key="no_match")


def allowed_docs(filters: Filters, corpus: Corpus) -> set[str] | None:
    """Doc ids the (already checked) filters allow; None = all."""
    if not filters:
        return None
    return {
        d.meta.doc_id for d in corpus.documents
        if (not filters.doc_ids or d.meta.doc_id in filters.doc_ids)
        and (not filters.bodies or d.meta.body in filters.bodies)
        and (not filters.years or d.meta.year in filters.years)
    }
