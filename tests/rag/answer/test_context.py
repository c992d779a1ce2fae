"""Sources in the question's language (rag/answer/context.py ``in_language``): nothing moves in a
corpus of one version per document; with an English version, an English question gets the English
paragraph first, one entry for both versions, the better score."""

from __future__ import annotations

from pathlib import Path

from rag.answer.context import in_language
from rag.corpus.loader import load_corpus

EN = Path(__file__).resolve().parents[2] / "fixtures" / "languages" / "wg4-2019-l1-add1.en.txt"
ZH_ID = "wg4-2019-l1-add1"


def test_one_version_per_document_keeps_the_ranking(corpus):
    ranked = [(("wg4-report-2017", 8), 0.8), ((ZH_ID, 5), 0.7), (("wg4-report-2020", 6), 0.6)]
    assert in_language(ranked, corpus, "en") == ranked and in_language(ranked, corpus, "zh") == ranked


def test_an_english_question_reads_the_english_version_first(settings):
    corpus = load_corpus(settings, [EN])
    en_id = f"{ZH_ID}-en"
    ranked = [(("wg4-report-2017", 8), 0.8), ((ZH_ID, 5), 0.7), ((en_id, 5), 0.9), ((ZH_ID, 4), 0.6)]
    assert in_language(ranked, corpus, "en") == [((en_id, 5), 0.9), ((en_id, 4), 0.6), (("wg4-report-2017", 8), 0.8)]
    assert in_language(ranked, corpus, "zh") == [(("wg4-report-2017", 8), 0.8), ((ZH_ID, 5), 0.9), ((ZH_ID, 4), 0.6)]
