"""The conversation records and the chat messages rebuilt from them (ui/chat/turns.py)."""

from __future__ import annotations

from rag.request import Filters
from rag.result import REFUSAL, AnswerResult
from ui.chat.turns import (
    Turn,
    context_of,
    filters_of,
    history_of,
    last_result,
    messages,
)


def _result(q: str, answer: str) -> AnswerResult:
    return AnswerResult(q, answer, False, lang="zh")


def test_history_holds_only_answered_turns_in_order():
    turns = [Turn("a", _result("a", "A")), Turn("b", error=("busy", {})), Turn("c", _result("c", "C"))]
    assert history_of(turns) == (("a", "A"), ("c", "C"))
    assert last_result(turns).answer == "C" and last_result(turns[1:2]) is None


def test_messages_pair_each_question_with_its_answer_error_or_pending(corpus):
    turns = [Turn("<b>q</b>", error=("too_long", {"n": 2001, "limit": 2000})), Turn("q2", AnswerResult("q2", REFUSAL["en"], True, lang="en"))]
    out = messages(turns, "en", corpus, pending="q3")
    assert [m["role"] for m in out] == ["user", "assistant"] * 3
    assert "<b>" not in out[0]["content"] and "too long (2001 characters)" in out[1]["content"]
    assert 'class="msg error"' in out[1]["content"] and 'class="msg pending"' in out[-1]["content"]


def test_filters_and_context_as_the_engine_and_the_store_take_them():
    f = filters_of(["d"], ["WG.4"], ["2019", 2020])
    assert f == Filters(("d",), ("WG.4",), (2019, 2020)) and filters_of(None, None, None) == Filters()
    assert context_of(f, (("q", "a"),)) == {
        "filters": {"doc_ids": ["d"], "bodies": ["WG.4"], "years": [2019, 2020]}, "history": [["q", "a"]],
    }
