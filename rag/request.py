"""What a caller asks: the question, filters and conversation history (validated in one place)."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

from rag.errors import QueryError

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u200b-\u200f\u2028\u2029\ufeff]")
# A lone UTF-16 surrogate is not a character: JSON ("\\ud800") and argv (surrogateescape) can carry one,
# and the tokenizer and every UTF-8 writer raise on it, so it is refused here, once, for every front end.
SURROGATE = re.compile(r"[\ud800-\udfff]")


@dataclass(frozen=True)
class Filters:
    """Restrict retrieval to some documents, bodies (``CoSP``, ``WG.4``) or years. Empty = no restriction."""

    doc_ids: tuple[str, ...] = ()
    bodies: tuple[str, ...] = ()
    years: tuple[int, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.doc_ids or self.bodies or self.years)

    def describe(self) -> str:
        """The filters as one line, for messages.

        >>> Filters(doc_ids=("wg4-report-2020",), years=(2011,)).describe()
        'documents wg4-report-2020; years 2011'
        """
        parts = [(name, vals) for name, vals in (("documents", self.doc_ids), ("bodies", self.bodies), ("years", self.years)) if vals]
        return "; ".join(f"{name} {', '.join(map(str, vals))}" for name, vals in parts) or "none"


@dataclass(frozen=True)
class AskRequest:
    """One question. ``history`` holds earlier (question, answer) turns of the same conversation."""

    question: str
    filters: Filters = field(default_factory=Filters)
    k: int | None = None
    history: tuple[tuple[str, str], ...] = ()
    id: str | None = None


def clean_question(question: object, max_chars: int) -> str:
    """Validate and normalise a question; QueryError with a clear message otherwise.

    Control characters are rejected (they never occur in a real question and can hide injected text);
    HTML is *not* rejected here: it is text, and every renderer escapes it.

    >>> clean_question("  资产申报？ ", 2000)
    '资产申报？'
    >>> clean_question("\\ud800 资产申报", 2000)
    Traceback (most recent call last):
    rag.errors.QueryError: the question contains a lone surrogate (U+D800), which is not text; remove it and ask again
    """
    if not isinstance(question, str):
        raise QueryError(f"the question must be text, got {type(question).__name__}", key="empty")
    if m := SURROGATE.search(question):
        code = f"U+{ord(m.group()):04X}"
        raise QueryError(f"the question contains a lone surrogate ({code}), which is not text; remove it and ask again", key="control_char", code=code)
    q = unicodedata.normalize("NFC", question).strip()
    if not q:
        raise QueryError("the question is empty: type a question in Chinese or English", key="empty")
    if len(q) > max_chars:
        raise QueryError(f"the question has {len(q)} characters; the limit is {max_chars}", key="too_long", n=len(q), limit=max_chars)
    if m := _CONTROL.search(q):
        code = f"U+{ord(m.group()):04X}"
        raise QueryError(f"the question contains a control character ({code}); remove it and ask again", key="control_char", code=code)
    return re.sub(r"[ \t\r\n]+", " ", q)


def clean_history(history: object, *, max_turns: int = 20) -> tuple[tuple[str, str], ...]:
    """Earlier (question, answer) turns as text: the last ``max_turns``, each side cut to 2,000/4,000
    characters; QueryError for a turn that is not two strings or holds a lone surrogate.

    >>> clean_history([["资产申报？", "答：…"]])
    (('资产申报？', '答：…'),)
    """
    if not isinstance(history, (list, tuple)):
        raise QueryError(f"history must be a list of [question, answer] pairs, got {type(history).__name__}")
    turns = []
    for i, turn in enumerate(list(history)[-max_turns:]):
        if not (isinstance(turn, (list, tuple)) and len(turn) == 2 and all(isinstance(x, str) for x in turn)):
            raise QueryError(f"history turn {i} must be a [question, answer] pair of strings, got {ascii(turn)[:80]}")
        if any(SURROGATE.search(x) for x in turn):
            raise QueryError(f"history turn {i} contains a lone surrogate, which is not text; remove it")
        turns.append((turn[0][:2000], turn[1][:4000]))
    return tuple(turns)
