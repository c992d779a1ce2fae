"""Delegates' 👍/👎 on answers, stored durably in SQLite, exported as evaluation-set items.

One row per rated answer: the question, the answer, its citations, the whole result, the configuration that
produced it (``settings.model_dump(mode="json")``), an optional comment and a UTC timestamp. A
delegate who changes their mind (👍, then 👎 on the same answer) changes that row: the chat gives
each answer an ``answer_id``, and the latest vote replaces the earlier one, so the export holds one
label per answer. Every
write is its own committed transaction on its own connection, so the store is safe to use from
Gradio's worker threads and survives a crash right after the click.

``export_items`` turns the rows into the evaluation dataset's format (``eval/dataset.py``):

- 👍 on an answer: ``type`` "fact", ``gold`` = the cited paragraphs (in citation order);
- 👍 on a refusal: ``type`` "unanswerable", ``gold`` = [] (the refusal was right);
- 👎: ``gold`` = [] plus ``"feedback": {"rating": -1, "comment": ..., "cited": [...]}``, for a
  reviewer to write the right gold (the dataset loader rejects the extra field until then).

Example::

    store = FeedbackStore(settings.path(settings.ui.data_dir) / "feedback.sqlite3")
    fid = store.add(result, rating=-1, comment="wrong paragraph", config=settings.model_dump(mode="json"))
    items = store.export_items()   # `uncac-qa feedback export` writes them as JSON Lines (ui/commands.py)
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rag.errors import UncacQAError, one_of
from rag.request import SURROGATE
from rag.result import AnswerResult

FILENAME = "feedback.sqlite3"
RATINGS = (1, -1)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS feedback (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    created_at  TEXT    NOT NULL,            -- ISO 8601, UTC
    rating      INTEGER NOT NULL CHECK (rating IN (1, -1)),
    comment     TEXT    NOT NULL DEFAULT '',
    question    TEXT    NOT NULL,
    answer      TEXT    NOT NULL,
    refused     INTEGER NOT NULL,
    lang        TEXT    NOT NULL,            -- the question's language
    ui_lang     TEXT    NOT NULL DEFAULT '', -- the interface language it was read in
    citations   TEXT    NOT NULL,            -- JSON list of Citation.to_json()
    result      TEXT    NOT NULL,            -- JSON AnswerResult.to_json(full=True)
    context     TEXT    NOT NULL DEFAULT '{}', -- JSON: filters and conversation history
    config      TEXT    NOT NULL,            -- JSON settings.model_dump(mode="json")
    answer_id   TEXT    NOT NULL DEFAULT ''  -- the chat's id of the rated answer: one row per answer
);
"""
# Files written before answer_id existed get the column; the index makes "one row per answer" a rule.
_MIGRATIONS = (
    ("answer_id", "ALTER TABLE feedback ADD COLUMN answer_id TEXT NOT NULL DEFAULT ''"),
)
_INDEX = "CREATE UNIQUE INDEX IF NOT EXISTS feedback_answer ON feedback (answer_id) WHERE answer_id != ''"


class FeedbackError(UncacQAError):
    """A rating that is not 👍/👎, or a comment for a rating that does not exist."""


@dataclass(frozen=True)
class FeedbackRow:
    id: int
    created_at: str
    rating: int
    comment: str
    question: str
    answer: str
    refused: bool
    lang: str
    ui_lang: str
    citations: list[dict[str, Any]]
    result: dict[str, Any]
    context: dict[str, Any]
    config: dict[str, Any]


