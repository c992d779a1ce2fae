"""The hand-written evaluation set: structure, balance, validation errors, and consistency with the
parsed corpus (gold paragraphs exist, key facts are verbatim in a gold paragraph)."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from types import SimpleNamespace

import pytest

from eval.dataset import LANGS, TYPES, QAItem, check_dataset, load_dataset, strip_ws
from rag.config import ROOT, Settings
from rag.corpus.loader import Corpus
from rag.corpus.manifest import load_manifest
from rag.errors import CorpusError, UncacQAError

DATASET = ROOT / "eval" / "data" / "qa.jsonl"


@pytest.fixture(scope="module")
def items() -> list[QAItem]:
    return load_dataset(DATASET)


# ---------------------------------------------------------------------------------------------- the real set


def test_real_dataset_loads_with_enough_items(items: list[QAItem]) -> None:
    assert len(items) >= 80
    assert len({i.id for i in items}) == len(items)


def test_configured_dataset_path_is_this_file(settings: Settings) -> None:
    assert settings.path(settings.eval.dataset).resolve() == DATASET.resolve()


def test_language_balance_about_two_thirds_chinese(items: list[QAItem]) -> None:
    langs = Counter(i.lang for i in items)
    assert set(langs) == set(LANGS)
    assert 0.55 <= langs["zh"] / len(items) <= 0.75


def test_every_type_present_in_reasonable_numbers(items: list[QAItem]) -> None:
    types = Counter(i.type for i in items)
    assert set(types) == set(TYPES)
    assert types["fact"] >= 25
    assert types["list"] >= 10
    assert types["number"] >= 12
    assert types["multi"] >= 12
    assert types["unanswerable"] >= 12
    # both languages in every kind
    for t in TYPES:
        assert {i.lang for i in items if i.type == t} == set(LANGS), t


def test_multi_items_include_cross_document_questions(items: list[QAItem]) -> None:
    multi = [i for i in items if i.type == "multi"]
    assert all(len(i.gold) >= 2 for i in multi)
    assert sum(1 for i in multi if len({d for d, _ in i.gold}) >= 2) >= 5


def test_item_shapes(items: list[QAItem]) -> None:
    for i in items:
        assert i.id.startswith(f"{i.lang}-{i.type}-"), i.id
        if i.answerable:
            assert i.gold and 1 <= len(i.key_facts) <= 4, i.id
            assert all(2 <= len(f) <= 20 for f in i.key_facts), i.id
        else:
            assert i.gold == () and i.key_facts == (), i.id


def test_gold_documents_are_in_the_manifest(items: list[QAItem], settings: Settings) -> None:
    doc_ids = {m.doc_id for m in load_manifest(settings.path(settings.corpus.manifest))}
    used = {d for i in items for d, _ in i.gold}
    assert used <= doc_ids
    assert used == doc_ids  # every document is asked about


def test_json_round_trip(items: list[QAItem]) -> None:
    for i in items:
        assert QAItem.from_json(json.loads(json.dumps(i.to_json(), ensure_ascii=False))) == i


def test_dataset_consistent_with_parsed_corpus(items: list[QAItem], corpus: Corpus) -> None:
    """Every gold paragraph exists in the real parser's output and holds the item's key facts."""
    assert check_dataset(items, corpus.paragraphs) == []


# ---------------------------------------------------------------------------------------------- validation

GOOD = {
    "id": "zh-fact-999",
    "lang": "zh",
    "type": "fact",
    "question": "问题？",
    "gold": [{"doc_id": "doc-a", "para": 3}],
    "answer": "答案。",
    "key_facts": ["事实"],
}
UNANSWERABLE = {**GOOD, "id": "en-unanswerable-999", "lang": "en", "type": "unanswerable", "gold": [],
                "key_facts": []}


def write_jsonl(tmp_path: Path, rows: list[object]) -> Path:
    p = tmp_path / "qa.jsonl"
    p.write_text("\n".join(r if isinstance(r, str) else json.dumps(r, ensure_ascii=False) for r in rows) + "\n",
                 encoding="utf-8")
    return p


def test_minimal_file_loads(tmp_path: Path) -> None:
    p = write_jsonl(tmp_path, [GOOD, "", UNANSWERABLE])
    got = load_dataset(p)
    assert [i.id for i in got] == ["zh-fact-999", "en-unanswerable-999"]
    assert got[0].gold == (("doc-a", 3),) and got[0].key_facts == ("事实",)
    assert got[0].answerable and not got[1].answerable


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"type": "trivia"}, ["'trivia'", "'type'", "'fact'", "'unanswerable'"]),
        ({"lang": "fr"}, ["'fr'", "'lang'", "'zh'", "'en'"]),
        ({"gold": []}, ["'fact'", "at least one gold paragraph"]),
        ({"gold": [{"doc_id": "doc-a", "para": "3"}]}, ["'3'", "positive integer"]),
        ({"gold": [{"doc_id": "doc-a", "para": True}]}, ["True", "positive integer"]),
        ({"gold": [{"doc_id": "doc-a", "para": 0}]}, ["0", "positive integer"]),
        ({"gold": [{"doc_id": "doc-a", "para": 3}, ["doc-a", 3]]}, ["doc-a, para. 3", "twice"]),
        ({"gold": [{"doc": "doc-a", "para": 3}]}, ["gold entry"]),
        ({"question": ""}, ["'question'", "non-empty"]),
        ({"key_facts": "事实"}, ["'key_facts'", "list"]),
        ({"key_facts": ["事实", ""]}, ["key fact ''"]),
        ({"extra": 1}, ["'extra'", "allowed", "'key_facts'"]),
    ],
)
def test_bad_row_rejected_naming_value_and_line(tmp_path: Path, change: dict, expected: list[str]) -> None:
    p = write_jsonl(tmp_path, [UNANSWERABLE, {**GOOD, **change}])
    with pytest.raises(CorpusError) as ei:
        load_dataset(p)
    msg = str(ei.value)
    assert "qa.jsonl:2" in msg, msg
    for e in expected:
        assert e in msg, msg
    assert isinstance(ei.value, UncacQAError)


def test_missing_field_rejected(tmp_path: Path) -> None:
    row = {k: v for k, v in GOOD.items() if k != "answer"}
    with pytest.raises(CorpusError, match=r"qa\.jsonl:1: item 'zh-fact-999': missing field 'answer'"):
        load_dataset(write_jsonl(tmp_path, [row]))


def test_unanswerable_must_have_empty_gold_and_key_facts(tmp_path: Path) -> None:
    with pytest.raises(CorpusError, match="unanswerable item must have an empty 'gold'"):
        load_dataset(write_jsonl(tmp_path, [{**UNANSWERABLE, "gold": [{"doc_id": "doc-a", "para": 1}]}]))
    with pytest.raises(CorpusError, match="unanswerable item must have empty 'key_facts'"):
        load_dataset(write_jsonl(tmp_path, [{**UNANSWERABLE, "key_facts": ["x"]}]))


def test_duplicate_id_rejected_naming_both_lines(tmp_path: Path) -> None:
    p = write_jsonl(tmp_path, [GOOD, UNANSWERABLE, GOOD])
    with pytest.raises(CorpusError, match=r"qa\.jsonl:3: duplicate id 'zh-fact-999' \(first used on line 1\)"):
        load_dataset(p)


def test_invalid_json_and_non_object_rejected(tmp_path: Path) -> None:
    with pytest.raises(CorpusError, match=r"qa\.jsonl:2: not valid JSON"):
        load_dataset(write_jsonl(tmp_path, [GOOD, '{"id": "x",']))
    with pytest.raises(CorpusError, match=r"qa\.jsonl:1: expected a JSON object, got list"):
        load_dataset(write_jsonl(tmp_path, [[1, 2]]))


def test_missing_or_empty_file(tmp_path: Path) -> None:
    with pytest.raises(CorpusError, match="not found"):
        load_dataset(tmp_path / "nope.jsonl")
    (tmp_path / "empty.jsonl").write_text("\n\n", encoding="utf-8")
    with pytest.raises(CorpusError, match="holds no items"):
        load_dataset(tmp_path / "empty.jsonl")


# ---------------------------------------------------------------------------------------------- check_dataset


def para(doc_id: str, n: int, text: str) -> SimpleNamespace:
    return SimpleNamespace(doc_id=doc_id, para=n, text=text)


PARAS = [
    para("doc-a", 3, "秘书处于 2019 年 9 月介绍了\n第 7/5 号决议的执行情况。"),
    para("doc-a", 4, "另一段。"),
    para("doc-b", 1, "资产申报和利益冲突。"),
]


def item(**kw: object) -> QAItem:
    return QAItem.from_json({**GOOD, **kw})


def test_check_dataset_accepts_whitespace_differences() -> None:
    ok = item(key_facts=["2019年9月", "介绍了第 7/5 号决议"], gold=[{"doc_id": "doc-a", "para": 3}])
    assert strip_ws(" 2019 年\u3000 9 月\n") == "2019年9月"
    assert check_dataset([ok], PARAS) == []


def test_check_dataset_key_fact_may_be_in_any_gold_paragraph() -> None:
    ok = item(gold=[{"doc_id": "doc-a", "para": 4}, {"doc_id": "doc-b", "para": 1}], key_facts=["利益冲突", "另一段"])
    assert check_dataset([ok], PARAS) == []


def test_check_dataset_reports_problems() -> None:
    bad_para = item(id="a", gold=[{"doc_id": "doc-a", "para": 99}])
    bad_doc = item(id="b", gold=[{"doc_id": "doc-zz", "para": 1}])
    bad_fact = item(id="c", key_facts=["资产申报"], gold=[{"doc_id": "doc-a", "para": 3}])
    no_facts = item(id="d", key_facts=[])
    unanswerable = QAItem.from_json(UNANSWERABLE)
    problems = check_dataset([bad_para, bad_doc, bad_fact, no_facts, unanswerable], PARAS)
    assert any(p.startswith("a: gold doc-a, para. 99 is not a paragraph") for p in problems), problems
    assert any(p.startswith("b: gold document 'doc-zz'") and "'doc-a'" in p for p in problems), problems
    assert any(p.startswith("c: key fact '资产申报' occurs in none") for p in problems), problems
    assert any(p.startswith("d: answerable item has no key facts") for p in problems), problems
    assert not any(p.startswith("en-unanswerable-999") for p in problems)
    assert len(problems) == 4
