"""The parse + split cache (rag/corpus/parse_cache.py) against its oracle, the uncached parse: the real
five documents (and an added English version) load, warm, to exactly the corpus and chunks they parse
to without it; what changes a parse or a split misses; a damaged file costs a warning, not a result."""

from __future__ import annotations

import json
import logging
import shutil
import sqlite3
import time
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path

import pytest

from rag.config import load_settings
from rag.corpus import parse_cache, parser
from rag.corpus.chunker import Chunker, chunk_corpus
from rag.corpus.loader import load_corpus
from rag.corpus.parse_cache import ParseCache, decoder, encode, source_files
from rag.corpus.parser import ParsedDocument

ROOT = Path(__file__).resolve().parents[3]
EN = ROOT / "tests" / "fixtures" / "languages" / "wg4-2019-l1-add1.en.txt"


def _settings(cache: Path | None, **more):
    return load_settings(overrides={"corpus.parse_cache": str(cache) if cache else None, **more})


@pytest.fixture(scope="module")
def oracle():
    """The corpus and chunks as parsed with no cache; the chunks also from one whole-corpus Chunker call."""
    s = _settings(None)
    corpus = load_corpus(s)
    whole = Chunker(s.chunking.max_tokens, s.chunking.encoding, s.chunking.prefix).chunk(
        corpus.paragraphs, {d.doc_id: d.meta for d in corpus.documents})
    return corpus, chunk_corpus(corpus, s), whole


@pytest.fixture
def counted(monkeypatch):
    """Counts the calls of parse_document and Chunker.split (the work the cache saves)."""
    calls = {"parse": 0, "split": 0}
    parse, split = parser.parse_document, Chunker.split

    def counting_parse(text, meta):
        calls["parse"] += 1
        return parse(text, meta)

    def counting_split(self, text):
        calls["split"] += 1
        return split(self, text)

    monkeypatch.setattr(parser, "parse_document", counting_parse)
    monkeypatch.setattr(Chunker, "split", counting_split)
    return calls


def _same(got, want) -> None:
    """Equal, and equal in repr too: tuples stay tuples, dates stay dates, ids are the derived ones."""
    assert got == want
    assert repr(got) == repr(want)


def test_chunking_by_document_is_the_whole_corpus_call(oracle):
    _, by_document, whole = oracle
    _same(by_document, whole)


def test_a_warm_load_is_the_uncached_parse_and_calls_no_parser(tmp_path, oracle, counted):
    corpus, chunks, _ = oracle
    s = _settings(tmp_path / "parsed.sqlite")
    cold = load_corpus(s)
    cold_chunks = chunk_corpus(cold, s)
    assert counted["parse"] == len(corpus.documents) and counted["split"] == len(corpus)
    _same(cold.documents, corpus.documents)
    _same(cold_chunks, chunks)
    counted.update(parse=0, split=0)
    warm = load_corpus(s)
    warm_chunks = chunk_corpus(warm, s)
    assert counted == {"parse": 0, "split": 0}
    _same(warm.documents, corpus.documents)
    _same(warm_chunks, chunks)
    assert [c.id for c in warm_chunks] == [c.id for c in chunks]
    assert any(p.subs for p in warm.paragraphs) and any(p.footnotes for p in warm.paragraphs)  # nested records too
    assert any(c.n_parts > 1 for c in warm_chunks)  # paragraphs split in parts too


def test_a_language_version_is_rekeyed_after_the_cached_parse(tmp_path, counted):
    want = load_corpus(_settings(None), [EN])
    s = _settings(tmp_path / "parsed.sqlite")
    load_corpus(s, [EN])
    counted.update(parse=0)
    got = load_corpus(s, [EN])
    assert counted["parse"] == 0
    _same(got.documents, want.documents)
    _same(chunk_corpus(got, s), chunk_corpus(want, _settings(None)))
    assert got.document("wg4-2019-l1-add1-en").paragraphs[0].id.startswith("wg4-2019-l1-add1-en:1:")


