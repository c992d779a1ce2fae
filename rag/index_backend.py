"""Which index serves the assistant, chosen once from ``index.backend``: the embedded FAISS + BM25
directory (``faiss``, default: ``index.dir``) or a Milvus collection (``milvus``: Milvus Lite for a
``.db`` file, a Milvus server or cluster for ``http://host:19530``). The engine, ``ingest``, ``docs``
and the upload call these four functions and never the backends directly, so both serve every front
end the same way (one ``embeddings.search_index.SearchIndex`` face).

Example::

    index = open_index(settings, encoder)          # LoadedIndex or MilvusIndex
    report = build(settings, chunks, encoder, meta={"added_files": []})
    (read_manifest(settings) or {}).get("meta")    # what the served build recorded
    where(settings)                                # 'data/index' or 'data/milvus.db', for messages
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rag.config import ROOT, Settings


def where(settings: Settings) -> str:
    """The served index as messages name it."""
    if settings.index.backend == "milvus":
        return settings.index.milvus_uri
    return str(settings.index.dir)


def read_manifest(settings: Settings) -> dict[str, Any] | None:
    """The served build's manifest (encoder, settings, ``meta``), None when nothing is built;
    IndexStateError when it cannot be read."""
    if settings.index.backend == "milvus":
        from embeddings.milvus import read_milvus_manifest

        return read_milvus_manifest(settings.index, ROOT)
    from embeddings.store import read_manifest as read_directory_manifest

    return read_directory_manifest(settings.path(settings.index.dir), root=ROOT)


def open_index(settings: Settings, encoder):
    """The served index, checked against ``encoder`` (IndexStateError naming the fix when missing,
    damaged or built by another model)."""
    from rag.corpus.records import Chunk

    if settings.index.backend == "milvus":
        from embeddings.milvus import load_milvus

        return load_milvus(settings.index, encoder, settings.embeddings, record_type=Chunk, root=ROOT)
    from embeddings.store import load_index

    return load_index(settings.path(settings.index.dir), encoder, settings.index, settings.embeddings,
                      record_type=Chunk, root=ROOT, verify=settings.index.verify, cache_size=settings.index.chunk_cache)


def build(settings: Settings, chunks: Sequence, encoder, *, reuse: bool = True, progress: bool = True,
          meta: dict[str, Any] | None = None):
    """Build the index of ``chunks`` and swap it in atomically (unchanged vectors reused unless
    ``reuse`` is False); returns the backend's build report (``.summary()``, ``.kind``).

    Milvus always takes unchanged vectors from the vector cache (``<index.dir>.vectors``, the one the
    FAISS build and the answer units use), keyed by the model's fingerprint: a changed model (what
    ``--rebuild`` is for) never reuses a vector there either."""
    chunking = settings.chunking.model_dump(mode="json")
    if settings.index.backend == "milvus":
        from embeddings.milvus import build_milvus

        from embeddings.store.layout import vector_cache_dir

        # One passage-vector cache per project whatever the backend (the answer units use it too), so
        # switching index.backend re-encodes nothing.
        return build_milvus(chunks, encoder, settings.index, settings.embeddings, root=ROOT, progress=progress,
                            chunking=chunking, meta=meta, vectors=vector_cache_dir(settings.path(settings.index.dir)))
    from embeddings.store import build_index

    return build_index(chunks, encoder, settings.index, settings.embeddings, directory=settings.path(settings.index.dir),
                       chunking=chunking, root=ROOT, progress=progress, reuse=reuse, meta=meta)


def indexed_chunk_ids(settings: Settings) -> list[str]:
    """The chunk ids the served index holds, in row order (what ``uncac-qa docs`` compares with the
    corpus), without loading a model; empty when nothing is built."""
    manifest = read_manifest(settings)
    if manifest is None:
        return []
    if manifest.get("chunks"):  # a FAISS manifest of format 1 listed them itself
        return [c[0] for c in manifest["chunks"]]
    if settings.index.backend == "milvus":
        from embeddings.milvus.connection import connect, shown
        from embeddings.milvus.index import MilvusIndex
        from embeddings.milvus.meta import read_live

        client = connect(settings.index, ROOT)
        live = read_live(client, settings.index)
        if live is None:
            return []
        return [c[0] for c in MilvusIndex(client, live, manifest, settings.index, dict,
                                          shown(settings.index.milvus_uri, ROOT)).manifest["chunks"]]
    from embeddings.store import CHUNKS
    from embeddings.store.chunk_store import ChunkStore
    from embeddings.store.layout import source_of

    source = source_of(settings.path(settings.index.dir))
    store = ChunkStore(source / CHUNKS, dict)
    try:
        return list(store.ids())
    finally:
        store.close()
