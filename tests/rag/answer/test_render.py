"""The plain-text answer (``rag.answer.render``)."""

from __future__ import annotations

from rag.answer.render import EN_FRAME, UNSUPPORTED_MARK, answer_text, format_text
from rag.corpus.records import Citation
from rag.result import REFUSAL, AnswerResult, AnswerSentence, Retrieved

CIT = Citation("d", "CAC/X/1", 5, None, "CAC/X/1, para. 5", "CAC/X/1，第 5 段", "甲。", "/source/d#p5")


def test_zh_sentences_carry_un_citations():
    text = answer_text([AnswerSentence("甲。", (0,))], [CIT], False, (), "zh", "extractive")
    assert text == "甲。（CAC/X/1，第 5 段）"


def test_en_extractive_answer_quotes_under_the_frame():
    text = answer_text([AnswerSentence("甲。", (0,)), AnswerSentence("乙。", (), supported=False)], [CIT], False, (),
                       "en", "extractive", "What?")
    assert text.splitlines() == [EN_FRAME, "- “甲。” (CAC/X/1, para. 5)", f"“乙。”{UNSUPPORTED_MARK['en']}"]
    assert answer_text([AnswerSentence("A.", (0,))], [CIT], False, (), "en", "llm") == "A. (CAC/X/1, para. 5)"


def test_a_refusal_lists_the_nearest_labelled_paragraphs():
    near = tuple(Retrieved("d", n, 0.5, f"para. {n}", f"第 {n} 段") for n in range(1, 5)) + (Retrieved("x", 9, 0.4),)
    assert answer_text([], [], True, near, "en", "extractive").splitlines() == [REFUSAL["en"], "- para. 1", "- para. 2", "- para. 3"]
    assert answer_text([], [], True, near[3:], "zh", "extractive", nearest=5).splitlines() == [REFUSAL["zh"], "- 第 4 段"]


def test_format_text_lists_each_cited_source_once():
    r = AnswerResult("q", "甲。（CAC/X/1，第 5 段）", False, citations=(CIT, CIT), lang="zh")
    assert format_text(r) == "甲。（CAC/X/1，第 5 段）\n\n出处：\n- CAC/X/1，第 5 段  /source/d#p5"
