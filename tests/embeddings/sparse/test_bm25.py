"""BM25 over jieba tokens: tokenisation, scores against a hand-written Lucene BM25 oracle, finding
paragraphs by a distinctive Chinese or English word, persistence."""

from __future__ import annotations

import json
import math
from collections import Counter

import pytest

from embeddings.errors import IndexStateError
from embeddings.sparse.bm25 import BM25Index, s_stem, tokenize
from rag.corpus.chunker import Chunker

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


def test_tokenize_segments_chinese_and_lowercases_latin():
    zh, en, mixed = tokenize(["保护举报人的措施", "The Working Groups, on Prevention!", "ＣＡＣ/COSP 第５４段（ｊ）"])
    assert "举报人" in zh and "保护" in zh and "措施" in zh
    assert "的" not in zh  # stopword
    assert en == ["working", "group", "prevention"]  # stopwords, punctuation dropped; plural stripped
    assert mixed[:2] == ["cac", "cosp"] and "54" in mixed  # full-width folded by NFKC
    assert all(t.strip() and any(ch.isalnum() for ch in t) for t in zh + en + mixed)


def test_tokenize_takes_a_batch():
    assert tokenize([]) == []
    with pytest.raises(TypeError, match=r"wrap it as \[text\]"):
        tokenize("举报人")


def test_s_stemmer():
    assert [s_stem(w) for w in ("declarations", "policies", "measures", "process", "wg.4")] == [
        "declaration", "policy", "measure", "process", "wg.4"]


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
