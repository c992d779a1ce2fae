"""Citation labels: the interface's English and Chinese ones, and the document's own language's."""

from __future__ import annotations

import pytest

from rag.corpus.records import DocumentMeta, Paragraph, citation_label, format_label

SYMBOL = "CAC/COSP/WG.4/2024/TEST/1"


def meta(lang: str, symbol: str | None = SYMBOL) -> DocumentMeta:
    return DocumentMeta("d", "d.txt", symbol, "Short ref", "简称", language=lang)


@pytest.mark.parametrize("lang, para, sub", [
    ("en", f"{SYMBOL}, para. 5", f"{SYMBOL}, para. 5 (a)"),
    ("es", f"{SYMBOL}, párr. 5", f"{SYMBOL}, párr. 5 a)"),
    ("fr", f"{SYMBOL}, paragraphe 5", f"{SYMBOL}, paragraphe 5 a)"),
    ("ru", f"{SYMBOL}, пункт 5", f"{SYMBOL}, пункт 5 a)"),
    ("ar", f"{SYMBOL}، الفقرة 5", f"{SYMBOL}، الفقرة 5 (أ)"),
    ("zh", f"{SYMBOL}，第 5 段", f"{SYMBOL}，第 5 段 (a)"),
])
def test_label_in_each_language(lang, para, sub):
    m = meta(lang)
    assert citation_label(m, 5) == para
    assert citation_label(m, 5, "أ" if lang == "ar" else "a") == sub


def test_english_and_chinese_labels_are_format_labels():
    m = meta("en")
    assert (citation_label(m, 54, "j", "en"), citation_label(m, 54, "j", "zh")) == format_label(m, 54, "j")
    fr = meta("fr")  # cited as French documents cite, whatever the interface; Chinese keeps its own
    assert format_label(fr, 54, "j") == (citation_label(fr, 54, "j"), citation_label(fr, 54, "j", "zh"))


def test_without_symbol_the_short_reference_is_cited():
    assert citation_label(meta("zh", None), 3) == "简称，第 3 段"
    assert citation_label(meta("fr", None), 3) == "Short ref, paragraphe 3"


def test_unknown_language_is_named():
    with pytest.raises(ValueError, match=r"language 'de' is not supported, must be one of \['ar', 'en', 'es', 'fr', 'ru', 'zh'\]"):
        citation_label(meta("en"), 1, lang="de")


def test_paragraph_json_schema_is_unchanged_by_the_native_label():
    p = Paragraph("d", 1, "text", label_en="e", label_zh="z", label_native="n")
    assert p.label_native == "n" and "label_native" not in p.to_json()
    assert Paragraph("d", 1, "text").id == p.id  # the id depends on the text alone