def test_an_edited_document_or_its_metadata_is_parsed_again(tmp_path, counted):
    site = tmp_path / "corpus"
    shutil.copytree(ROOT / "corpus", site)
    manifest = site / "manifest.yaml"
    overrides = {"corpus.manifest": str(manifest)}
    s = _settings(tmp_path / "parsed.sqlite", **overrides)
    load_corpus(s)
    first = next((site / "zh").glob("000_*.txt"))
    first.write_text(first.read_text(encoding="utf-8").replace("预防", "防止", 1), encoding="utf-8")
    counted.update(parse=0)
    got = load_corpus(s)
    assert counted["parse"] == 1  # only the edited one
    _same(got.documents, load_corpus(_settings(None, **overrides)).documents)

    manifest.write_text(manifest.read_text(encoding="utf-8").replace("body: WG.4", "body: WG.9", 1), encoding="utf-8")
    counted.update(parse=0)
    got = load_corpus(s)
    assert counted["parse"] == 1  # the document whose metadata changed
    _same(got.documents, load_corpus(_settings(None, **overrides)).documents)


@pytest.mark.parametrize("change, resplit", [({"chunking.max_tokens": 120}, True), ({"chunking.prefix": False}, False)])
def test_changed_chunking_settings_miss_the_splits_they_change(tmp_path, counted, change, resplit):
    s = _settings(tmp_path / "parsed.sqlite")
    chunk_corpus(load_corpus(s), s)
    other = _settings(tmp_path / "parsed.sqlite", **change)
    corpus = load_corpus(other)
    counted.update(split=0)
    got = chunk_corpus(corpus, other)
    assert (counted["split"] == len(corpus)) is resplit  # the prefix is added after the split
    _same(got, chunk_corpus(load_corpus(_settings(None, **change)), _settings(None, **change)))


def test_other_parser_code_misses(tmp_path, counted, monkeypatch):
    s = _settings(tmp_path / "parsed.sqlite")
    load_corpus(s)
    monkeypatch.setattr(parse_cache, "parse_version", lambda: "edited-parser")
    counted.update(parse=0)
    load_corpus(s)
    assert counted["parse"] == 5


def test_the_code_version_covers_what_the_parser_and_chunker_import():
    parsing = {p.relative_to(ROOT).as_posix() for p in source_files("rag.corpus.parser")}
    assert {"rag/corpus/parser.py", "rag/corpus/records.py", "rag/corpus/language.py", "rag/text.py",
            "embeddings/sparse/analysis.py"} <= parsing
    chunking = {p.relative_to(ROOT).as_posix() for p in source_files("rag.corpus.chunker")}
    assert {"rag/corpus/chunker.py", "rag/text.py", "rag/corpus/records.py"} <= chunking
    assert "rag/corpus/parser.py" not in chunking and "rag/config.py" not in chunking  # no needless misses


def test_a_garbage_file_gives_one_warning_and_the_right_corpus(tmp_path, oracle, caplog, counted):
    corpus, chunks, _ = oracle
    path = tmp_path / "parsed.sqlite"
    path.write_bytes(b"this is not a database" * 100)
    s = _settings(path)
    with caplog.at_level(logging.WARNING, logger="rag.corpus.parse_cache"):
        got = load_corpus(s)
    _same(got.documents, corpus.documents)
    assert len(caplog.records) == 1 and "damaged" in caplog.text and str(path) in caplog.text
    _same(chunk_corpus(got, s), chunks)
    counted.update(parse=0)
    load_corpus(s)
    assert counted["parse"] == 0  # started again, and filled


def test_damaged_entries_are_parsed_again_and_rewritten(tmp_path, oracle, caplog, counted):
    corpus, chunks, _ = oracle
    path = tmp_path / "parsed.sqlite"
    s = _settings(path)
    chunk_corpus(load_corpus(s), s)
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE entries SET value = CAST('[\"truncated' AS BLOB)")
    counted.update(parse=0, split=0)
    with caplog.at_level(logging.WARNING, logger="rag.corpus.parse_cache"):
        got = load_corpus(s)
        got_chunks = chunk_corpus(got, s)
    assert counted["parse"] == 5 and counted["split"] == len(corpus)
    _same(got.documents, corpus.documents)
    _same(got_chunks, chunks)
    assert len(caplog.records) == 2 and "unreadable" in caplog.text  # one per load (corpus, chunks)
    counted.update(parse=0, split=0)
    chunk_corpus(load_corpus(s), s)
    assert counted == {"parse": 0, "split": 0}


