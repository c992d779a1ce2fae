"""BM25 per language: tokenisation (jieba for Chinese, Snowball stems for the other five UN languages),
scores against a hand-written Lucene BM25 oracle, finding paragraphs by a distinctive word in each
language, persistence."""

from __future__ import annotations

import json
import math
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from embeddings.errors import IndexStateError
from embeddings.sparse.bm25 import TOKENIZER_VERSION, BM25Index, tokenize
from rag.corpus.chunker import Chunker
from rag.corpus.language import detect_language
from rag.corpus.parser import parse_document
from rag.corpus.records import DocumentMeta

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "languages"

DOCS = [
    "各缔约国应当考虑采取适当措施，保护举报人免遭任何不公正待遇。",
    "工作组讨论了公职人员资产申报制度及其核查。",
    "The Working Group recommended that States parties strengthen asset declarations.",
    "会议建议加强反腐败机构的独立性和资源。",
    "。。。——",  # no token at all
]


@pytest.fixture(scope="module")
def bm25() -> BM25Index:
    return BM25Index.build(DOCS)


def test_tokenize_segments_chinese_and_stems_english():
    zh, en, mixed = tokenize(["保护举报人的措施", "The Working Groups, on Prevention!", "ＣＡＣ/COSP 第５４段（ｊ）"])
    assert "举报人" in zh and "保护" in zh and "措施" in zh
    assert "的" not in zh  # stopword
    assert en == ["work", "group", "prevent"]  # stopwords, punctuation dropped; Snowball stems
    assert mixed[:2] == ["cac", "cosp"] and "54" in mixed  # full-width folded by NFKC
    assert all(t.strip() and any(ch.isalnum() for ch in t) for t in zh + en + mixed)


def test_latin_words_in_chinese_text_stem_as_english():
    # jieba segments the Chinese; the Latin words in it are English (names, acronyms, titles) and get
    # the English stems, so "Olympic Movement" in a Chinese paragraph meets an English question's words.
    zh, en = tokenize(["秘书处介绍了 UNODC 的 declarations 和 Olympic Movement。", "the Olympic Movement and UNODC declarations"])
    assert zh == ["秘书", "秘书处", "介绍", "unodc", "declar", "olymp", "movement"]
    assert set(en) == {"olymp", "movement", "unodc", "declar"}


@pytest.mark.parametrize("text, lang, expected", [
    ("Asset declarations of public officials", "en", ["asset", "declar", "public", "offici"]),
    ("Les déclarations de patrimoine", "fr", ["déclar", "patrimoin"]),
    ("Las declaraciones de bienes", "es", ["declar", "bien"]),
    ("Декларации об имуществе", "ru", ["декларац", "имуществ"]),
    ("الإقرارات المالية", "ar", ["اقرار", "مال"]),
    ("La déclaration du 工作组", "fr", ["déclar", "工作", "工作组"]),  # a Han run is still segmented by jieba
])
def test_tokenize_in_each_language(text, lang, expected):
    assert tokenize([text], [lang]) == [expected]
    assert tokenize([text]) == [expected]  # the same when the language is guessed from the text


def test_languages_must_match_the_texts():
    with pytest.raises(ValueError, match=r"one entry per text \(2\)"):
        tokenize(["a", "b"], ["en"])
    with pytest.raises(ValueError, match=r"language 'de' is not supported, must be one of \['ar', 'en', 'es', 'fr', 'ru', 'zh'\]"):
        tokenize(["Die Erklärung"], ["de"])
    assert TOKENIZER_VERSION != "jieba-search-nfkc-sstem-1"  # indexes built before the five languages rebuild


def test_tokenize_takes_a_batch():
    assert tokenize([]) == []
    with pytest.raises(TypeError, match=r"wrap it as \[text\]"):
        tokenize("举报人")


def lucene_bm25(docs: list[list[str]], query: list[str], k1: float = 1.5, b: float = 0.75) -> list[float]:
    """Lucene's BM25 (8.0+, as bm25s 'lucene') written out: sum over query terms of
    idf · tf / (tf + k1·(1 - b + b·dl/avgdl)); Lucene dropped the constant (k1+1) factor."""
    n = len(docs)
    avgdl = sum(map(len, docs)) / n
    df = Counter(t for d in docs for t in set(d))
    out = []
    for d in docs:
        tf = Counter(d)
        s = 0.0
        for t in query:
            if tf[t]:
                idf = math.log(1 + (n - df[t] + 0.5) / (df[t] + 0.5))
                s += idf * tf[t] / (tf[t] + k1 * (1 - b + b * len(d) / avgdl))
        out.append(s)
    return out


def test_scores_match_the_lucene_formula():
    docs = ["举报人 保护 措施 举报人", "资产 申报 制度", "保护 资产 安全", "举报人 资产"]
    index = BM25Index.build(docs)
    toks = tokenize(docs)
    for q in ("举报人", "保护 资产", "申报 举报人 制度"):
        expected = lucene_bm25(toks, tokenize([q])[0])
        got = dict(index.search([q], k=10)[0])
        for i, e in enumerate(expected):
            assert got.get(i, 0.0) == pytest.approx(e, rel=1e-5)


def test_finds_paragraph_by_distinctive_word(bm25):
    zh, en, both = bm25.search(["如何保护举报人？", "asset declaration", "资产申报 asset declarations"], k=3)
    assert zh[0][0] == 0
    assert en[0][0] == 2
    assert {i for i, _ in both[:2]} == {1, 2}
    assert all(s > 0 for _, s in zh + en + both)
    assert [s for _, s in both] == sorted((s for _, s in both), reverse=True)


