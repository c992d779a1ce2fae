"""Shared helpers of the index store tests: the store called as rag calls it, edits, snapshots."""

from __future__ import annotations

import dataclasses

from embeddings.store import build_index, load_index
from rag.config import ROOT
from rag.corpus.records import Chunk

QUERIES = ["如何保护举报人", "公职人员资产申报", "反腐败机构的独立性", "technical assistance"]


def build(chunks, encoder, settings, **kw):
    """``build_index`` with the index/embeddings/chunking parts of ``settings``, as ``uncac-qa ingest`` calls it."""
    return build_index(chunks, encoder, settings.index, settings.embeddings, chunking=settings.chunking.model_dump(mode="json"),
                       root=ROOT, **kw)


def load(directory, encoder, settings, **kw):
    """``load_index`` reading Chunk records, as the engine calls it."""
    return load_index(directory, encoder, settings.index, settings.embeddings, record_type=Chunk, root=ROOT, **kw)


def results(index, encoder) -> tuple:
    return index.search_dense(encoder.encode_queries(QUERIES), 10), index.search_bm25(QUERIES, 10)


def snapshot(directory) -> dict[str, bytes]:
    return {p.relative_to(directory).as_posix(): p.read_bytes() for p in sorted(directory.rglob("*")) if p.is_file()}


def edit(chunk: Chunk, suffix: str) -> Chunk:
    return dataclasses.replace(chunk, text=chunk.text + suffix, embed_text=chunk.embed_text + suffix, id="")


def corrupted(detail: str) -> str:
    """Pattern of the corrupted-index message with ``detail`` (a regex) in it."""
    return rf"^index at '.*' is corrupted: .*{detail}.*; rebuild it with: uncac-qa ingest --rebuild$"
