"""``uncac-qa ask``: in-process through ``rag.cli.main`` with the session engine registered (no second
model load), plus one real process for the missing-index error."""

from __future__ import annotations

import io
import json
import subprocess
import sys

import pytest

from rag.cli import main
from rag.engine import register_engine

SCHEMA = {"question", "answer", "refused", "citations", "retrieved", "timings_ms"}
CITATION = {"doc_id", "symbol", "para", "sub", "label_en", "label_zh", "quote", "url"}
Q_ZH = "2020年预防腐败问题工作组会议由谁主持？"


@pytest.fixture(autouse=True)
def _shared_engine(engine):
    register_engine(engine)  # main() then reuses it: same settings, same key


@pytest.mark.slow
def test_json_schema(capsys):
    assert main(["ask", Q_ZH, "--json"]) == 0
    out = capsys.readouterr().out
    assert len(out.splitlines()) == 1
    obj = json.loads(out)
    assert set(obj) - {"notice"} == SCHEMA
    assert obj["question"] == Q_ZH and isinstance(obj["answer"], str) and isinstance(obj["refused"], bool)
    assert all(set(c) == CITATION for c in obj["citations"])
    assert all(set(r) == {"doc_id", "para", "score"} for r in obj["retrieved"]) and obj["retrieved"]
    assert {"retrieve", "answer", "total"} <= set(obj["timings_ms"])


@pytest.mark.slow
def test_plain_text_and_filters(capsys):
    assert main(["ask", Q_ZH, "--doc", "wg4-report-2020", "--k", "3"]) == 0
    out = capsys.readouterr().out
    assert out.strip() and not out.lstrip().startswith("{")
    assert main(["ask", Q_ZH, "--doc", "wg4-report-2020", "--k", "3", "--json"]) == 0
    obj = json.loads(capsys.readouterr().out)
    assert {r["doc_id"] for r in obj["retrieved"]} == {"wg4-report-2020"}
    if not obj["refused"]:
        assert "出处" in out and "/source/wg4-report-2020#p" in out


@pytest.mark.slow
def test_jsonl_bad_lines_do_not_stop_the_run(capsys, monkeypatch):
    lines = [
        json.dumps({"id": "ok-1", "question": Q_ZH}, ensure_ascii=False),
        "{not json",
        json.dumps({"id": "no-q"}),
        "",  # blank lines are skipped
        json.dumps({"id": "empty", "question": "   "}),
        json.dumps({"id": "bad-doc", "question": "资产申报", "doc_ids": ["nope"]}),
        json.dumps({"id": "bad-k", "question": "资产申报", "k": "ten"}),
        json.dumps({"id": 7, "question": "Who chaired the 2017 meeting?", "doc_ids": ["wg4-report-2017"], "k": 4}),
    ]
    monkeypatch.setattr(sys, "stdin", io.StringIO("\n".join(lines) + "\n"))
    assert main(["ask", "--jsonl", "--batch-size", "2"]) == 1  # 1: some lines failed
    cap = capsys.readouterr()
    rows = [json.loads(line) for line in cap.out.splitlines()]
    assert [r["id"] for r in rows] == ["ok-1", None, "no-q", "empty", "bad-doc", "bad-k", 7]
    good = [rows[0], rows[6]]
    for r in good:
        assert set(r) - {"notice"} == SCHEMA | {"id"}
    assert {x["doc_id"] for x in rows[6]["retrieved"]} == {"wg4-report-2017"} and len(rows[6]["retrieved"]) <= 4
    bad = rows[1:6]
    assert all(set(r) == {"id", "line", "error"} for r in bad)
    assert [r["line"] for r in bad] == [2, 3, 5, 6, 7]
    assert "not valid JSON" in bad[0]["error"] and "question" in bad[1]["error"]
    assert "empty" in bad[2]["error"]
    assert "unknown document 'nope'" in bad[3]["error"] and "wg4-report-2020" in bad[3]["error"]
    assert "integer" in bad[4]["error"]
    assert "2 answered, 5 failed" in cap.err


def test_unknown_doc_names_valid_ids(capsys):
    assert main(["ask", "资产申报", "--doc", "nope"]) == 2
    err = capsys.readouterr().err
    assert "unknown document 'nope'; allowed: " in err
    for doc in ("wg4-report-2020", "wg4-report-2017", "cosp4-prevention-background-2011"):
        assert doc in err


def test_no_question_is_a_user_error(capsys):
    assert main(["ask"]) == 2
    assert "give a question" in capsys.readouterr().err


def test_missing_index_in_process(capsys):
    assert main(["--set", "index.dir=/tmp/uncac-qa-nonexistent-index", "ask", "资产申报"]) == 2
    assert "uncac-qa ingest" in capsys.readouterr().err


def test_missing_index_real_process():
    r = subprocess.run(
        [sys.executable, "-m", "rag", "--set", "index.dir=/tmp/uncac-qa-nonexistent-index", "ask", "资产申报", "--json"],
        capture_output=True, text=True, timeout=120,
    )
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert "uncac-qa ingest" in r.stderr and r.stdout == ""
