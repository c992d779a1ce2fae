"""A small index of the real corpus built with the hashing fake encoder: the retrievers' unit tests
compare each one against brute force over it (the real model is exercised by test_searcher.py)."""

from __future__ import annotations

import pytest

from embeddings.store import build_index, load_index
from rag.config import ROOT
from rag.corpus.chunker import Chunker
from rag.corpus.records import Chunk
from tests.embeddings.fake_encoder import HashEncoder


@pytest.fixture(scope="module")
def small_index(tmp_path_factory, corpus, settings):
    """(index, encoder) over every chunk of the corpus, fake-encoded."""
    chunks = Chunker().chunk(corpus.paragraphs, {d.doc_id: d.meta for d in corpus.documents})
    directory = tmp_path_factory.mktemp("retrieval") / "index"
    encoder = HashEncoder()
    build_index(chunks, encoder, settings.index, settings.embeddings, directory=directory, root=ROOT)
    return load_index(directory, encoder, settings.index, settings.embeddings, record_type=Chunk, root=ROOT), encoder
