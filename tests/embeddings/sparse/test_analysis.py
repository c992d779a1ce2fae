"""Per-language analysis for BM25: the language guess and each language's stems."""

from __future__ import annotations

import threading

import pytest

from embeddings.sparse.analysis import (
    LANGUAGES,
    guess_language,
    normalize,
    stemmer,
    strip_bidi,
    words,
)


@pytest.mark.parametrize("lang, text, expected", [
    ("en", "The declarations of assets", ["declar", "asset"]),
    ("fr", "Les déclarations de patrimoine des agents publics", ["déclar", "patrimoin", "agent", "public"]),
    ("es", "Las declaraciones de bienes de los funcionarios públicos", ["declar", "bien", "funcionari", "public"]),
    ("ru", "Декларации об имуществе публичных должностных лиц", ["декларац", "имуществ", "публичн", "должностн", "лиц"]),
    ("ar", "إقرارات الذمة المالية للموظفين العموميين", ["اقرار", "الذم", "مال", "موظف", "عموم"]),
])
def test_stems_per_language(lang, text, expected):
    assert words(text, lang) == expected


def test_every_form_of_a_word_meets_in_one_stem():
    assert {words(w, "en")[0] for w in ("declaration", "declarations", "declared")} == {"declar"}
    assert {words(w, "fr")[0] for w in ("déclaration", "déclarations")} == {"déclar"}
    assert {words(w, "es")[0] for w in ("declaración", "declaraciones")} == {"declar"}
    assert {words(w, "ru")[0] for w in ("декларации", "деклараций", "декларациях", "декларация")} == {"декларац"}
    # Arabic: with and without the article, the conjunction, the plural "ات" and short vowels
    assert {words(w, "ar")[0] for w in ("الإقرارات", "والإقرارات", "إقرارات", "الإقرار", "بالإقرارات", "الإقرارَات")} == {"اقرار"}


def test_function_words_dropped_digits_and_symbol_parts_kept():
    assert words("l’application de l'article 8 du WG.4", "fr") == ["appliqu", "articl", "8", "wg.4"]
    assert words("في عام ٢٠٢٤ وفقاً للمادة 8", "ar") == ["عام", "2024", "وفق", "ماد", "8"]
    assert words("", "en") == []


def test_normalisation_per_language():
    assert normalize("Ёлка", "ru") == "елка"
    assert normalize("شجَّع\u200f", "ar") == "شجع"
    assert strip_bidi("\u200fباء- التحقق\u200e") == "باء- التحقق"


@pytest.mark.parametrize("text, lang", [
    ("资产申报制度", "zh"), ("What is 第 5 段?", "zh"),
    ("Several States parties stressed that declarations were effective only where they were verified.", "en"),
    ("Plusieurs États parties ont souligné que les déclarations n’étaient efficaces que si elles étaient vérifiées.", "fr"),
    ("Varios Estados partes subrayaron que las declaraciones solo eran eficaces si se verificaban.", "es"),
    ("Ряд государств-участников подчеркнули, что декларации эффективны.", "ru"),
    ("شدَّدت عدة دول أطراف على أن الإقرارات لا تكون فعَّالة إلا إذا جرى التحقُّق منها.", "ar"),
    ("UNODC", "en"), ("12345", "en"),
])
def test_guess_language(text, lang):
    assert guess_language(text) == lang
    assert lang in LANGUAGES


def test_unknown_stemmer_language_is_named():
    with pytest.raises(ValueError, match=r"no stemmer for language 'zh', must be one of \['ar', 'en', 'es', 'fr', 'ru'\]"):
        stemmer("zh")


def test_each_thread_has_its_own_stemmer():
    mine = stemmer("en")
    other: list = []
    t = threading.Thread(target=lambda: other.append(stemmer("en")))
    t.start()
    t.join()
    assert stemmer("en") is mine and other[0] is not mine