def test_unknown_words_give_empty_results_not_errors(bm25):
    assert bm25.search(["量子计算 blockchain", "", "的 the 。"], k=5) == [[], [], []]


def test_k_larger_than_corpus_and_validation(bm25):
    hits = bm25.search(["工作组 措施 机构 asset"], k=100)[0]
    assert len(hits) <= len(DOCS) and len({i for i, _ in hits}) == len(hits)
    with pytest.raises(ValueError, match="k must be a positive integer"):
        bm25.search(["举报人"], k=0)
    with pytest.raises(TypeError, match="wrap it as"):
        bm25.search("举报人", k=1)


def test_save_load_round_trip(bm25, tmp_path):
    bm25.save(tmp_path / "bm25")
    loaded = BM25Index.load(tmp_path / "bm25")
    queries = ["保护举报人", "asset declarations", "反腐败机构独立性", "unknown"]
    assert len(loaded) == len(bm25) == len(DOCS)
    assert loaded.search(queries, k=3) == bm25.search(queries, k=3)


def test_load_errors_name_the_problem(bm25, tmp_path):
    with pytest.raises(IndexStateError, match="missing or unreadable"):
        BM25Index.load(tmp_path / "nothing")
    bm25.save(tmp_path / "old")
    meta = tmp_path / "old" / "tokenizer.json"
    meta.write_text(json.dumps({**json.loads(meta.read_text()), "tokenizer": "whitespace-0"}))
    with pytest.raises(IndexStateError, match="tokenised with 'whitespace-0'"):
        BM25Index.load(tmp_path / "old")


def test_empty_corpus_is_searchable(tmp_path):
    empty = BM25Index.build([])
    assert empty.search(["举报人"], k=3) == [[]]
    empty.save(tmp_path / "e")
    assert BM25Index.load(tmp_path / "e").search(["举报人"], k=3) == [[]]


def test_real_corpus_whistleblower_paragraph(corpus):
    metas = {d.doc_id: d.meta for d in corpus.documents}
    chunks = Chunker().chunk(corpus.paragraphs, metas)
    index = BM25Index.build([c.embed_text for c in chunks])
    hits = index.search(["举报人"], k=10)[0]
    # jieba's search mode also indexes the sub-word 举报 (report), so "举报系统" matches too, lower.
    assert "举报人" in chunks[hits[0][0]].embed_text
    assert all("举报" in chunks[i].embed_text for i, _ in hits)
    assert hits == index.search(["举报人"], k=10)[0]


@pytest.fixture(scope="module")
def five_languages():
    """The paragraphs of the five test documents (the same note in ar/en/es/fr/ru) in one index, each
    tokenised in its document's language."""
    rows, texts, langs = [], [], []
    for lang in ("ar", "en", "es", "fr", "ru"):
        text = (FIXTURES / f"{lang}.txt").read_text(encoding="utf-8")
        meta = DocumentMeta(lang, f"{lang}.txt", "CAC/COSP/WG.4/2024/TEST/1", "t", "t", language=detect_language(text))
        for p in parse_document(text, meta).paragraphs:
            rows.append((lang, p.para))
            texts.append(p.text)
            langs.append(meta.language)
    return rows, BM25Index.build(texts, languages=langs), BM25Index.build(texts)


@pytest.mark.parametrize("lang, question, para", [
    ("en", "What sanctions apply to false information in declarations?", 6),
    ("en", "Who verifies the declared assets?", 5),
    ("fr", "Quelles sanctions pour la communication de fausses informations ?", 6),
    ("fr", "Qui compare les déclarations aux registres fiscaux ?", 5),
    ("es", "¿Qué sanciones se imponen por presentar información falsa?", 6),
    ("es", "¿Quién coteja las declaraciones con los registros tributarios?", 5),
    ("ru", "Какие санкции за представление ложных сведений?", 6),
    ("ru", "Кто проверяет декларации?", 5),
    ("ar", "ما الجزاءات على تقديم معلومات كاذبة؟", 6),
    ("ar", "من يقارن الإقرارات بالسجلات الضريبية؟", 5),
])
def test_question_finds_its_paragraph_in_its_language(five_languages, lang, question, para):
    rows, by_document_language, guessed = five_languages
    hits = by_document_language.search([question], k=3)[0]
    assert rows[hits[0][0]] == (lang, para)
    if lang in ("ar", "ru"):  # another script: no stem in common with the Latin-script versions
        assert all(rows[i][0] == lang for i, _ in hits)
    assert guessed.search([question], k=3)[0] == hits  # guessing each paragraph's language agrees


def test_masks_filter_inside_the_search_like_filtering_all_matches(bm25):
    """A mask gives the best k among the allowed documents: the same as ranking every match and keeping
    the allowed ones (the oracle), never fewer because the top-k was taken first."""
    n = len(bm25)
    queries = ["资产申报", "whistleblower protection", "举报人保护"]
    everything = bm25.search(queries, n)
    for allowed in ({0}, {1, 3}, set(range(n)) - {0}):
        mask = np.zeros(n, dtype=bool)
        mask[sorted(allowed)] = True
        got = bm25.search(queries, 1, masks=[mask] * len(queries))
        for hits, full in zip(got, everything):
            assert hits == [h for h in full if h[0] in allowed][:1]
    with pytest.raises(ValueError, match="boolean array of"):
        bm25.search(["x"], 1, masks=[np.ones(n + 1, dtype=bool)])
