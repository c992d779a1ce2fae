"""Fixtures of the index store tests: the corpus chunked once, and an index of it built once with the
hashing fake encoder (tests copy it or only read it)."""

from __future__ import annotations

import shutil

import pytest

from rag.corpus.chunker import Chunker
from rag.corpus.records import Chunk
from tests.embeddings.fake_encoder import HashEncoder
from tests.embeddings.store.support import build


@pytest.fixture(scope="module")
def chunks(corpus) -> list[Chunk]:
    metas = {d.doc_id: d.meta for d in corpus.documents}
    return Chunker().chunk(corpus.paragraphs, metas)


@pytest.fixture(scope="module")
def small(chunks) -> list[Chunk]:
    return chunks[:60]


@pytest.fixture(scope="module")
def built(tmp_path_factory, chunks, settings):
    """The whole corpus indexed once with the fake encoder; tests copy or only read it."""
    directory = tmp_path_factory.mktemp("idx") / "index"
    encoder = HashEncoder()
    report = build(chunks, encoder, settings, directory=directory)
    return directory, report, encoder


@pytest.fixture
def copy(built, tmp_path):
    directory = tmp_path / "index"
    shutil.copytree(built[0], directory)
    return directory
