"""The conversation as the chat keeps it: ``Turn`` records, and the chat messages rebuilt from them.

The chat stores turns, never rendered HTML, so switching the interface language re-renders every
answer's citations in the new language.

Example::

    turns = [Turn("资产申报？", result)]
    messages(turns, "en", corpus)        # [{"role": "user", ...}, {"role": "assistant", ...}]
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from rag.request import Filters
from rag.result import AnswerResult
from ui.i18n import t
from ui.render import render_answer, render_message, render_question


@dataclass(frozen=True)
class Turn:
    """One exchange: the question, then its result or the interface message explaining why there is none."""

    question: str
    result: AnswerResult | None = None
    error: tuple[str, dict[str, Any]] | None = None  # (interface string key, its arguments)
    context: dict[str, Any] = field(default_factory=dict)  # filters and history it was asked with


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
