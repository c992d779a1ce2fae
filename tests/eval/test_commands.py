"""The ``uncac-qa eval`` command's up-front checks (no engine needed)."""

from __future__ import annotations

import json


def test_eval_command_rejects_dataset_that_does_not_match_corpus(tmp_path, capsys):
    from rag.cli import main

    bad = [
        {"id": "x-1", "lang": "zh", "type": "fact", "question": "q", "gold": [{"doc_id": "wg4-report-2020", "para": 999}],
         "answer": "a", "key_facts": ["f"]},
        {"id": "x-2", "lang": "zh", "type": "fact", "question": "q", "gold": [{"doc_id": "wg4-report-2020", "para": 6}],
         "answer": "a", "key_facts": ["不在该段落中的事实"]},
    ]
    path = tmp_path / "bad.jsonl"
    path.write_text("".join(json.dumps(o, ensure_ascii=False) + "\n" for o in bad), encoding="utf-8")
    assert main(["eval", "--dataset", str(path), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert "does not match the corpus (2 problems)" in err
    assert "x-1: gold wg4-report-2020, para. 999 is not a paragraph" in err and "x-2: key fact" in err
    assert not (tmp_path / "out").exists()


def test_write_thresholds_needs_the_whole_dataset(capsys):
    from rag.cli import main

    assert main(["eval", "--limit", "3", "--write-thresholds"]) == 2
    assert "--write-thresholds needs the whole default dataset" in capsys.readouterr().err
