"""The evaluation runner and the report: exact scoring of hand-made results (oracle), then a 4-item run
through the real engine (session fixture ``engine``) and every report file it writes."""

from __future__ import annotations

import io
import json
import struct
from dataclasses import replace

import pytest

from eval.dataset import QAItem, load_dataset
from eval.report import FIGURES, NICE, format_table, write_report
from eval.runner import HEADLINE, ROW_METRICS, EvalRun, run_eval, score_item, worst_items
from rag.commands.ask import run_jsonl
from rag.corpus.records import Citation
from rag.errors import QueryError
from rag.result import AnswerResult, Retrieved

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _cite(doc: str, para: int, quote: str) -> Citation:
    return Citation(doc, None, para, None, f"{doc}, para. {para}", f"{doc}，第 {para} 段", quote, f"/source/{doc}#p{para}")


ITEM = QAItem("en-x-1", "en", "multi", "q?", (("d", 1), ("d", 2)), "ref", ("混合形式", "2011年3月8日"))


def test_score_item_exact_values():
    # ranked paragraphs: d/9, d/1 (twice: two chunks), d/2 -> distinct [d9, d1, d2]
    res = AnswerResult(
        "q?", "The documents state: “会议以混合 形式举行”", False,
        citations=(_cite("d", 1, "于 2011 年 3 月 8 日"), _cite("d", 7, "无关")),
        retrieved=(Retrieved("d", 9, 0.9), Retrieved("d", 1, 0.8), Retrieved("d", 1, 0.7), Retrieved("d", 2, 0.6)),
        timings_ms={"retrieve": 5.0, "answer": 1.0, "total": 7.5},
    )
    row = score_item(ITEM, res)
    assert set(ROW_METRICS) <= set(row)
    assert row["recall@1"] == 0.0 and row["recall@2"] == 0.5 and row["recall@3"] == 1.0
    assert row["hit@1"] == 0.0 and row["hit@5"] == 1.0
    assert row["mrr"] == 0.5
    # key facts are looked for in the answer AND the quotes: "混合 形式" (answer) and "2011 年 3 月 8 日" (quote)
    assert row["kf_recall"] == 1.0
    assert row["cit_precision"] == 0.5 and row["cit_recall"] == 0.5
    assert row["refused"] is False and row["false_refusal"] == 0.0 and row["refusal_correct"] is None
    assert row["latency_ms"] == 7.5


def test_score_item_refusals_and_failures():
    unans = QAItem("zh-u-1", "zh", "unanswerable", "q", (), "ref", ())
    refused = AnswerResult("q", "未在文件中找到答案。", True, retrieved=(Retrieved("d", 3, 0.5),), timings_ms={"total": 1.0})
    row = score_item(unans, refused)
    assert row["refusal_correct"] == 1.0 and row["false_refusal"] is None
    assert row["recall@5"] is None and row["kf_recall"] is None and row["cit_precision"] is None
    # an engine error on an answerable item scores as a refusal with nothing found
    row = score_item(ITEM, QueryError("boom"))
    assert row["refused"] is True and row["false_refusal"] == 1.0 and row["recall@10"] == 0.0
    assert row["cit_recall"] == 0.0 and row["kf_recall"] == 0.0 and row["latency_ms"] is None


# --- a small real run ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def items(settings) -> list[QAItem]:
    """One item of each of four kinds: zh fact, en fact, multi, unanswerable."""
    allitems = load_dataset(settings.path(settings.eval.dataset))
    want = [("zh", "fact"), ("en", "fact"), ("zh", "multi"), ("en", "unanswerable")]
    return [next(i for i in allitems if (i.lang, i.type) == w) for w in want]


@pytest.fixture(scope="module")
def small_run(engine, items) -> EvalRun:
    return run_eval(engine, items, label="small", batch_size=3)  # 3: the run spans two batches


