"""UnitIndex against oracles: the encoder's own vectors of each paragraph's units, the pre-v3 IDF
definition (a scan of every unit), brute-force cosine over all paragraphs; plus what the file layout
promises (mapped, reused, migrated, rebuilt only when the corpus or the splitter changes)."""

from __future__ import annotations

import logging
import math

import numpy as np
import pytest

from rag.answer import unit_index as ui
from rag.answer.unit_index import PRECISIONS, UnitIndex
from rag.answer.units import paragraph_units
from rag.corpus.loader import Corpus
from rag.corpus.parser import parse_document
from rag.corpus.records import DocumentMeta, content_hash
from tests.embeddings.fake_encoder import HashEncoder

DOCS = {
    "alpha": """一. 导言

1. 工作组建议各缔约国加强资产申报制度，并确保申报信息得到核查。申报应当公开。

2. 毒品和犯罪问题办公室为十个国家的检察机关举办了关于利益冲突管理的培训。

3. 秘书处收集了举报人保护方面的良好做法，包括：(a) 立法；(b) 保密渠道；(c) 防止报复。
""",
    "beta": """一. 背景

1. 缔约国会议请各国加强国际合作，追回被盗资产。

2. 资产追回需要各国之间的司法协助。工作组讨论了资产申报。

3. 举报人保护仍然是各国面临的挑战。
""",
    "gamma": """一. 结论

1. 工作组欢迎关于资产申报的专家会议。

2. 透明度和问责制是预防腐败的核心。
""",
}


def corpus_of(docs: dict[str, str]) -> Corpus:
    return Corpus([parse_document(text, DocumentMeta(d, f"{d}.txt", f"CAC/COSP/WG.4/2099/{i}", d, d))
                   for i, (d, text) in enumerate(docs.items(), 1)])


@pytest.fixture
def corpus() -> Corpus:
    return corpus_of(DOCS)


def oracle_vectors(corpus: Corpus, encoder) -> dict[tuple[str, int], np.ndarray]:
    return {p.key: encoder.encode_passages([u.text for u in paragraph_units(p)]) for p in corpus.paragraphs}


@pytest.mark.parametrize("precision", PRECISIONS)
def test_vectors_are_the_encoders_within_the_stored_precision_and_reload_maps_them(corpus, tmp_path, precision):
    enc = HashEncoder()
    units = UnitIndex(corpus, enc, tmp_path / "index.units", precision=precision, map_min_bytes=0).load()
    n_texts = len({u.text for p in corpus.paragraphs for u in paragraph_units(p)} | {p.text for p in corpus.paragraphs})
    assert units.encoded == enc.calls == n_texts
    want = oracle_vectors(corpus, HashEncoder())
    for p in corpus.paragraphs:
        got, exact = units.unit_vectors(p.key), want[p.key]
        assert [u.text for u in units.units(p.key)] == [u.text for u in paragraph_units(p)]
        assert got.dtype == np.float32 and got.shape == exact.shape
        if precision == "float32":
            assert np.array_equal(got, exact)
        elif precision == "float16":
            assert np.array_equal(got, exact.astype(np.float16).astype(np.float32))
        else:  # int8: per-row scale max|x| / 127, so every value within half a step
            step = np.abs(exact).max(axis=1, keepdims=True) / 127
            assert np.all(np.abs(got - exact) <= step / 2 + 1e-7)
    assert units.n_units == len(units.vectors) == sum(len(paragraph_units(p)) for p in corpus.paragraphs)

    stat = units.cache_file.stat()
    again = UnitIndex(corpus, enc, tmp_path / "index.units", precision=precision, map_min_bytes=0).load()
    assert again.encoded == 0 and enc.calls == n_texts  # nothing encoded, file not rewritten
    assert (units.cache_file.stat().st_ino, units.cache_file.stat().st_mtime_ns) == (stat.st_ino, stat.st_mtime_ns)
    assert isinstance(again.vectors, np.memmap) and np.array_equal(again.vectors, units.vectors)
    small = UnitIndex(corpus, enc, tmp_path / "index.units", precision=precision).load()  # under 64 MiB: read
    assert not isinstance(small.vectors, np.memmap) and np.array_equal(small.vectors, units.vectors)


