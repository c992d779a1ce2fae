"""User documents: symbol detection, rejection of files with no paragraph, no silent replacement."""

from __future__ import annotations

import pytest

from rag.corpus.loader import load_corpus, load_user_document
from rag.corpus.symbols import detect_symbol, find_symbols
from rag.errors import CorpusError, QueryError

MD_DOC = """# Draft report

联 合 国   CAC/COSP/WG.4/2024/L.1

**1.** 工作组讨论了资产申报制度。¹

¹ 见 CAC/COSP/WG.4/2023/2。

2. 工作组建议：
- (a) 加强利益冲突管理；
- (b) 保护举报人。
"""


def test_markdown_user_document_symbol_detected(tmp_path):
    f = tmp_path / "draft.md"
    f.write_text(MD_DOC, encoding="utf-8")
    d = load_user_document(f)
    assert d.meta.symbol == "CAC/COSP/WG.4/2024/L.1" and d.doc_id == "cac-cosp-wg-4-2024-l-1"
    assert [p.para for p in d.paragraphs] == [1, 2]
    assert d.paragraphs[0].label_en == "CAC/COSP/WG.4/2024/L.1, para. 1"
    assert d.paragraphs[0].footnotes[0].text == "见 CAC/COSP/WG.4/2023/2。"
    assert [s.label for s in d.paragraphs[1].subs] == ["a", "b"]
    assert d.meta.official_url == "https://undocs.org/zh/CAC/COSP/WG.4/2024/L.1"


def test_plain_text_without_symbol_uses_file_name(tmp_path):
    f = tmp_path / "Delegation Notes.txt"
    f.write_text("1. The Working Group discussed asset declarations.\n2. It recommended training.\n", encoding="utf-8")
    d = load_user_document(f)
    assert d.meta.symbol is None and d.doc_id == "delegation-notes"
    assert d.paragraphs[1].label_en == "Delegation Notes, para. 2"


def test_rejections_name_the_file(tmp_path):
    f = tmp_path / "memo.txt"
    f.write_text("No numbered paragraphs here.\nJust prose.\n", encoding="utf-8")
    with pytest.raises(CorpusError, match="memo.txt.*has no numbered paragraph"):
        load_user_document(f)
    pdf = tmp_path / "scan.pdf"
    pdf.write_bytes(b"%PDF-1.4")
    with pytest.raises(CorpusError, match=r"scan.pdf' is not a readable PDF .*accepted: .*\.pdf"):
        load_user_document(pdf)
    csv = tmp_path / "table.csv"
    csv.write_text("1. a,b\n", encoding="utf-8")
    with pytest.raises(CorpusError, match=r"suffix '.csv' is not one of"):
        load_user_document(csv)
    bad = tmp_path / "latin1.txt"
    bad.write_bytes("1. caf\xe9".encode("latin-1"))
    with pytest.raises(CorpusError, match="is not UTF-8"):
        load_user_document(bad)


def test_user_document_cannot_replace_a_corpus_document(tmp_path, settings):
    f = tmp_path / "wg4-report-2017.txt"
    f.write_text("1. 冒充的段落。\n", encoding="utf-8")
    with pytest.raises(CorpusError, match="already in the corpus"):
        load_corpus(settings, extra=[f])


def test_extra_folder_is_loaded_after_manifest(tmp_path, settings):
    (tmp_path / "a.md").write_text(MD_DOC, encoding="utf-8")
    c = load_corpus(settings, extra=[tmp_path])
    assert c.doc_ids[-1] == "cac-cosp-wg-4-2024-l-1" and len(c.doc_ids) == 6


def test_symbol_detection_skips_header_footnotes():
    assert detect_symbol(["* CAC/COSP/2011/1。", "第四届会议"]) is None
    assert detect_symbol([" 联 合 国   CAC/COSP/WG.4/2019/L.1/Add.1 "]) == "CAC/COSP/WG.4/2019/L.1/Add.1"
    assert find_symbols("A/RES/58/4, E/CN.15/2019/1 and www.unodc.org/x/1") == ["A/RES/58/4", "E/CN.15/2019/1"]


def test_unknown_doc_id_names_valid_ones(corpus):
    with pytest.raises(QueryError, match=r"unknown document 'nope'; allowed: 'cosp4-prevention-background-2011'"):
        corpus.document("nope")