@pytest.mark.slow
def test_rows_complete_and_in_range(small_run, items):
    assert [r["id"] for r in small_run.rows] == [i.id for i in items]
    assert not small_run.errors()
    for row in small_run.rows:
        assert set(ROW_METRICS) <= set(row)
        for m in ROW_METRICS:
            v = row[m]
            if m == "latency_ms":
                assert v is not None and v > 0
            elif v is not None:
                assert 0.0 <= float(v) <= 1.0, (row["id"], m, v)
    answerable = [r for r in small_run.rows if r["type"] != "unanswerable"]
    assert all(r["recall@5"] is not None and r["kf_recall"] is not None for r in answerable)
    s = small_run.summary
    assert s["overall"]["n"] == 4 and set(s["lang"]) == {"en", "zh"}
    assert s["overall"]["support"]["refusal_correct"] == 1 and s["overall"]["support"]["false_refusal"] == 3
    # recall@k never decreases with k
    curve = [s["overall"]["metrics"][f"recall@{k}"] for k in range(1, 11)]
    assert curve == sorted(curve)


@pytest.mark.slow
def test_same_answers_as_ask_jsonl(engine, small_run, items):
    """The runner and `uncac-qa ask --jsonl` share one path: same answers, citations and rankings."""
    lines = [json.dumps({"id": i.id, "question": i.question}, ensure_ascii=False) for i in items]
    out = io.StringIO()
    assert run_jsonl(engine, lines, out) == (4, 0)
    served = [json.loads(line) for line in out.getvalue().splitlines()]
    for rec, res in zip(served, small_run.results):
        mine = res.to_json()
        assert rec["answer"] == mine["answer"] and rec["citations"] == mine["citations"]
        assert [(r["doc_id"], r["para"]) for r in rec["retrieved"]] == [(r["doc_id"], r["para"]) for r in mine["retrieved"]]


@pytest.mark.slow
def test_report_files(small_run, tmp_path):
    files = write_report([small_run], tmp_path, dataset="eval/data/qa.jsonl")
    for name in ("report.md", "report.html", "results.jsonl", "summary.json", *FIGURES):
        assert (tmp_path / name).is_file() and name in files
    records = [json.loads(line) for line in (tmp_path / "results.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [r["id"] for r in records] == [r["id"] for r in small_run.rows]
    for r in records:
        assert {"question", "answer", "refused", "citations", "retrieved", "metrics"} <= set(r)
        assert set(r["metrics"]) == set(ROW_METRICS)
    md = (tmp_path / "report.md").read_text(encoding="utf-8")
    for m in HEADLINE:
        assert NICE[m] in md, m
    assert "latency p50" in md and "Worst items" in md
    for name in FIGURES:
        assert f"]({name})" in md
        data = (tmp_path / name).read_bytes()
        assert data[:8] == PNG_MAGIC and data[12:16] == b"IHDR"
        width, height = struct.unpack(">II", data[16:24])
        assert width > 200 and height > 150
    page = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert page.startswith("<!doctype html>") and all(f"src='{n}'" in page for n in FIGURES)
    assert "http://" not in page and "https://" not in page and "<script" not in page  # self-contained


@pytest.mark.slow
def test_compare_report(small_run, tmp_path):
    other = replace(small_run, label="other")
    text = format_table([small_run, other])
    assert "small vs other" in text and "Δ" in text
    write_report([small_run, other], tmp_path)
    assert (tmp_path / "results-compare.jsonl").is_file()
    md = (tmp_path / "report.md").read_text(encoding="utf-8")
    assert "## small vs other" in md and "| small | other | Δ |" in md
    # identical runs: every delta is zero
    assert all(line.endswith("| 0 |") or line.endswith("| – |") for line in md.splitlines()
               if line.startswith("| overall | ") and "latency" not in line)


@pytest.mark.slow
def test_worst_items_explain(small_run):
    for info, why in worst_items(small_run, 10):
        assert info["id"] and why and all(isinstance(w, str) and w for w in why)


# --- the eval command's up-front checks (no engine needed) ---------------------------------------------


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