def test_an_edited_paragraph_encodes_only_its_new_texts_and_the_vector_cache_is_shared(corpus, tmp_path):
    enc = HashEncoder()
    UnitIndex(corpus, enc, tmp_path / "index.units").load()
    assert (tmp_path / "index.vectors").is_dir()  # the shared cache beside it
    edited = corpus_of({**DOCS, "gamma": DOCS["gamma"].replace("核心。", "核心。各国应当公布报告。")})
    before = enc.calls
    units = UnitIndex(edited, enc, tmp_path / "index.units").load()
    assert units.encoded == enc.calls - before == 2  # the new sentence and the paragraph's new text
    rows, scales = ui._quantize(HashEncoder().encode_passages(
        [u.text for u in paragraph_units(edited.paragraph("gamma", 2))]), units.precision)
    assert np.array_equal(units.unit_vectors(("gamma", 2)), rows * scales[:, None])
    units.cache_file.unlink()  # the file lost: every vector is still in the vector cache
    assert UnitIndex(edited, enc, tmp_path / "index.units").load().encoded == 0 and enc.calls - before == 2


def test_rebuild_encodes_everything_again(corpus, tmp_path):
    enc = HashEncoder()
    first = UnitIndex(corpus, enc, tmp_path / "index.units").load()
    calls = enc.calls
    again = UnitIndex(corpus, enc, tmp_path / "index.units").load(reuse=False)
    assert again.encoded == calls and enc.calls == 2 * calls and np.array_equal(again.vectors, first.vectors)


def test_a_changed_unit_splitter_rebuilds_the_row_map_without_encoding(corpus, tmp_path, monkeypatch):
    enc = HashEncoder()
    first = UnitIndex(corpus, enc, tmp_path / "index.units").load()
    inode = first.cache_file.stat().st_ino
    monkeypatch.setattr(ui, "_splitter_version", lambda: "another-splitter")
    again = UnitIndex(corpus, enc, tmp_path / "index.units").load()
    assert again.encoded == 0 and again.cache_file.stat().st_ino != inode  # rewritten from its own rows
    assert np.array_equal(again.vectors, first.vectors)


def test_a_cache_before_v3_is_migrated_without_encoding(corpus, tmp_path, caplog):
    """The file earlier versions wrote: keys = sha1 text hash (16), float32 rows, the fingerprint."""
    enc = HashEncoder()
    texts = [u.text for p in corpus.paragraphs for u in paragraph_units(p)] + [p.text for p in corpus.paragraphs]
    entries = dict(zip((content_hash(t, length=16) for t in texts), HashEncoder().encode_passages(texts)))
    legacy = UnitIndex(corpus, enc, tmp_path / "index.units").cache_file
    legacy.parent.mkdir()
    np.savez(legacy, keys=np.array(list(entries), dtype="U16"), vectors=np.stack(list(entries.values())),
             fingerprint=np.array(enc.fingerprint))
    with caplog.at_level(logging.WARNING):
        units = UnitIndex(corpus, enc, tmp_path / "index.units").load()
    assert units.encoded == enc.calls == 0 and caplog.text == ""
    with np.load(legacy) as z:
        assert int(z["format"]) == ui.FORMAT and z["vectors"].dtype == np.int8
    rows, _ = ui._quantize(np.stack([entries[content_hash(t, length=16)] for t in texts[: units.n_units]]), "int8")
    assert np.array_equal(units.vectors, rows)
    assert np.array_equal(units.paragraph_vectors, np.stack([entries[content_hash(t, length=16)] for t in texts[units.n_units :]]))


def test_idf_equals_a_scan_of_every_unit_and_samples_beyond_idf_sample(corpus, tmp_path):
    units = UnitIndex(corpus, HashEncoder(), tmp_path / "index.units").load()
    texts = [u.text for p in corpus.paragraphs for u in paragraph_units(p)]
    terms = ["资产", "资产申报", "举报人", "工作组", "不存在的词", "。"]

    def scan(term, over, n):  # the pre-v3 definition: every unit's text checked
        df = sum(term in t for t in over) * n / len(over)
        return max(0.0, math.log(n / (1 + df)))

    assert [units.idf(t) for t in terms] == [scan(t, texts, len(texts)) for t in terms]
    sampled = UnitIndex(corpus, HashEncoder(), tmp_path / "index.units", idf_sample=5).load()
    step = math.ceil(len(texts) / 5)
    sample = [u.text for p in corpus.paragraphs[::step] for u in paragraph_units(p)]
    assert step > 1 and 0 < len(sample) < len(texts)
    assert [sampled.idf(t) for t in terms] == pytest.approx([scan(t, sample, len(texts)) for t in terms])


