from __future__ import annotations

import json
import subprocess
import sys

from rag.cli import main

KEYS = {"doc_id", "para", "subs", "section", "text", "footnotes", "label_en", "label_zh", "id"}


def test_paragraphs_jsonl_schema(capsys):
    assert main(["paragraphs", "--doc", "wg4-2019-l1-add1", "--jsonl"]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [r["para"] for r in rows] == list(range(1, 21))
    assert all(set(r) == KEYS for r in rows)
    assert rows[4]["label_en"] == "CAC/COSP/WG.4/2019/L.1/Add.1, para. 5"


def test_paragraphs_subs_and_footnotes_in_json(capsys):
    main(["paragraphs", "--doc", "cosp4-prevention-background-2011", "--jsonl"])
    rows = {r["para"]: r for r in map(json.loads, capsys.readouterr().out.splitlines())}
    assert rows[54]["subs"][9]["label"] == "j"
    assert rows[12]["footnotes"][0]["mark"] == "1"


def test_bad_input_is_one_line_and_exit_2():
    # a real process: the message goes to stderr, no traceback
    r = subprocess.run([sys.executable, "-m", "rag", "paragraphs", "--doc", "nope"], capture_output=True, text=True)
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert "unknown document 'nope'; allowed: " in r.stderr
    r = subprocess.run([sys.executable, "-m", "rag", "--set", "retrieval.x=1", "paragraphs"], capture_output=True, text=True)
    assert r.returncode == 2 and "unknown key 'retrieval.x'" in r.stderr
