"""Language detection: the job-number suffix where a text has one, else script and function words."""

from __future__ import annotations

from pathlib import Path

import pytest

from rag.corpus.language import (
    JOB_SUFFIX,
    LANGUAGES,
    detect_language,
    job_number_language,
)

CORPUS = Path(__file__).resolve().parents[3] / "corpus" / "zh"


def test_the_six_languages_and_their_job_letters():
    assert sorted(JOB_SUFFIX.values()) == sorted(LANGUAGES) == ["ar", "en", "es", "fr", "ru", "zh"]


@pytest.mark.parametrize("line, lang", [
    ("V.19-08845 (C)    060919    060919", "zh"), ("V.24-01234 (E)", "en"), ("V.24-01234 (F)", "fr"),
    ("V.24-01234 (S)", "es"), ("V.24-01234 (R)", "ru"), ("V.24-01234 (A)", "ar"),
    ("GE.24-01234(F)", "fr"), ("24-01234 (S)   020524", "es"), ("\u200eV.24-01234 (A)\u200f", "ar"),
])
def test_job_number_suffix(line, lang):
    assert job_number_language(f"CAC/COSP/WG.4/2024/1\n{line}\n*2401234*") == lang


def test_suffix_wins_over_the_words():
    # An English paragraph quoted under a French job number is still the French version.
    assert detect_language("V.24-01234 (F)\n1. The Working Group recommended that States parties act.") == "fr"
    # a job number in running text, not on its own line, is a reference, not the document's own
    assert job_number_language("1. See document V.24-01234 (F) for details.") is None


def test_corpus_documents_are_chinese():
    files = sorted(CORPUS.glob("*.txt"))
    assert len(files) == 5
    assert [detect_language(f.read_text(encoding="utf-8")) for f in files] == ["zh"] * 5


@pytest.mark.parametrize("text, lang", [
    ("工作组关于资产申报提出了什么建议？", "zh"),
    ("What is 第 5 段?", "zh"),
    ("What did the Working Group recommend on asset declarations?", "en"),
    ("Quelles mesures les États parties ont-ils prises en matière de déclarations de patrimoine ?", "fr"),
    ("Qu'a recommandé le Groupe de travail ?", "fr"),
    ("¿Qué medidas adoptaron los Estados partes sobre las declaraciones de bienes?", "es"),
    ("¿Quién verifica las declaraciones?", "es"),
    ("Какие меры приняли государства-участники в отношении деклараций?", "ru"),
    ("ما هي التدابير التي اتخذتها الدول الأطراف بشأن إقرارات الذمة المالية؟", "ar"),
    ("asset declarations", "en"),
])
def test_short_questions(text, lang):
    assert detect_language(text) == lang


def test_no_letters_gives_the_default():
    assert detect_language("12345 …", default="zh") == "zh"
    assert detect_language("") == "en"
