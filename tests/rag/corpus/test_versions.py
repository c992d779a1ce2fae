"""Language versions of one symbol are one document (rag/corpus/loader.py): an added English version of
``wg4-2019-l1-add1`` (the project's own test translation, tests/fixtures/languages) becomes its ``en``
version, aligned by paragraph number; ``Corpus.in_language`` maps a paragraph to its other version."""

from __future__ import annotations

import logging
from dataclasses import replace
from pathlib import Path

from rag.corpus.loader import Corpus, load_corpus, with_meta
from rag.corpus.parser import parse_document

EN = Path(__file__).resolve().parents[2] / "fixtures" / "languages" / "wg4-2019-l1-add1.en.txt"
ZH_ID = "wg4-2019-l1-add1"


def test_an_english_version_is_a_version_of_the_chinese_document(settings):
    corpus = load_corpus(settings, [EN])
    en = corpus.document(f"{ZH_ID}-en")
    zh = corpus.document(ZH_ID)
    assert en.meta.language == "en" and en.meta.symbol == zh.meta.symbol
    assert [p.para for p in en.paragraphs] == [p.para for p in zh.paragraphs]  # aligned: 20 and 20
    assert corpus.versions(ZH_ID) == corpus.versions(en.doc_id) == {"zh": ZH_ID, "en": en.doc_id}
    # the same citation: symbol and number, in every version
    assert en.paragraphs[4].label_en == zh.paragraphs[4].label_en == "CAC/COSP/WG.4/2019/L.1/Add.1, para. 5"
    assert corpus.in_language((ZH_ID, 5), "en") == (en.doc_id, 5)
    assert corpus.in_language((en.doc_id, 5), "zh") == (ZH_ID, 5)
    assert corpus.in_language(("wg4-report-2017", 8), "en") == ("wg4-report-2017", 8)  # no English version
    assert len({p.id for p in corpus}) == len(corpus)  # ids re-derived: no paragraph shares another's id
    # metadata the translation does not state comes from the version it belongs to
    assert en.meta.date == zh.meta.date and en.meta.body == zh.meta.body


def test_versions_that_do_not_align_are_named_in_a_warning(settings, tmp_path, caplog):
    text = EN.read_text(encoding="utf-8")
    cut = text[: text.index("\n20.")]  # the English version without its last paragraph
    short = tmp_path / "short.en.txt"
    short.write_text(cut, encoding="utf-8")
    with caplog.at_level(logging.WARNING, logger="rag.corpus.loader"):
        corpus = load_corpus(settings, [short])
    assert corpus.versions(ZH_ID)["en"] == f"{ZH_ID}-en"
    assert any("does not align" in r.message and "[20]" in r.message for r in caplog.records), caplog.text
    assert corpus.in_language((ZH_ID, 20), "en") == (ZH_ID, 20)  # the English one lacks it: stays Chinese


def test_with_meta_rekeys_paragraphs(corpus):
    doc = corpus.document(ZH_ID)
    moved = with_meta(doc, replace(doc.meta, doc_id="x"))
    assert {p.doc_id for p in moved.paragraphs} == {"x"} and moved.paragraphs[0].id.startswith("x:1:")


def test_a_corpus_without_versions_maps_nothing(corpus):
    assert all(corpus.versions(d) == {corpus.meta(d).language: d} for d in corpus.doc_ids)
    assert corpus.in_language((ZH_ID, 5), "en") == (ZH_ID, 5)
    single = Corpus([parse_document("1. 甲。\n2. 乙。", replace(corpus.meta(ZH_ID), doc_id="solo", symbol=None))])
    assert single.versions("solo") == {"zh": "solo"}
