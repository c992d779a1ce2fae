"""An English question over the Chinese and English versions of ``wg4-2019-l1-add1`` quotes the English
paragraph, cited with the same symbol and number as the Chinese one (the real model and index).

The project's index is copied to a temporary folder and the English version (the project's own test
translation) added to the copy incrementally, so only its 20 paragraphs are encoded and data/index is
never touched.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from rag.cli import main
from rag.config import load_settings
from rag.engine import Engine

pytestmark = pytest.mark.slow

EN = Path(__file__).resolve().parents[1] / "fixtures" / "languages" / "wg4-2019-l1-add1.en.txt"
SYMBOL = "CAC/COSP/WG.4/2019/L.1/Add.1"


@pytest.fixture(scope="module")
def bilingual(engine, settings, tmp_path_factory):
    """The real engine over the corpus plus the English version of wg4-2019-l1-add1."""
    src = settings.path(settings.index.dir)
    dst = tmp_path_factory.mktemp("bilingual") / "index"
    shutil.copytree(src, dst)
    units = src.with_name(src.name + ".units")
    if units.exists():
        (shutil.copytree if units.is_dir() else shutil.copy2)(units, dst.with_name(dst.name + ".units"))
    assert main(["--set", f"index.dir={dst}", "ingest", "--add", str(EN)]) == 0
    return Engine(load_settings(overrides={"index.dir": str(dst)})).load()


def test_an_english_question_quotes_the_english_paragraph_with_the_same_citation(bilingual):
    r = bilingual.ask("What has UNODC done to protect whistleblowers?")
    assert not r.refused and r.citations
    first = r.citations[0]
    assert first.doc_id == "wg4-2019-l1-add1-en" and first.label_en == f"{SYMBOL}, para. {first.para}"
    english = bilingual.corpus.paragraph(first.doc_id, first.para).text
    assert first.quote in english and not re.search(r"[\u4e00-\u9fff]", r.answer)  # English text, no frame
    assert "original Chinese" not in r.answer
    zh = bilingual.corpus.paragraph("wg4-2019-l1-add1", first.para)
    assert zh is not None and zh.label_en == first.label_en  # the Chinese version: same symbol, same number


def test_a_chinese_question_still_quotes_the_chinese_version(bilingual):
    r = bilingual.ask("在保护举报人方面，毒品和犯罪问题办公室做了什么？")
    assert not r.refused
    assert all(not c.doc_id.endswith("-en") for c in r.citations)
    assert any(c.doc_id == "wg4-2019-l1-add1" for c in r.citations)


def test_english_facts_are_found_in_the_english_version(bilingual):
    # a count and an organisation named in English ("UNODC"): not refused for want of the Chinese name
    r = bilingual.ask("How many States parties did UNODC assist in developing anti-corruption policies?")
    assert not r.refused and "10 States parties" in r.answer
    assert r.citations[0].doc_id == "wg4-2019-l1-add1-en" and r.citations[0].para == 4
