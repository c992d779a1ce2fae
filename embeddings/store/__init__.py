"""The index directory on disk: build it atomically and incrementally, load it with every check.

One concept per module: :mod:`~embeddings.store.layout` (file names, manifest, checksums),
:mod:`~embeddings.store.building` (full or incremental builds, atomic publish),
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
from embeddings.store.layout import (
    BM25_DIR, BM25_FIELD, BUILD_HINT, CHUNKS, DENSE, FORMAT_VERSION, MANIFEST, REBUILD_HINT, VECTORS, display_path,
    index_files, read_manifest,
)
from embeddings.store.loading import LoadedIndex, load_index
from embeddings.store.recovery import RECOVER_WAIT_S, recover_index

__all__ = [
    "BM25_DIR", "BM25_FIELD", "BUILD_HINT", "CHUNKS", "DENSE", "FORMAT_VERSION", "MANIFEST", "REBUILD_HINT",
    "RECOVER_WAIT_S", "VECTORS", "BuildReport", "IndexRecord", "LoadedIndex", "build_index", "display_path",
    "index_files", "load_index", "read_manifest", "recover_index", "text_hash",
]
