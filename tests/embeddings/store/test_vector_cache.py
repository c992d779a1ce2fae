"""The on-disk vector cache: vectors equal a fresh encoding, a killed run resumes, damage is skipped."""

from __future__ import annotations

import numpy as np
import pytest

from embeddings.store.vector_cache import VectorCache, text_key
from tests.embeddings.fake_encoder import HashEncoder

TEXTS = [f"第{i}段 关于资产申报的建议 paragraph {i} " * (1 + i % 3) for i in range(50)]


def test_vectors_equal_a_fresh_encoding_and_a_second_run_encodes_nothing(tmp_path):
    enc = HashEncoder()
    cache = VectorCache(tmp_path, enc, shard_size=16)
    got = cache.encode(TEXTS, batch_size=8)
    np.testing.assert_allclose(got, HashEncoder().encode_passages(TEXTS), atol=1e-6)
    assert cache.encoded_last == 50 and len(list(cache.directory.glob("shard-*.npz"))) == 4
    again = VectorCache(tmp_path, HashEncoder())
    np.testing.assert_array_equal(again.encode(TEXTS[::-1]), got[::-1])
    assert again.encoded_last == 0 and again.encoder.calls == 0


def test_a_killed_run_resumes_from_its_last_whole_shard(tmp_path):
    with pytest.raises(RuntimeError, match="simulated crash"):
        VectorCache(tmp_path, HashEncoder(fail_after=40), shard_size=16).encode(TEXTS, batch_size=8)
    resumed = VectorCache(tmp_path, HashEncoder(), shard_size=16)
    resumed.encode(TEXTS, batch_size=8)
    assert resumed.encoded_last == 50 - 32  # two whole shards of 16 survived the crash


def test_another_encoder_never_reuses_and_a_damaged_shard_is_encoded_again(tmp_path, caplog):
    VectorCache(tmp_path, HashEncoder(), shard_size=16).encode(TEXTS)
    other = VectorCache(tmp_path, HashEncoder(salt="v2"))
    other.encode(TEXTS[:5])
    assert other.encoded_last == 5
    shard = sorted(VectorCache(tmp_path, HashEncoder()).directory.glob("shard-*.npz"))[0]
    shard.write_bytes(b"not a zip")
    cache = VectorCache(tmp_path, HashEncoder())
    cache.encode(TEXTS)
    assert 0 < cache.encoded_last <= 16 and "unreadable" in caplog.text


def test_keys_are_the_record_text_hash():
    from embeddings.records import text_hash

    record = type("R", (), {"embed_text": "passage text"})()
    assert text_key("passage text") == text_hash(record)  # the manifest's hashes address the cache


def test_lookups_read_shards_on_demand_within_the_memory_budget(tmp_path):
    VectorCache(tmp_path, HashEncoder(), shard_size=8).encode(TEXTS)
    small = VectorCache(tmp_path, HashEncoder(), max_bytes=8 * 64 * 4)  # room for one shard's vectors
    want = [text_key(t) for t in TEXTS]
    got = small.lookup(want)
    np.testing.assert_allclose(np.stack([got[k] for k in want]), HashEncoder().encode_passages(TEXTS), atol=1e-6)
    assert len(small._loaded) == 1 and small._loaded_bytes <= small.max_bytes
    assert want[0] in small and "nope" not in small


def test_rebuild_re_encodes_everything_and_the_new_vectors_replace_the_old(tmp_path):
    VectorCache(tmp_path, HashEncoder(), shard_size=16).encode(TEXTS)
    again = VectorCache(tmp_path, HashEncoder(), shard_size=16)
    again.encode(TEXTS[:20], reuse=False)
    assert again.encoded_last == 20 and again.encoder.calls == 20
    later = VectorCache(tmp_path, HashEncoder())
    later.encode(TEXTS)
    assert later.encoded_last == 0
