"""The feedback store: SQLite round trip, comments, and the export to the evaluation-set format
(the ``uncac-qa feedback export`` command: tests/ui/test_commands.py)."""

from __future__ import annotations

import sqlite3

import pytest

from eval.dataset import QAItem
from rag.corpus.records import Citation
from rag.errors import CorpusError
from rag.result import AnswerResult, AnswerSentence, Retrieved
from ui.feedback import FeedbackError, FeedbackStore

C5 = Citation("wg4-2019-l1-add1", "S", 5, None, "S, para. 5", "S，第 5 段", "quote five", "/source/wg4-2019-l1-add1#p5")
C54J = Citation("cosp4-prevention-background-2011", None, 54, "j", "x (j)", "x (j)", "quote j", "/source/x#p54-j")
ANSWER = AnswerResult("工作组建议什么？", "回答。", False, (C5, C54J, C5), (Retrieved("wg4-2019-l1-add1", 5, 0.9),),
                      {"total": 3.0}, (AnswerSentence("回答。", (0, 1)),), "zh")
REFUSED = AnswerResult("What about Mars?", "Not found", True, (), (Retrieved("wg4-2019-l1-add1", 5, 0.6),), lang="en")


def test_round_trip_keeps_question_answer_citations_config_and_time(tmp_path):
    store = FeedbackStore(tmp_path / "sub" / "feedback.sqlite3")  # folder created on first use
    config = {"retrieval": {"k": 10}}
    fid = store.add(ANSWER, rating=1, comment=" good ", config=config, context={"filters": {}}, ui_lang="en")
    (row,) = store.rows()
    assert row.id == fid and row.rating == 1 and row.comment == "good"
    assert row.question == ANSWER.question and row.answer == ANSWER.answer and not row.refused
    assert row.citations == [c.to_json() for c in ANSWER.citations]
    assert row.result == ANSWER.to_json(full=True) and row.config == config and row.ui_lang == "en"
    assert row.created_at.endswith("+00:00")
    store.set_comment(fid, "changed")
    assert FeedbackStore(store.path).rows()[0].comment == "changed"  # durable: a new store reads it back
    with sqlite3.connect(store.path) as conn:  # a plain SQLite file anyone can query
        assert conn.execute("SELECT rating, question FROM feedback").fetchall() == [(1, ANSWER.question)]


def test_bad_rating_and_unknown_id_are_errors(tmp_path):
    store = FeedbackStore(tmp_path / "f.sqlite3")
    with pytest.raises(FeedbackError, match="rating 0; allowed: 1, -1"):
        store.add(ANSWER, rating=0)
    with pytest.raises(FeedbackError, match="no feedback with id 42"):
        store.set_comment(42, "x")


def test_export_format_thumbs_up_is_a_loadable_eval_item(tmp_path):
    store = FeedbackStore(tmp_path / "f.sqlite3")
    store.add(ANSWER, rating=1)
    store.add(REFUSED, rating=1)
    up, refused = store.export_items()
    assert up == {
        "id": "feedback-000001", "lang": "zh", "type": "fact", "question": ANSWER.question,
        "gold": [{"doc_id": "wg4-2019-l1-add1", "para": 5}, {"doc_id": "cosp4-prevention-background-2011", "para": 54}],
        "answer": "回答。", "key_facts": [],
    }
    assert refused["type"] == "unanswerable" and refused["gold"] == [] and refused["lang"] == "en"
    for item in (up, refused):  # the oracle: the evaluation set's own loader accepts them
        QAItem.from_json(item)


def test_export_thumbs_down_carries_feedback_for_the_reviewer(tmp_path):
    store = FeedbackStore(tmp_path / "f.sqlite3")
    fid = store.add(ANSWER, rating=-1)
    store.set_comment(fid, "wrong paragraph, see para. 7")
    (item,) = store.export_items()
    assert item["gold"] == [] and item["type"] == "fact"
    assert item["feedback"] == {
        "rating": -1, "comment": "wrong paragraph, see para. 7",
        "cited": [{"doc_id": "wg4-2019-l1-add1", "para": 5}, {"doc_id": "cosp4-prevention-background-2011", "para": 54}],
    }
    with pytest.raises(CorpusError, match="unknown field 'feedback'"):  # must be reviewed before use
        QAItem.from_json(item)



def test_latest_vote_on_an_answer_replaces_the_first(tmp_path):
    store = FeedbackStore(tmp_path / "f.sqlite3")
    first = store.add(ANSWER, rating=1, comment="good", answer_id="a1")
    again = store.add(ANSWER, rating=-1, answer_id="a1")  # changed their mind: same row, comment kept
    other = store.add(ANSWER, rating=1, answer_id="a2")  # the same question answered again is another answer
    assert first == again != other
    rows = store.rows()
    assert [(r.id, r.rating, r.comment) for r in rows] == [(first, -1, "good"), (other, 1, "")]
    items = store.export_items()
    assert len(items) == 2 and items[0]["feedback"]["rating"] == -1  # one label per answer
    with pytest.raises(FeedbackError, match="answer id"):
        store.add(ANSWER, rating=1, answer_id="x" * 65)


def test_a_file_from_before_answer_ids_is_migrated_and_keeps_its_rows(tmp_path):
    path = tmp_path / "old.sqlite3"
    with sqlite3.connect(path) as conn:
        conn.executescript(
            "CREATE TABLE feedback (id INTEGER PRIMARY KEY AUTOINCREMENT, created_at TEXT NOT NULL, rating INTEGER"
            " NOT NULL, comment TEXT NOT NULL DEFAULT '', question TEXT NOT NULL, answer TEXT NOT NULL, refused"
            " INTEGER NOT NULL, lang TEXT NOT NULL, ui_lang TEXT NOT NULL DEFAULT '', citations TEXT NOT NULL,"
            " result TEXT NOT NULL, context TEXT NOT NULL DEFAULT '{}', config TEXT NOT NULL);"
            "INSERT INTO feedback (created_at, rating, question, answer, refused, lang, citations, result, config)"
            " VALUES ('2026-01-01T00:00:00+00:00', 1, 'q', 'a', 0, 'zh', '[]', '{}', '{}');"
        )
    store = FeedbackStore(path)
    store.add(ANSWER, rating=-1, answer_id="n1")
    store.add(ANSWER, rating=1, answer_id="n1")
    assert [(r.question, r.rating) for r in store.rows()] == [("q", 1), (ANSWER.question, 1)]