class FeedbackStore:
    """SQLite file of ratings; the file and its folder are created on first use."""

    def __init__(self, path: str | Path, *, max_comment_chars: int = 2000) -> None:
        self.path = Path(path)
        self.max_comment_chars = max_comment_chars
        self._ready = False

    @classmethod
    def for_settings(cls, settings: Any) -> FeedbackStore:
        """The store at ``<settings.path(settings.ui.data_dir)>/feedback.sqlite3``."""
        return cls(settings.path(settings.ui.data_dir) / FILENAME, max_comment_chars=settings.server.feedback_max_chars)

    def _comment(self, comment: str | None) -> str:
        text = comment.strip() if isinstance(comment, str) else ""
        if len(text) > self.max_comment_chars:
            raise FeedbackError(f"the comment has {len(text)} characters; the limit is {self.max_comment_chars}")
        if SURROGATE.search(text):
            raise FeedbackError("the comment contains a lone surrogate, which is not text; remove it")
        return text

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        if not self._ready:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(self.path, timeout=30)
        try:
            if not self._ready:
                conn.executescript(_SCHEMA)
                have = {r[1] for r in conn.execute("PRAGMA table_info(feedback)")}
                for column, sql in _MIGRATIONS:
                    if column not in have:
                        conn.execute(sql)
                conn.execute(_INDEX)
                conn.commit()
                self._ready = True
            with conn:  # commit on success, roll back on error
                yield conn
        finally:
            conn.close()

    def add(
        self,
        result: AnswerResult | dict[str, Any],
        *,
        rating: int,
        comment: str = "",
        config: dict[str, Any] | None = None,
        context: dict[str, Any] | None = None,
        ui_lang: str = "",
        answer_id: str = "",
    ) -> int:
        """Store one rating of one answer; returns its id. ``result`` is the AnswerResult or its full JSON.

        With an ``answer_id`` already rated, that row's rating (and its comment, when one is given) is
        replaced and its id returned: the latest vote on an answer is the one that counts.
        """
        if rating not in RATINGS:
            raise FeedbackError(f"rating {one_of(rating, RATINGS)}")
        data = result.to_json(full=True) if isinstance(result, AnswerResult) else dict(result)
        row = (
            datetime.now(UTC).isoformat(timespec="seconds"), rating, self._comment(comment),
            data["question"], data["answer"], int(bool(data["refused"])), data.get("lang") or "",
            ui_lang, _dump(data.get("citations", [])), _dump(data), _dump(context or {}), _dump(config or {}),
        )
        if not isinstance(answer_id, str) or len(answer_id) > 64 or SURROGATE.search(answer_id):
            raise FeedbackError(f"answer id {str(answer_id)[:70]!r} is not allowed; allowed: text of at most 64 characters")
        with self._connect() as conn:
            if answer_id:
                found = conn.execute("SELECT id FROM feedback WHERE answer_id = ?", (answer_id,)).fetchone()
                if found:
                    sets = "created_at = ?, rating = ?" + (", comment = ?" if row[2] else "")
                    values = (row[0], rating) + ((row[2],) if row[2] else ())
                    conn.execute(f"UPDATE feedback SET {sets} WHERE id = ?", (*values, found[0]))
                    return int(found[0])
            cur = conn.execute(
                "INSERT INTO feedback (created_at, rating, comment, question, answer, refused, lang, ui_lang,"
                " citations, result, context, config, answer_id) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (*row, answer_id),
            )
            return int(cur.lastrowid)

    def set_comment(self, feedback_id: int, comment: str) -> None:
        """Attach (replace) the comment of an existing rating."""
        with self._connect() as conn:
            cur = conn.execute("UPDATE feedback SET comment = ? WHERE id = ?", (self._comment(comment), feedback_id))
            if cur.rowcount != 1:
                raise FeedbackError(f"no feedback with id {feedback_id!r}")

    def rows(self) -> list[FeedbackRow]:
        """Every rating, oldest first."""
        if not self.path.is_file():
            return []
        with self._connect() as conn:
            cur = conn.execute(
                "SELECT id, created_at, rating, comment, question, answer, refused, lang, ui_lang,"
                " citations, result, context, config FROM feedback ORDER BY id"
            )
            out = []
            for r in cur.fetchall():
                out.append(FeedbackRow(
                    r[0], r[1], r[2], r[3], r[4], r[5], bool(r[6]), r[7], r[8],
                    json.loads(r[9]), json.loads(r[10]), json.loads(r[11]), json.loads(r[12]),
                ))
            return out

    def export_items(self) -> list[dict[str, Any]]:
        """The ratings as evaluation-set items (see the module docstring)."""
        return [to_eval_item(r) for r in self.rows()]



def _dump(obj: Any) -> str:
    return json.dumps(obj, ensure_ascii=False, sort_keys=True)


def _cited(row: FeedbackRow) -> list[dict[str, Any]]:
    keys = dict.fromkeys((c["doc_id"], int(c["para"])) for c in row.citations)
    return [{"doc_id": d, "para": p} for d, p in keys]


def to_eval_item(row: FeedbackRow) -> dict[str, Any]:
    """One rating as an evaluation-set item ``{"id","lang","type","question","gold","answer","key_facts"}``.

    A 👎 (or a 👍 on an answer without citations, which cannot be a gold item as it stands) also gets
    ``"feedback": {"rating", "comment", "cited"}`` so that a reviewer can fix it.
    """
    cited = _cited(row)
    item: dict[str, Any] = {
        "id": f"feedback-{row.id:06d}",
        "lang": row.lang if row.lang in ("zh", "en") else "zh",
        "type": "unanswerable" if row.refused else "fact",
        "question": row.question,
        "gold": cited if row.rating == 1 and not row.refused else [],
        "answer": row.answer,
        "key_facts": [],
    }
    if row.rating == -1 or (not row.refused and not cited):
        item["feedback"] = {"rating": row.rating, "comment": row.comment, "cited": cited}
    return item
