"""The BM25 token cache: what it returns equals tokenize() (the oracle), a second pass segments nothing,
a new tokenizer version never reuses old tokens, a damaged file is rebuilt; a rebuild of an unchanged
index segments nothing and serves the same BM25 results."""

from __future__ import annotations

import pytest

import embeddings.sparse.token_cache as tc
from embeddings.sparse.bm25 import tokenize
from embeddings.sparse.token_cache import TokenCache

TEXTS = ["各缔约国应当考虑采取适当措施，保护举报人。", "The Working Group recommended asset declarations.",
         "工作组讨论了资产申报制度。", "各缔约国应当考虑采取适当措施，保护举报人。"]


def test_tokens_equal_tokenize_and_a_second_pass_reads_them(tmp_path, monkeypatch):
    path = tmp_path / "index.tokens.sqlite"
    first = TokenCache(path)
    assert first.tokenize(TEXTS) == tokenize(TEXTS) and first.hits == 0
    calls = []
    monkeypatch.setattr(tc, "tokenize", lambda texts: calls.append(list(texts)) or tokenize(texts))
    again = TokenCache(path)
    assert again.tokenize(TEXTS + ["新的案文"]) == tokenize(TEXTS + ["新的案文"])
    assert again.hits == 4 and calls == [["新的案文"]]
    monkeypatch.setattr(tc, "TOKENIZER_VERSION", "another-tokenizer")
    other = TokenCache(path)
    other.tokenize(TEXTS)
    assert other.hits == 0


def test_a_damaged_file_is_rebuilt_with_one_warning(tmp_path, caplog):
    path = tmp_path / "index.tokens.sqlite"
    path.write_bytes(b"this is not a database" * 100)
    cache = TokenCache(path)
    assert cache.tokenize(TEXTS) == tokenize(TEXTS)
    assert "unreadable" in caplog.text
    assert TokenCache(path).tokenize(TEXTS) == tokenize(TEXTS)


def test_rebuilding_an_unchanged_index_segments_nothing(tmp_path, small, settings, monkeypatch):
    from tests.embeddings.fake_encoder import HashEncoder
    from tests.embeddings.store.support import build, load, results

    directory = tmp_path / "index"
    build(small, HashEncoder(), settings, directory=directory)
    before = results(load(directory, HashEncoder(), settings), HashEncoder())
    segmented = []
    monkeypatch.setattr(tc, "tokenize", lambda texts: segmented.extend(texts) or tokenize(texts))
    build(small, HashEncoder(), settings, directory=directory, reuse=False)
    assert segmented == []
    assert results(load(directory, HashEncoder(), settings), HashEncoder()) == before


@pytest.fixture(scope="module")
def small(corpus):
    from rag.corpus.chunker import Chunker

    return Chunker().chunk(corpus.paragraphs, {d.doc_id: d.meta for d in corpus.documents})[:60]
