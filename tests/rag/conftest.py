"""Fixtures of the CLI tests that run on a small temporary site (see small_site.py)."""

from __future__ import annotations

import pytest

from embeddings.encoders import factory
from rag import engine as ask_command
from tests.embeddings.fake_encoder import HashEncoder


@pytest.fixture
def hash_encoders(monkeypatch):
    """Every encoder the CLI creates is a HashEncoder, and no engine is shared with other tests."""
    monkeypatch.setattr(factory, "create_encoder", lambda _settings: HashEncoder())
    monkeypatch.setattr(ask_command, "_ENGINES", {})
