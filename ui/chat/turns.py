"""The conversation as the chat keeps it: ``Turn`` records, and the chat messages rebuilt from them.

The chat stores turns, never rendered HTML, so switching the interface language re-renders every
answer's citations in the new language. ``saved``/``restored`` turn them into plain JSON and back,
which the browser keeps (``gr.BrowserState``) so a conversation survives a reload; what comes back
from a browser is checked field by field, never trusted.

Example::

    turns = [Turn("资产申报？", result)]
    messages(turns, "en", corpus)        # [{"role": "user", ...}, {"role": "assistant", ...}]
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from rag.errors import UncacQAError
from rag.request import Filters
from rag.result import AnswerResult
from ui.i18n import t
from ui.render import render_answer, render_message, render_question

log = logging.getLogger(__name__)
MAX_SAVED_TURNS = 50  # kept in the browser: a long day of questions, far below localStorage's ~5 MB


def new_answer_id() -> str:
    """The id a rating of one answer is stored under (the latest vote on it replaces the first)."""
    return uuid.uuid4().hex[:16]


@dataclass(frozen=True)
class Turn:
    """One exchange: the question, then its result or the interface message explaining why there is none."""

    question: str
    result: AnswerResult | None = None
    error: tuple[str, dict[str, Any]] | None = None  # (interface string key, its arguments)
    context: dict[str, Any] = field(default_factory=dict)  # filters and history it was asked with
    answer_id: str = ""  # set for an answer: what its 👍/👎 is stored under


def saved(turns: Sequence[Turn]) -> list[dict[str, Any]]:
    """The newest ``MAX_SAVED_TURNS`` turns as JSON, for the browser to keep.

    >>> saved([Turn("q", error=("empty", {}))])
    [{'question': 'q', 'result': None, 'error': ['empty', {}], 'context': {}, 'answer_id': ''}]
    """
    return [
        {"question": tr.question, "result": tr.result.to_json(full=True) if tr.result else None,
         "error": [tr.error[0], tr.error[1]] if tr.error else None, "context": tr.context, "answer_id": tr.answer_id}
        for tr in list(turns)[-MAX_SAVED_TURNS:]
    ]


def restored(data: Any) -> list[Turn]:
    """Turns back from what the browser kept; an entry that is not a turn is dropped (and logged).

    >>> restored([{"question": "q", "error": ["empty", {}]}, {"question": 3}, "junk"])
    [Turn(question='q', result=None, error=('empty', {}), context={}, answer_id='')]
    """
    out: list[Turn] = []
    for item in data[-MAX_SAVED_TURNS:] if isinstance(data, list) else []:
        try:
            out.append(_turn(item))
        except (TypeError, ValueError, KeyError, IndexError, UncacQAError) as e:
            log.info("a saved turn was dropped: %s", e)
    return out


def _turn(item: Any) -> Turn:
    if not isinstance(item, dict) or not isinstance(item.get("question"), str):
        raise ValueError("not a turn")
    result = AnswerResult.from_json(item["result"]) if item.get("result") is not None else None
    error = item.get("error")
    if error is not None:
        if not (isinstance(error, list) and len(error) == 2 and isinstance(error[0], str) and isinstance(error[1], dict)):
            raise ValueError("error: expected [key, params]")
        t(error[0], "zh", **error[1])  # an unknown key or wrong params raise here, not when shown
        error = (error[0], error[1])
    if result is None and error is None:
        raise ValueError("a turn has a result or an error")
    context = item.get("context") if isinstance(item.get("context"), dict) else {}
    answer_id = item.get("answer_id") if isinstance(item.get("answer_id"), str) else ""
    return Turn(item["question"], result, error, context, answer_id[:64])


def history_of(turns: Sequence[Turn]) -> tuple[tuple[str, str], ...]:
    """The conversation so far as the engine takes it: (question, answer) of every answered turn.

    >>> history_of([Turn("q", error=("empty", {}))])
    ()
    """
    return tuple((tr.question, tr.result.answer) for tr in turns if tr.result is not None)


def filters_of(docs: Sequence[str] | None, bodies: Sequence[str] | None, years: Sequence[Any] | None) -> Filters:
    """The filter widgets' values (years arrive as strings) as the engine's ``Filters``.

    >>> filters_of(["wg4-report-2017"], None, ["2017"])
    Filters(doc_ids=('wg4-report-2017',), bodies=(), years=(2017,))
    """
    return Filters(tuple(docs or ()), tuple(bodies or ()), tuple(int(y) for y in years or ()))


def context_of(filters: Filters, history: tuple[tuple[str, str], ...]) -> dict[str, Any]:
    """What a turn was asked with, as JSON (stored with a rating, so a reviewer can ask it again).

    >>> context_of(Filters(years=(2019,)), ())
    {'filters': {'doc_ids': [], 'bodies': [], 'years': [2019]}, 'history': []}
    """
    return {
        "filters": {"doc_ids": list(filters.doc_ids), "bodies": list(filters.bodies), "years": list(filters.years)},
        "history": [list(h) for h in history],
    }


def messages(
    turns: Sequence[Turn], lang: str, corpus: Any, *, pending: str | None = None,
    partial: tuple[AnswerResult, int] | None = None,
) -> list[dict[str, str]]:
    """Chat messages (user, assistant) for every turn, then the one being answered, if any.

    ``partial`` is the result being streamed and how many of its steps are shown.
    """
    out: list[dict[str, str]] = []
    for tr in turns:
        out.append({"role": "user", "content": render_question(tr.question)})
        if tr.result is not None:
            body = render_answer(tr.result, lang, corpus)
        elif tr.error is not None:
            body = render_message(t(tr.error[0], lang, **tr.error[1]), "msg error")
        else:
            body = render_message(t("searching", lang), "msg pending")
        out.append({"role": "assistant", "content": body})
    if pending is not None:
        out.append({"role": "user", "content": render_question(pending)})
        if partial is not None:
            body = render_answer(partial[0], lang, corpus, upto=partial[1])
        else:
            body = render_message(t("searching", lang), "msg pending")
        out.append({"role": "assistant", "content": body})
    return out


def last_result(turns: Sequence[Turn]) -> AnswerResult | None:
    """The newest answer of the conversation (what the sources panel shows), None before the first.

    >>> last_result([]) is None
    True
    """
    return next((tr.result for tr in reversed(turns) if tr.result is not None), None)
