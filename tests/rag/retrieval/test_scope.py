"""Filters checked once, resolved without re-checking (``rag.retrieval.scope``)."""

from __future__ import annotations

import pytest

from rag.errors import QueryError
from rag.request import Filters
from rag.retrieval.scope import allowed_docs, check_filters


def test_allowed_docs_intersects_the_filters(corpus):
    assert allowed_docs(Filters(), corpus) is None
    assert allowed_docs(Filters(doc_ids=("wg4-report-2017",)), corpus) == {"wg4-report-2017"}
    both = allowed_docs(Filters(bodies=("CoSP",), years=(2011,)), corpus)
    assert both and all(corpus.meta(d).body == "CoSP" and corpus.meta(d).year == 2011 for d in both)


def test_unknown_values_are_named_with_the_allowed_ones(corpus):
    check_filters(Filters(bodies=("CoSP",), years=(2011,)), corpus)
    with pytest.raises(QueryError, match=r"unknown body 'WG.9'; allowed: 'CoSP', 'WG.4'"):
        check_filters(Filters(bodies=("WG.9",)), corpus)
    with pytest.raises(QueryError, match=r"no document from year 1999; allowed: 2011, 2017, 2019, 2020"):
        check_filters(Filters(years=(1999,)), corpus)
    with pytest.raises(QueryError, match="unknown document 'nope'"):
        check_filters(Filters(doc_ids=("nope",)), corpus)


def test_engine_request_is_where_requests_are_checked(engine):
    with pytest.raises(QueryError, match="unknown document 'nope'"):
        engine.request("资产申报", filters=Filters(doc_ids=("nope",)))
