"""The embeddings layer's settings: closed, described, and the same objects rag.config nests."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from embeddings.settings import EmbeddingsSettings, IndexSettings


def test_every_field_is_described_and_unknown_keys_fail():
    for model in (EmbeddingsSettings, IndexSettings):
        assert all(f.description for f in model.model_fields.values()), model
        with pytest.raises(ValidationError, match="extra"):
            model(nonsense=1)


def test_bm25_parameters_are_fields_with_the_lucene_defaults():
    s = IndexSettings()
    assert (s.bm25_k1, s.bm25_b) == (1.5, 0.75)
    with pytest.raises(ValidationError):
        IndexSettings(bm25_b=1.5)


def test_rag_config_nests_these_classes():
    from rag import config

    assert config.IndexSettings is IndexSettings and config.EmbeddingsSettings is EmbeddingsSettings
    assert isinstance(config.Settings().index, IndexSettings)


def test_backend_and_milvus_uri_are_checked():
    assert IndexSettings().backend == "faiss"
    s = IndexSettings(backend="milvus", milvus_uri="https://milvus.example.org:19530")
    assert s.milvus_uri.startswith("https://")
    with pytest.raises(ValidationError, match="'faiss', 'milvus'|faiss.*milvus"):
        IndexSettings(backend="qdrant")
    for bad in ("data/milvus", "ftp://host:19530", "http://", "http://host:port", " data/m.db"):
        with pytest.raises(ValidationError, match="neither a Milvus Lite file"):
            IndexSettings(milvus_uri=bad)
    with pytest.raises(ValidationError):
        IndexSettings(milvus_collection="has-dash")
