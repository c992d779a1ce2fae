"""The evaluation set: hand-written known Q&A pairs over the five UN documents (``eval/data/qa.jsonl``).

One JSON object per line::

    {"id": "zh-fact-001", "lang": "zh", "type": "fact",
     "question": "...", "gold": [{"doc_id": "wg4-report-2020", "para": 6}, ...],
     "answer": "reference answer, in the question's language",
     "key_facts": ["short verbatim substrings of a gold paragraph's Chinese text"]}

- ``lang``: the question's language, ``zh`` or ``en`` (the documents are Chinese either way, so key
  facts are always Chinese).
- ``type``: ``fact`` (one fact), ``list`` (an enumeration), ``number`` (a number, date or resolution
  symbol), ``multi`` (needs several paragraphs, within one document or across documents) or
  ``unanswerable`` (on topic, but not in the documents: ``gold`` and ``key_facts`` are empty).
- ``gold``: every paragraph that answers the question, the primary one first, as ``(doc_id, para)``.

``load_dataset`` checks the file's structure and raises :class:`rag.errors.CorpusError` (the dataset
is corpus-side data, like the manifest) naming the line, the bad value and the allowed ones.
``check_dataset`` checks the items against the parsed corpus and returns the problems as strings.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from rag.errors import CorpusError, one_of

LANGS: tuple[str, ...] = ("zh", "en")
TYPES: tuple[str, ...] = ("fact", "list", "number", "multi", "unanswerable")
UNANSWERABLE = "unanswerable"
FIELDS: tuple[str, ...] = ("id", "lang", "type", "question", "gold", "answer", "key_facts")

Key = tuple[str, int]

_WS = re.compile(r"\s+")


def strip_ws(text: str) -> str:
    """Remove every whitespace character (Unicode ``\\s``, including full-width and no-break spaces).

    Key facts are matched against paragraph text with whitespace removed on BOTH sides, because the
    documents space numbers inconsistently ("2019 年 9 月" in one file, "2019年9月" in another) and
    file 003 is hard-wrapped PDF text whose lines the parser joins. Nothing else is normalised: a key
    fact must otherwise be a verbatim substring (same full-/half-width digits and punctuation).

    >>> strip_ws("2019 年 9 月\\n4 日")
    '2019年9月4日'
    """
    return _WS.sub("", text)


@dataclass(frozen=True)
class QAItem:
    """One known question with its gold paragraphs, a reference answer and the facts an answer needs."""

    id: str
    lang: str
    type: str
    question: str
    gold: tuple[Key, ...]
    answer: str
    key_facts: tuple[str, ...]

    @property
    def answerable(self) -> bool:
        return self.type != UNANSWERABLE

    @property
    def gold_set(self) -> frozenset[Key]:
        return frozenset(self.gold)

    @classmethod
    def from_json(cls, obj: Any, where: str = "") -> QAItem:
        """Build and validate an item from a decoded JSON object.

        ``where`` prefixes error messages (``"qa.jsonl:12"``). Raises :class:`CorpusError` naming the
        field, the bad value and, for closed sets, the allowed values.
        """
        prefix = f"{where}: " if where else ""
        if not isinstance(obj, Mapping):
            raise CorpusError(f"{prefix}expected a JSON object, got {type(obj).__name__}")
        item_id = obj.get("id")
        if isinstance(item_id, str) and item_id.strip():
            prefix = f"{prefix}item {item_id!r}: "
        unknown = [k for k in obj if k not in FIELDS]
        if unknown:
            raise CorpusError(f"{prefix}unknown field {one_of(unknown[0], FIELDS)}")
        missing = [k for k in FIELDS if k not in obj]
        if missing:
            raise CorpusError(f"{prefix}missing field {missing[0]!r} (required: {', '.join(FIELDS)})")

        def text_field(name: str) -> str:
            value = obj[name]
            if not isinstance(value, str) or not value.strip():
                raise CorpusError(f"{prefix}field {name!r} must be a non-empty string, got {value!r}")
            return value

        item_id = text_field("id")
        lang = obj["lang"]
        if lang not in LANGS:
            raise CorpusError(f"{prefix}field 'lang' is {one_of(lang, LANGS)}")
        qtype = obj["type"]
        if qtype not in TYPES:
            raise CorpusError(f"{prefix}field 'type' is {one_of(qtype, TYPES)}")
        question = text_field("question")
        answer = text_field("answer")
        gold = _parse_gold(obj["gold"], prefix)
        key_facts = _parse_key_facts(obj["key_facts"], prefix)

        if qtype == UNANSWERABLE:
            if gold:
                raise CorpusError(f"{prefix}an unanswerable item must have an empty 'gold', got {list(gold)!r}")
            if key_facts:
                raise CorpusError(
                    f"{prefix}an unanswerable item must have empty 'key_facts', got {list(key_facts)!r}"
                )
        elif not gold:
            raise CorpusError(f"{prefix}a {qtype!r} item must have at least one gold paragraph; 'gold' is empty")
        return cls(item_id, lang, qtype, question, gold, answer, key_facts)

    def to_json(self) -> dict[str, Any]:
        """The JSONL schema (inverse of :meth:`from_json`)."""
        return {
            "id": self.id,
            "lang": self.lang,
            "type": self.type,
            "question": self.question,
            "gold": [{"doc_id": d, "para": p} for d, p in self.gold],
            "answer": self.answer,
            "key_facts": list(self.key_facts),
        }


def _parse_gold(value: Any, prefix: str) -> tuple[Key, ...]:
    if not isinstance(value, list):
        raise CorpusError(f"{prefix}field 'gold' must be a list of {{\"doc_id\", \"para\"}} objects, got {value!r}")
    out: list[Key] = []
    for entry in value:
        if isinstance(entry, Mapping) and set(entry) == {"doc_id", "para"}:
            doc_id, para = entry["doc_id"], entry["para"]
        elif isinstance(entry, list | tuple) and len(entry) == 2:
            doc_id, para = entry
        else:
            raise CorpusError(f"{prefix}gold entry {entry!r} must be {{\"doc_id\": str, \"para\": int}}")
        if not isinstance(doc_id, str) or not doc_id.strip():
            raise CorpusError(f"{prefix}gold doc_id must be a non-empty string, got {doc_id!r}")
        if isinstance(para, bool) or not isinstance(para, int) or para < 1:
            raise CorpusError(f"{prefix}gold para must be a positive integer, got {para!r} (doc_id {doc_id!r})")
        key = (doc_id, para)
        if key in out:
            raise CorpusError(f"{prefix}gold paragraph {doc_id}, para. {para} is listed twice")
        out.append(key)
    return tuple(out)


def _parse_key_facts(value: Any, prefix: str) -> tuple[str, ...]:
    if not isinstance(value, list):
        raise CorpusError(f"{prefix}field 'key_facts' must be a list of strings, got {value!r}")
    for fact in value:
        if not isinstance(fact, str) or not fact.strip():
            raise CorpusError(f"{prefix}key fact {fact!r} must be a non-empty string")
    return tuple(value)


def load_dataset(path: str | Path) -> list[QAItem]:
    """Read and validate a JSONL dataset; blank lines are skipped.

    Raises :class:`CorpusError` for an unreadable file, a line that is not JSON, an invalid item (see
    :meth:`QAItem.from_json`) or a duplicate id (both line numbers named).
    """
    path = Path(path)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        raise CorpusError(f"evaluation dataset not found: {str(path)!r}") from None
    except UnicodeDecodeError:
        raise CorpusError(f"evaluation dataset {str(path)!r} is not UTF-8 text") from None
    items: list[QAItem] = []
    seen: dict[str, int] = {}
    for lineno, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        where = f"{path.name}:{lineno}"
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as e:
            raise CorpusError(f"{where}: not valid JSON ({e.msg} at column {e.colno})") from None
        item = QAItem.from_json(obj, where=where)
        if item.id in seen:
            raise CorpusError(f"{where}: duplicate id {item.id!r} (first used on line {seen[item.id]})")
        seen[item.id] = lineno
        items.append(item)
    if not items:
        raise CorpusError(f"evaluation dataset {str(path)!r} holds no items")
    return items


class _ParagraphLike(Protocol):
    doc_id: str
    para: int
    text: str


def check_dataset(items: Iterable[QAItem], paragraphs: Iterable[_ParagraphLike]) -> list[str]:
    """Problems of the items against a parsed corpus; an empty list means the dataset is consistent.

    Reported:

    - a gold ``(doc_id, para)`` that is not a paragraph of the corpus (unknown document, or no such
      paragraph number in it);
    - an answerable item without key facts;
    - a key fact that does not occur in the text of ANY of the item's gold paragraphs. The comparison
      removes all whitespace on both sides (:func:`strip_ws`) and is otherwise exact, so "2019 年 9 月"
      matches "2019年9月" and a phrase split across two hard-wrapped lines of file 003 still matches.
    """
    texts: dict[Key, str] = {}
    docs: set[str] = set()
    for p in paragraphs:
        texts[(p.doc_id, p.para)] = strip_ws(p.text)
        docs.add(p.doc_id)
    problems: list[str] = []
    for item in items:
        found: list[str] = []
        for doc_id, para in item.gold:
            if doc_id not in docs:
                problems.append(f"{item.id}: gold document {one_of(doc_id, sorted(docs))}")
            elif (doc_id, para) not in texts:
                problems.append(f"{item.id}: gold {doc_id}, para. {para} is not a paragraph of the corpus")
            else:
                found.append(texts[(doc_id, para)])
        if item.answerable and not item.key_facts:
            problems.append(f"{item.id}: answerable item has no key facts")
        if not found:
            continue
        for fact in item.key_facts:
            needle = strip_ws(fact)
            if not any(needle in t for t in found):
                golds = "; ".join(f"{d}, para. {p}" for d, p in item.gold)
                problems.append(f"{item.id}: key fact {fact!r} occurs in none of its gold paragraphs ({golds})")
    return problems
