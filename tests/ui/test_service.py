"""What the front ends share (ui/service.py): one validation, the batcher path, the filter choices."""

from __future__ import annotations

import pytest

from rag.errors import QueryError
from rag.request import Filters
from ui.feedback import FeedbackStore
from ui.service import Assistant


@pytest.fixture
def assistant(fake_engine, tmp_path):
    a = Assistant(fake_engine, FeedbackStore(tmp_path / "feedback.sqlite3")).start()
    yield a
    a.close()


def test_request_is_the_engines_validation_with_the_rule_named(assistant):
    with pytest.raises(QueryError) as e:
        assistant.request("字" * 2001)
    assert e.value.key == "too_long" and e.value.params == {"n": 2001, "limit": 2000}
    req = assistant.request("  资产申报？ ", filters=Filters(years=(2019,)))
    assert req.question == "资产申报？" and req.filters.years == (2019,)


def test_ask_is_request_then_answer(assistant, fake_engine):
    req = assistant.request("工作组关于资产申报提出了什么建议？")
    assert assistant.answer(req).to_json() == assistant.ask(req.question).to_json()
    assert fake_engine.calls[-1]["question"] == req.question


def test_filter_choices_come_from_the_corpus(assistant, corpus):
    zh, en = assistant.filter_choices("zh"), assistant.filter_choices("en")
    assert [d for _, d in zh.documents] == [d.doc_id for d in corpus.documents] == [d for _, d in en.documents]
    assert zh.bodies == sorted(zh.bodies) and zh.years == sorted(zh.years, reverse=True)
    assert set(zh.years) == {d.meta.year for d in corpus.documents if d.meta.year}