def test_a_cache_that_cannot_be_opened_is_not_an_error(tmp_path, oracle, caplog):
    corpus, _, _ = oracle
    (tmp_path / "a-file").write_text("x")
    s = _settings(tmp_path / "a-file" / "parsed.sqlite")
    with caplog.at_level(logging.WARNING, logger="rag.corpus.parse_cache"):
        _same(load_corpus(s).documents, corpus.documents)
    assert len(caplog.records) == 1 and "cannot be opened" in caplog.text


def test_old_entries_and_other_codes_entries_are_pruned(tmp_path):
    path = tmp_path / "parsed.sqlite"
    s = _settings(path)
    load_corpus(s)
    now = int(time.time())
    long_ago, two_days_ago = now - (parse_cache.PRUNE_DAYS + 1) * 86_400, now - 2 * 86_400
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE entries SET used = ?", (two_days_ago,))
        conn.executemany("INSERT INTO entries VALUES ('doc', ?, ?, x'5b5d', ?)",
                         [("unused", parse_cache.parse_version(), long_ago), ("other-code", "old", two_days_ago),
                          ("other-code-in-use", "old", now)])
    load_corpus(s, [EN])  # one miss (the English version), so this load writes and prunes
    with sqlite3.connect(path) as conn:
        rows = dict(conn.execute("SELECT key, used FROM entries").fetchall())
    assert "unused" not in rows and "other-code" not in rows and "other-code-in-use" in rows
    assert len(rows) == 5 + 1 + 1  # the corpus, the English version, the other code's entry in use
    assert all(used >= now for used in rows.values())  # the corpus' entries were touched by the load


def test_records_round_trip_through_json_exactly(oracle):
    corpus, _, _ = oracle
    for doc in corpus.documents:
        back = decoder(ParsedDocument)(json.loads(json.dumps(encode(doc), ensure_ascii=False)))
        _same(back, doc)


def test_the_decoder_rejects_wrong_values_and_unknown_field_types(oracle):
    doc = oracle[0].documents[0]
    data = encode(doc)
    data[1][0][1] = "5"  # a paragraph number as text
    with pytest.raises(ValueError):
        decoder(ParsedDocument)(data)
    with pytest.raises(ValueError):
        decoder(ParsedDocument)(encode(doc)[:-1])

    @dataclass(frozen=True)
    class Scored:
        score: float

    with pytest.raises(TypeError, match="cannot store"):
        decoder(Scored)


def test_two_loads_sharing_the_file_both_write_and_agree(tmp_path, oracle):
    corpus, _, _ = oracle
    path = tmp_path / "parsed.sqlite"
    texts = [(ROOT / "corpus" / d.meta.file).read_text(encoding="utf-8-sig") for d in corpus.documents]
    first, second = ParseCache(path), ParseCache(path)
    a = [first.parse(t, d.meta) for t, d in zip(texts, corpus.documents)]  # both miss, both hold writes
    b = [second.parse(t, d.meta) for t, d in zip(texts, corpus.documents)]
    second.close()
    first.close()  # writes the same entries again: one transaction, no error
    with ParseCache(path) as third:
        c = [third.parse(t, d.meta) for t, d in zip(texts, corpus.documents)]
    assert third.hits == 5
    _same(a, list(corpus.documents))
    _same(b, a)
    _same(c, a)


def test_a_document_json_cannot_carry_exactly_is_parsed_every_time(tmp_path, oracle, counted):
    doc = oracle[0].documents[0]
    meta = replace(doc.meta, date=datetime(2011, 9, 7, 12, 0))  # a datetime where a date belongs
    text = (ROOT / "corpus" / doc.meta.file).read_text(encoding="utf-8-sig")
    for _ in range(2):
        with ParseCache(tmp_path / "parsed.sqlite") as cache:
            got = cache.parse(text, meta)
        assert got.meta.date == meta.date and got.paragraphs == doc.paragraphs
    assert counted["parse"] == 2 and cache.hits == 0
