"""The Milvus backend of the index (``index.backend: milvus``): Milvus Lite for a ``.db`` file URI, a
Milvus standalone or cluster for ``http://host:19530``, with no code change between them.

One concept per module: :mod:`.connection` (URI, client, errors), :mod:`.schema` (collections, fields,
analyzers, index parameters, filter expressions), :mod:`.meta` (the served collection and manifests,
kept in Milvus), :mod:`.building` (atomic, incremental build), :mod:`.index` (the loaded
:class:`MilvusIndex` that meets :class:`embeddings.search_index.SearchIndex`).

Example::

    report = build_milvus(chunks, encoder, settings.index, settings.embeddings, root=root)
    index = load_milvus(settings.index, encoder, settings.embeddings, record_type=Chunk, root=root)
    index.search_bm25(["资产申报"], k=10, docs=[frozenset({"wg4-2019-l1-add1"})])
"""

from embeddings.milvus.building import MilvusBuildReport, build_milvus
from embeddings.milvus.connection import resolve_uri
from embeddings.milvus.index import MilvusIndex, load_milvus, read_milvus_manifest

__all__ = ["MilvusBuildReport", "MilvusIndex", "build_milvus", "load_milvus", "read_milvus_manifest", "resolve_uri"]
