"""Pick the encoder backend for the configured model.

Every model form the config accepts (``ALLOWED_FORMS``) is served by the sentence-transformers
backend today; a new backend is one sibling file plus one entry in ``BACKENDS``.

Example::

    encoder = create_encoder(EmbeddingsSettings()).load()   # the config.yaml section: settings.embeddings
"""

from __future__ import annotations

from embeddings.encoders.base import Encoder
from embeddings.encoders.sentence_transformer import SentenceTransformerEncoder
from embeddings.settings import EmbeddingsSettings
from embeddings.errors import ModelError, one_of

BACKENDS: dict[str, type[Encoder]] = {"sentence-transformers": SentenceTransformerEncoder}


def create_encoder(settings: EmbeddingsSettings, *, backend: str = "sentence-transformers") -> Encoder:
    """Build (without loading) the encoder described by ``settings``.

    Raises ModelError for an unknown backend; an unusable model string fails in ``load()`` with the
    value and the allowed forms named.
    """
    if backend not in BACKENDS:
        raise ModelError(f"encoder backend {one_of(backend, BACKENDS)}")
    return BACKENDS[backend](
        settings.model,
        cache_dir=settings.resolved_cache_dir(),
        query_prompt=settings.query_prompt,
        passage_prompt=settings.passage_prompt,
        max_seq_length=settings.max_seq_length,
        query_runtime=settings.query_runtime,
        query_threads=settings.query_threads,
        passage_runtime=settings.passage_runtime,
        index_threads=settings.index_threads,
    )
