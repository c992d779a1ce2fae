"""Choosing the dense index backend: 'auto' follows the corpus size; an unknown kind names the allowed ones."""

from __future__ import annotations

import pytest

from embeddings.errors import ConfigError
from embeddings.index.factory import KINDS, create_dense_index, resolve_kind
from embeddings.index.faiss_index import FlatIndex, IVFIndex
from embeddings.settings import IndexSettings


def test_auto_is_flat_up_to_flat_max_then_ivf():
    s = IndexSettings(flat_max=100)
    assert resolve_kind("auto", 100, s) == "flat" and resolve_kind("auto", 101, s) == "ivf"
    assert isinstance(create_dense_index("auto", 101, 8, s), IVFIndex)
    assert isinstance(create_dense_index("auto", 5, 8, s), FlatIndex)
    with pytest.raises(ConfigError, match=r"'annoy'; allowed: 'auto', 'flat', 'ivf', 'hnsw'"):
        resolve_kind("annoy", 5, s)
    assert KINDS == ("auto", "flat", "ivf", "hnsw")
