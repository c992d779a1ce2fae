"""The index directory on disk: build it atomically and incrementally, load it with every check.

One concept per module: :mod:`~embeddings.store.layout` (file names, manifest, checksums),
:mod:`~embeddings.store.chunk_store` (the records in SQLite, read on demand; reusable by any backend
that needs records by row), :mod:`~embeddings.store.vector_cache` (passage vectors by text hash, so an
ingest resumes), :mod:`~embeddings.store.building` (full or incremental builds, streamed, atomic publish),
:mod:`~embeddings.store.recovery` (the build lock and repairs after a build that died),
:mod:`~embeddings.store.loading` (checked loading, :class:`LoadedIndex`). The store imports nothing
of ``rag``: it takes resolved paths, the embeddings/index settings, and records that meet
:class:`embeddings.records.IndexRecord`.

Example::

    report = build_index(chunks, encoder, settings.index, settings.embeddings, directory=directory)
    index = load_index(directory, encoder, settings.index, settings.embeddings, record_type=Chunk)
    index.search_dense(encoder.encode_queries(["资产申报"]), k=5)   # [[(chunk_index, score), ...]]
    index.search_bm25(["资产申报"], k=5)
"""

from embeddings.records import IndexRecord, text_hash
from embeddings.store.building import BuildReport, build_index
from embeddings.store.chunk_store import (
    ChunkStore,
    ChunkSummary,
    chunk_digest,
    write_chunks,
)
from embeddings.store.layout import (
    BM25_DIR,
    BM25_FIELD,
    BUILD_HINT,
    CHUNKS,
    DENSE,
    FORMAT_VERSION,
    MANIFEST,
    REBUILD_HINT,
    VECTORS,
    VERIFY_MODES,
    display_path,
    index_files,
    read_manifest,
    vector_cache_dir,
)
from embeddings.store.loading import LoadedIndex, load_index
from embeddings.store.recovery import RECOVER_WAIT_S, recover_index
from embeddings.store.vector_cache import VectorCache

__all__ = [
    "BM25_DIR", "BM25_FIELD", "BUILD_HINT", "CHUNKS", "DENSE", "FORMAT_VERSION", "MANIFEST", "REBUILD_HINT",
    "RECOVER_WAIT_S", "VECTORS", "VERIFY_MODES", "BuildReport", "ChunkStore", "ChunkSummary", "IndexRecord",
    "LoadedIndex", "VectorCache", "build_index", "chunk_digest", "display_path", "index_files", "load_index",
    "read_manifest", "recover_index", "text_hash", "vector_cache_dir", "write_chunks",
]