@pytest.mark.parametrize("precision", PRECISIONS)
def test_search_text_equals_brute_force_over_every_paragraph_and_each_scope(corpus, tmp_path, precision):
    enc = HashEncoder()
    units = UnitIndex(corpus, enc, tmp_path / "index.units", precision=precision, search_block=3, map_min_bytes=0).load()
    matrix = units.paragraph_vectors  # float32 whatever the units' precision: the encoder's own
    assert np.array_equal(matrix, HashEncoder().encode_passages([p.text for p in corpus.paragraphs]))
    qvecs = enc.encode_queries(["资产申报制度", "举报人保护", "国际合作", "培训"])
    scopes = [None, frozenset({"beta"}), frozenset({"alpha", "gamma"}), frozenset({"nowhere"})]
    for k in (1, 3, 100):
        got = units.search_text(qvecs, k, docs=scopes)
        for q, scope, hits in zip(qvecs, scopes, got):
            sims = matrix @ q
            want = [(units.paragraph_keys[j], float(sims[j])) for j in np.argsort(-sims, kind="stable")
                    if scope is None or units.paragraph_keys[j][0] in scope][:k]
            assert [key for key, _ in hits] == [key for key, _ in want]
            assert [s for _, s in hits] == pytest.approx([s for _, s in want], abs=1e-6)
    assert isinstance(matrix, np.memmap)
    assert units.search_text(qvecs[:1], 2) == units.search_text(qvecs[:1], 2, docs=[None])
    with pytest.raises(ValueError, match="1 document filters for 4 queries"):
        units.search_text(qvecs, 2, docs=[None])


def test_search_text_breaks_ties_by_corpus_order(tmp_path):
    twins = corpus_of({"a": "一. 甲\n\n1. 同一句话。\n\n2. 同一句话。\n\n3. 另一句。\n", "b": "一. 乙\n\n1. 同一句话。\n"})
    enc = HashEncoder()
    units = UnitIndex(twins, enc, tmp_path / "index.units", search_block=1).load()
    hits = units.search_text(enc.encode_queries(["同一句话。"]), 3)[0]
    assert [key for key, _ in hits] == [("a", 1), ("a", 2), ("b", 1)] and hits[0][1] == hits[2][1]


def test_units_are_split_on_demand_and_kept_in_a_bounded_cache(corpus, tmp_path):
    units = UnitIndex(corpus, HashEncoder(), tmp_path / "index.units", unit_cache=2).load()
    for p in corpus.paragraphs:
        assert units.units(p.key) == paragraph_units(p) and len(units._units) <= 2
    assert units.units(("nowhere", 1)) == [] and units.unit_vectors(("nowhere", 1)).shape == (0, 64)


def test_bad_settings_name_the_value_and_the_allowed_ones(corpus, tmp_path):
    with pytest.raises(ValueError, match=r"precision 'bf16' is not supported, must be one of \('float32', 'float16', 'int8'\)"):
        UnitIndex(corpus, HashEncoder(), tmp_path, precision="bf16")
    with pytest.raises(ValueError, match="search_block must be at least 1, got 0"):
        UnitIndex(corpus, HashEncoder(), tmp_path, search_block=0)


def test_a_load_killed_while_encoding_resumes_from_the_vector_cache_shards(tmp_path):
    """More texts than one shard (1,024): the shards written before the crash are not encoded again."""
    from embeddings.store.vector_cache import SHARD_SIZE

    body = "\n\n".join(f"{i}. 第{i}段讨论资产申报。各国报告了第{i}项措施。" for i in range(1, 601))
    big = corpus_of({"big": f"一. 长文件\n\n{body}\n"})
    n_texts = len({u.text for p in big.paragraphs for u in paragraph_units(p)} | {p.text for p in big.paragraphs})
    assert n_texts > SHARD_SIZE + 100
    crashing = HashEncoder(fail_after=SHARD_SIZE + 100)
    with pytest.raises(RuntimeError, match="simulated crash"):
        UnitIndex(big, crashing, tmp_path / "index.units", batch_size=50).load()
    assert not (tmp_path / "index.units" / "units-hash-bigrams-64-.npz").exists()
    enc = HashEncoder()
    units = UnitIndex(big, enc, tmp_path / "index.units").load()
    assert units.encoded == enc.calls == n_texts - SHARD_SIZE  # only what the first shard did not hold
    for key in (("big", 1), ("big", 600)):  # encoded before the crash, and after it
        rows, scales = ui._quantize(HashEncoder().encode_passages([u.text for u in units.units(key)]), "int8")
        assert np.array_equal(units.unit_vectors(key), rows * scales[:, None])
