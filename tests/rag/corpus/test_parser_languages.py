"""The parser on UN documents in the other five languages (tests/fixtures/languages/, written for these
tests): paragraph numbers, sub-items, headings, footnotes, page furniture, labels, Arabic text order,
and the English rendering of a corpus document against its Chinese original."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from rag.corpus.language import detect_language, strip_bidi
from rag.corpus.parser import ParsedDocument, parse_document
from rag.corpus.records import DocumentMeta

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "languages"
SYMBOL = "CAC/COSP/WG.4/2024/TEST/1"
LANGS = ("ar", "en", "es", "fr", "ru")


def parse(lang_file: str, symbol: str = SYMBOL) -> ParsedDocument:
    text = (FIXTURES / lang_file).read_text(encoding="utf-8")
    meta = DocumentMeta(f"test-{lang_file}", lang_file, symbol, symbol, symbol, language=detect_language(text))
    return parse_document(text, meta)


@pytest.fixture(scope="module")
def docs() -> dict[str, ParsedDocument]:
    return {lang: parse(f"{lang}.txt") for lang in LANGS}


# What every language version says, in its own words: the headings of each paragraph, the sub-items of
# 4 and 7, the footnote on 1 (PDF text: "Convention.1" / "Convención1." and a "1 …" line; Word text:
# "¹"; Arabic "(1)").
SECTIONS = {
    "en": ["I. Introduction", "II. Asset and interest declarations", "A. Legal frameworks",
           "B. Verification and sanctions", "III. Conclusions and recommendations"],
    "es": ["I. Introducción", "II. Declaraciones de bienes e intereses", "A. Marcos jurídicos",
           "B. Verificación y sanciones", "III. Conclusiones y recomendaciones"],
    "fr": ["I. Introduction", "II. Déclarations de patrimoine et d’intérêts", "A. Cadres juridiques",
           "B. Vérification et sanctions", "III. Conclusions et recommandations"],
    "ru": ["I. Введение", "II. Декларации об имуществе и интересах", "A. Правовая основа",
           "В. Проверка и санкции", "III. Выводы и рекомендации"],
    "ar": ["أولاً- مقدِّمة", "ثانياً- إقرارات الذمة المالية والمصالح", "ألف- الأطر القانونية",
           "باء- التحقُّق والجزاءات", "ثالثاً- الاستنتاجات والتوصيات"],
}
FOOTNOTE_START = {"en": "See also the thematic report", "es": "Véase también el informe temático",
                  "fr": "Voir également le rapport thématique", "ru": "См. также тематический доклад",
                  "ar": "انظر أيضاً التقرير المواضيعي"}
LABEL_5 = {"en": f"{SYMBOL}, para. 5", "es": f"{SYMBOL}, párr. 5", "fr": f"{SYMBOL}, paragraphe 5",
           "ru": f"{SYMBOL}, пункт 5", "ar": f"{SYMBOL}، الفقرة 5"}


@pytest.mark.parametrize("lang", LANGS)
def test_language_detected_from_the_job_number(lang):
    assert detect_language((FIXTURES / f"{lang}.txt").read_text(encoding="utf-8")) == lang


@pytest.mark.parametrize("lang", LANGS)
def test_paragraph_sequence_and_sections(docs, lang):
    d = docs[lang]
    assert [p.para for p in d.paragraphs] == list(range(1, 8))
    intro, part2, a, b, part3 = SECTIONS[lang]
    sections = [tuple(strip_bidi(s) for s in p.section) for p in d.paragraphs]
    assert sections == [(intro,), (intro,), (part2, a), (part2, a), (part2, b), (part2, b), (part3,)]


@pytest.mark.parametrize("lang", LANGS)
def test_sub_items(docs, lang):
    d = docs[lang]
    labels = ["أ", "ب", "ج"] if lang == "ar" else ["a", "b", "c"]
    for n in (4, 7):
        p = d.paragraphs[n - 1]
        assert [s.label for s in p.subs] == labels, (lang, n)
        assert all(s.text and s.text in p.text for s in p.subs)
        assert p.text.count("\n") == 3  # lead-in, then one line per item
    assert all(not p.subs for p in d.paragraphs if p.para not in (4, 7))


def test_sub_item_markers_are_kept_as_each_language_writes_them(docs):
    assert "\n(a) Declarations were required from all public officials" in docs["en"].paragraphs[3].text
    assert "\na) Des déclarations sont exigées" in docs["fr"].paragraphs[3].text
    assert "\nb) Se exigían declaraciones únicamente" in docs["es"].paragraphs[3].text
    assert "\n(أ) تُشترط الإقرارات" in docs["ar"].paragraphs[3].text
    # Russian items typed with Cyrillic "а"/"с" are items a and c, shown as typed
    ru = docs["ru"].paragraphs[3]
    assert "\nа) декларации обязаны" in ru.text and "\nс) декларации представляются" in ru.text
    assert ru.sub("c").text.startswith("декларации представляются при вступлении в должность")


@pytest.mark.parametrize("lang", LANGS)
def test_footnote_attached_and_header_note_kept_apart(docs, lang):
    d = docs[lang]
    p1 = d.paragraphs[0]
    assert [f.mark for f in p1.footnotes] == ["1"]
    assert p1.footnotes[0].text.startswith(FOOTNOTE_START[lang])
    assert all(not p.footnotes for p in d.paragraphs[1:])
    assert [(f.mark, strip_bidi(f.text)) for f in d.footnotes] == [("*", "CAC/COSP/WG.4/2024/1.")]
    for p in d.paragraphs:  # footnote text never leaks into a paragraph
        assert FOOTNOTE_START[lang] not in p.text


@pytest.mark.parametrize("lang", LANGS)
def test_no_page_furniture_in_paragraphs(docs, lang):
    for p in docs[lang].paragraphs:
        for pat in (r"V\.\d{2}-\d{5}", r"\*\d{7}\*", r"^\s*\d{1,3}(/\d{1,3})?\s*$", r"Distr\.", SYMBOL + r"$"):
            assert not re.search(pat, p.text, re.MULTILINE), (lang, p.para, pat)


@pytest.mark.parametrize("lang", ("en", "es"))
def test_pdf_text_joined_across_lines_and_the_page_break(docs, lang):
    d = docs[lang]
    p3 = d.paragraphs[2].text
    # paragraph 3 was cut by the footnotes, job number, barcode, running head and page number
    assert "\n" not in p3 and "  " not in p3
    assert {"en": "adopted legislation requiring public officials", "es": "aprobado legislación que obligaba"}[lang] in p3
    # a year the wrap put first on a line is not a paragraph or a heading
    assert d.paragraphs[1].text.endswith({"en": "dated 15 January 2024.", "es": "de fecha 15 de enero de 2024."}[lang])
    assert d.paragraphs[0].text.endswith({"en": "of the Convention.1", "es": "de la Convención1."}[lang])  # the mark stays


@pytest.mark.parametrize("lang", LANGS)
def test_labels_in_the_documents_language(docs, lang):
    p = docs[lang].paragraphs[4]
    assert p.label_native == LABEL_5[lang]
    # an ar/es/fr/ru document is cited in its own language in the English interface too; Chinese keeps 第 5 段
    assert p.label_en == (f"{SYMBOL}, para. 5" if lang == "en" else LABEL_5[lang]) and p.label_zh == f"{SYMBOL}，第 5 段"


def test_arabic_text_keeps_its_logical_order_and_bidi_marks():
    text = (FIXTURES / "ar.txt").read_text(encoding="utf-8")
    d = parse("ar.txt")
    p1 = d.paragraphs[0].text
    # reading order: the sentence starts with its verb and ends with the footnote mark, as in the file
    assert p1.startswith("شجَّع مؤتمر الدول الأطراف") and p1.endswith("من الاتفاقية(1).")
    assert p1 in text
    # lines "5- …" and "باء- …" start with a right-to-left mark (U+200F): still paragraph 5 and a letter heading
    p5 = d.paragraphs[4]
    assert p5.text.startswith("شدَّدت عدة دول أطراف") and p5.section[-1] == "\u200fباء- التحقُّق والجزاءات"
    assert "\u200eCAC/COSP/WG.4/2019/3\u200f" in d.paragraphs[0].footnotes[0].text  # marks kept in the text


def test_arabic_indic_numerals_and_abjad_items():
    text = "أولاً- مقدمة\n١- أوصى الفريق العامل بما يلي:\n(أ) تعزيز الإقرارات؛\n(ب) نشرها؛\n(ج) التحقق منها؛\n(د) حمايتها؛\n(هـ) تحديثها.\n٢- واختتم الفريق أعماله.\n"
    d = parse_document(text, DocumentMeta("ar", "ar.txt", None, "تقرير", "تقرير", language="ar"))
    assert [p.para for p in d.paragraphs] == [1, 2]
    assert [s.label for s in d.paragraphs[0].subs] == ["أ", "ب", "ج", "د", "هـ"]
    assert d.paragraphs[1].label_native == "تقرير، الفقرة 2"


def test_arabic_footnote_in_arabic_indic_digits():
    text = "١- اعتمد الفريق العامل التقرير(١).\n٢- واختتم الفريق أعماله.\n(١) انظر الوثيقة \u200eCAC/COSP/2019/1\u200f.\n"
    d = parse_document(text, DocumentMeta("ar", "ar.txt", None, "تقرير", "تقرير", language="ar"))
    assert [(f.mark, strip_bidi(f.text)) for f in d.paragraphs[0].footnotes] == [("1", "انظر الوثيقة CAC/COSP/2019/1.")]
    assert not d.paragraphs[1].footnotes and d.paragraphs[1].text == "واختتم الفريق أعماله."


def test_russian_items_in_cyrillic_alphabetical_order_are_a_b_c():
    text = "1. Рабочая группа рекомендовала:\nа) первое;\nб) второе;\nв) третье.\n2. Далее.\n"
    d = parse_document(text, DocumentMeta("ru", "ru.txt", None, "Доклад", "Доклад", language="ru"))
    assert [s.label for s in d.paragraphs[0].subs] == ["a", "b", "c"]
    assert d.paragraphs[0].text.split("\n")[1:] == ["а) первое;", "б) второе;", "в) третье."]


def test_letter_heading_i_after_h_is_not_roman_one():
    text = "I. Introduction\n1. One.\nH. Eighth topic\n2. Two.\nI. Ninth topic\n3. Three.\nII. Next part\n4. Four.\n"
    d = parse_document(text, DocumentMeta("en", "en.txt", None, "Report", "Report", language="en"))
    assert [p.section for p in d.paragraphs] == [
        ("I. Introduction",), ("I. Introduction", "H. Eighth topic"), ("I. Introduction", "I. Ninth topic"),
        ("II. Next part",)]


def test_plain_digit_line_is_a_footnote_only_in_sequence_and_when_cited():
    text = ("1. The Group met in Vienna.1 It adopted the report of\n"
            "15 States parties and the secretariat.\n"
            "1 See CAC/COSP/2019/1.\n"
            "2. It closed the meeting.\n")
    d = parse_document(text, DocumentMeta("en", "en.txt", None, "Report", "Report", language="en"))
    p1 = d.paragraphs[0]
    assert p1.text == "The Group met in Vienna.1 It adopted the report of 15 States parties and the secretariat."
    assert [(f.mark, f.text) for f in p1.footnotes] == [("1", "See CAC/COSP/2019/1.")]
    # "WG.4" and "L.1/Add.1" are not footnote marks, so a later "4 …"/"1 …" line stays text
    uncited = parse_document("1. The WG.4 report, see L.1/Add.1 and\n4 other documents.\n",
                             DocumentMeta("en", "en.txt", None, "R", "R", language="en"))
    assert uncited.paragraphs[0].text == "The WG.4 report, see L.1/Add.1 and 4 other documents." and not uncited.paragraphs[0].footnotes


def test_word_layout_latin_text_is_not_taken_for_wrapped_pdf_text():
    # Each paragraph is one line ending with "."; an unnumbered closing sentence is its own block.
    text = "1. The Group met.\n2. It adopted the agenda.\nThe agenda is annexed.\n3. It closed.\n"
    d = parse_document(text, DocumentMeta("en", "en.txt", None, "R", "R", language="en"))
    assert d.paragraphs[1].text == "It adopted the agenda.\nThe agenda is annexed."


def test_english_rendering_matches_the_chinese_original(corpus):
    """tests/fixtures/languages/wg4-2019-l1-add1.en.txt is the project's own test translation of
    corpus/zh/003_…: same paragraph numbers, same headings, same (absent) sub-items and footnotes."""
    zh = corpus.document("wg4-2019-l1-add1")
    en = parse("wg4-2019-l1-add1.en.txt", symbol="CAC/COSP/WG.4/2019/L.1/Add.1")
    assert en.meta.language == "en"
    assert [p.para for p in en.paragraphs] == [p.para for p in zh.paragraphs] == list(range(1, 21))
    assert [len(p.section) for p in en.paragraphs] == [len(p.section) for p in zh.paragraphs]
    assert [len(p.subs) for p in en.paragraphs] == [len(p.subs) for p in zh.paragraphs]
    assert [len(p.footnotes) for p in en.paragraphs] == [len(p.footnotes) for p in zh.paragraphs]
    first = en.paragraphs[0].section
    assert first[0].startswith("III. Implementation of Conference resolutions 7/5") and first[0].endswith("held in September 2018")
    assert first[1] == "Oral update on the implementation of Conference resolutions 7/5 and 7/6"
    assert en.paragraphs[15].section[-1] == "B. Other recommendations"
    assert en.paragraphs[4].text.startswith("With regard to the protection of whistle-blowers")
    assert "Three regional meetings or workshops" in en.paragraphs[4].text  # joined across the page break
    assert en.paragraphs[13].text.endswith("the technical assistance work of UNODC.")
    assert en.paragraphs[4].label_native == "CAC/COSP/WG.4/2019/L.1/Add.1, para. 5"
    assert en.front_matter[0].startswith("[Test translation made by the uncac-qa project")
