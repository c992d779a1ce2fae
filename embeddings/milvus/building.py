"""Build a Milvus index: encode through the vector cache, write a new collection, switch to it when complete.

Atomic: every build writes a fresh data collection ``<milvus_collection>_<build time>``; only when all
rows are inserted, flushed and indexed, and its manifest written, does the ``live`` entry of the metadata
collection (and the alias) move to it (:func:`embeddings.milvus.meta.switch_live`). A build that dies
leaves the served collection exactly as it was; what it wrote is dropped by the next build, as are the
collections it replaces.

Incremental: vectors come from :class:`embeddings.store.vector_cache.VectorCache` at
``<lite file>.vectors`` (server: ``<root>/data/<collection>.vectors``), keyed by the encoder's
fingerprint and the text's hash, so an unchanged text is never encoded again, even after a build that
was killed; what the cache lacks is read back from the served collection when the same encoder built it
(a server index rebuilt on another machine). Milvus itself re-inserts every row (inserting is cheap next to encoding: ~11 passages/s).

Example::

    report = build_milvus(chunks, encoder, settings.index, settings.embeddings, root=root)
    print(report.summary())   # indexed 5 documents, ... milvus index, ... at data/milvus.db
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from embeddings.encoders.base import Encoder
from embeddings.errors import CorpusError
from embeddings.milvus import meta as metadata
from embeddings.milvus.connection import (
    cache_root,
    connect,
    is_server,
    lock_target,
    resolve_uri,
    shown,
)
from embeddings.milvus.schema import (
    CHUNK_ID,
    DENSE,
    DOC_ID,
    ID_BYTES,
    JIEBA,
    LANG,
    MAX_TEXT_BYTES,
    MULTI,
    PARAGRAPH_ID,
    RECORD,
    ROW,
    TEXT,
    TEXT_HASH,
    data_schema,
    dense_build_params,
    dense_index_type,
    in_filter,
    index_params,
    scan,
)
from embeddings.records import IndexRecord, text_hash
from embeddings.settings import EmbeddingsSettings, IndexSettings, check_milvus_uri
from embeddings.store.building import BuildReport
from embeddings.store.recovery import build_lock
from embeddings.store.vector_cache import VectorCache, text_key

logger = logging.getLogger("embeddings.milvus")

#: Manifest format of the Milvus backend (bump when the schema changes: old collections are rebuilt).
FORMAT_VERSION = 2  # 2: the jieba analyzer splits as our BM25 does (search mode, stop words)
#: Rows per insert call: ~1.6 MB of 384-d vectors plus texts, well under Milvus' 64 MB request limit.
INSERT_BATCH = 1000
#: Text hashes per query when vectors are read back from the served collection (a short filter expression).
REUSE_BATCH = 1000


@dataclass(frozen=True)
class MilvusBuildReport(BuildReport):
    """The store's report, naming the Milvus URI (a server has no directory)."""

    uri: str = ""

    def summary(self) -> str:
        size = f"{self.bytes / 1e6:.1f} MB " if self.bytes else ""
        return (
            f"indexed {self.documents} documents, {self.paragraphs} paragraphs, {self.chunks} chunks "
            f"({self.encoded} encoded, {self.reused} reused, {self.removed} removed) "
            f"in {self.seconds:.1f}s (encoding {self.encode_seconds:.1f}s); milvus index, {size}at {self.uri}"
        )


def _check(chunks: Sequence[IndexRecord]) -> None:
    if not chunks:
        raise CorpusError("nothing to index: the corpus yielded no chunks")
    seen: set[str] = set()
    for c in chunks:
        if c.id in seen:
            raise CorpusError(f"chunk id {c.id!r} occurs twice; every chunk must be unique")
        seen.add(c.id)
        for name in ("id", "doc_id", "paragraph_id"):
            if len(getattr(c, name).encode("utf-8")) > ID_BYTES:
                raise CorpusError(f"chunk {c.id[:80]!r}: its {name} is longer than Milvus' {ID_BYTES} bytes")
        if len(c.embed_text.encode("utf-8")) > MAX_TEXT_BYTES:
            raise CorpusError(f"chunk {c.id!r}: its embedded text is {len(c.embed_text.encode('utf-8'))} bytes, "
                              f"more than a Milvus VARCHAR holds ({MAX_TEXT_BYTES}); chunk it smaller")


def _languages(chunks: Sequence[IndexRecord], languages: Sequence[str | None] | None) -> list[str]:
    from embeddings.sparse.analysis import guess_language

    if languages is not None and (isinstance(languages, str) or len(languages) != len(chunks)):
        raise ValueError(f"languages must be a list with one entry per chunk ({len(chunks)}), got {languages!r}")
    given = languages or [None] * len(chunks)
    return [lang or guess_language(c.embed_text) for c, lang in zip(chunks, given)]


def _previous_ids(client, index: IndexSettings) -> set[str]:
    """Chunk ids of the served collection (for the report's 'removed'); empty when there is none."""
    live = metadata.read_live(client, index)
    if live is None or not client.has_collection(live):
        return set()
    client.load_collection(live)
    manifest = metadata.read_manifest(client, index, live) or {}
    return {r[CHUNK_ID] for r in scan(client, live, int(manifest.get("n_chunks", 0)), [CHUNK_ID])}


def _served_vectors(client, index: IndexSettings, encoder: Encoder, wanted: set[str]) -> dict[str, np.ndarray]:
    """Vectors of the served collection whose text hash is in ``wanted``, when it was built by this very encoder
    (model id, dim, fingerprint); empty otherwise. Read by hash in batches of ``REUSE_BATCH``."""
    live = metadata.read_live(client, index)
    if not wanted or live is None or not client.has_collection(live):
        return {}
    built = (metadata.read_manifest(client, index, live) or {}).get("encoder") or {}
    if (built.get("model_id"), built.get("dim"), built.get("fingerprint")) != (encoder.model_id, encoder.dim, encoder.fingerprint):
        return {}
    client.load_collection(live)
    out: dict[str, np.ndarray] = {}
    keys = sorted(wanted)
    for start in range(0, len(keys), REUSE_BATCH):
        part = keys[start : start + REUSE_BATCH]
        for r in client.query(live, filter=in_filter(TEXT_HASH, part), output_fields=[TEXT_HASH, DENSE], limit=16_384):
            out[r[TEXT_HASH]] = np.asarray(r[DENSE], dtype=np.float32)
    return out


def collection_bytes(uri: str) -> int:
    """Bytes on disk of a Milvus Lite file (and its sidecar files); 0 for a server (not knowable here)."""
    if is_server(uri):
        return 0
    path = Path(uri)
    return sum(p.stat().st_size for p in path.parent.glob(path.name + "*") if p.is_file()) + (
        sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) if path.is_dir() else 0)


def build_milvus(
    chunks: Sequence[IndexRecord],
    encoder: Encoder,
    index: IndexSettings,
    embeddings: EmbeddingsSettings,
    *,
    root: Path | None = None,
    languages: Sequence[str | None] | None = None,
    progress: bool = False,
    vectors: str | Path | None = None,
    chunking: Mapping[str, Any] | None = None,
    meta: Mapping[str, Any] | None = None,
    uri: str | None = None,
) -> BuildReport:
    """Embed ``chunks`` and serve them from a new Milvus collection at ``index.milvus_uri``, atomically.

    Args:
        chunks: the records (frozen dataclasses, see :mod:`embeddings.records`), in order: row i = chunks[i].
        encoder: passage encoder; loaded here if it is not yet.
        index: URI, collection name, index type, consistency, shards, analyzer, BM25 k1/b.
        embeddings: the encoding batch size.
        root: the project root (a relative Lite path is resolved against it; messages name paths relative to it).
        languages: each chunk's language (one of ``embeddings.sparse.analysis.LANGUAGES``) or None to guess it.
        progress: tqdm bars over encoding and inserting on stderr.
        vectors: the VectorCache folder (default :func:`embeddings.milvus.connection.cache_root`).
        chunking: how the records were made (recorded in the manifest).
        meta: extra JSON-able facts stored in the manifest under "meta" (e.g. ``added_files``).
        uri: overrides ``index.milvus_uri`` (a Lite path or a server URL).

    Returns the store's BuildReport (kind "milvus"; bytes = the Lite file, 0 for a server). Raises
    CorpusError for bad records, IndexStateError when Milvus cannot be reached; on any exception the
    served collection is left as it was.
    """
    from tqdm import tqdm

    t0 = time.perf_counter()
    if uri is not None:
        index = index.model_copy(update={"milvus_uri": check_milvus_uri(uri)})
    _check(chunks)
    langs = _languages(chunks, languages)
    uri = resolve_uri(index, root)
    where = shown(uri, root)
    client = connect(index, root, create=True)
    target = lock_target(index, root)
    target.parent.mkdir(parents=True, exist_ok=True)
    with build_lock(target, root):
        encoder.load()
        old_ids = _previous_ids(client, index)
        cache = VectorCache(Path(vectors) if vectors is not None else cache_root(index, root), encoder)
        texts = [c.embed_text for c in chunks]
        hashes = [text_hash(c) for c in chunks]
        cached = cache.lookup(text_key(t) for t in texts)
        # what the local cache lacks may still be in the served collection (a server index built on another
        # machine, a cache deleted): same encoder, same text hash, same vector
        served = _served_vectors(client, index, encoder, {h for h in hashes if h not in cached})
        t_enc = time.perf_counter()
        todo = [i for i, h in enumerate(hashes) if h not in served]
        fresh = cache.encode([texts[i] for i in todo], batch_size=embeddings.batch_size, progress=progress)
        encode_seconds = time.perf_counter() - t_enc
        vecs = np.zeros((len(chunks), encoder.dim), dtype=np.float32)
        for j, i in enumerate(todo):
            vecs[i] = fresh[j]
        for i, h in enumerate(hashes):
            if h in served:
                vecs[i] = served[h]
        reused = sum(h in cached or h in served for h in hashes)

        name = f"{index.milvus_collection}_{datetime.now(UTC).strftime('%Y%m%dT%H%M%S%f')}"
        kind = dense_index_type(index, len(chunks))
        create: dict[str, Any] = {"consistency_level": index.milvus_consistency}
        if is_server(uri):
            create["num_shards"] = index.milvus_shards
        try:
            client.create_collection(name, schema=data_schema(encoder.dim, index),
                                     index_params=index_params(client, index, len(chunks)), **create)
            with tqdm(total=len(chunks), desc="inserting", unit="chunk", disable=not progress) as bar:
                for start in range(0, len(chunks), INSERT_BATCH):
                    part = range(start, min(start + INSERT_BATCH, len(chunks)))
                    client.insert(name, [{
                        ROW: i, CHUNK_ID: chunks[i].id, DOC_ID: chunks[i].doc_id,
                        PARAGRAPH_ID: chunks[i].paragraph_id, LANG: langs[i], TEXT_HASH: hashes[i],
                        TEXT: chunks[i].embed_text, DENSE: vecs[i].tolist(), RECORD: asdict(chunks[i]),
                    } for i in part])
                    bar.update(len(part))
            client.flush(name)
            n_docs = len({c.doc_id for c in chunks})
            n_paras = len({c.paragraph_id for c in chunks})
            manifest = {
                "format": FORMAT_VERSION,
                "backend": "milvus",
                "collection": name,
                "encoder": {"model_id": encoder.model_id, "fingerprint": encoder.fingerprint, "dim": encoder.dim},
                "index": {
                    "kind": "milvus", "index_type": kind, "params": dense_build_params(index, len(chunks)),
                    "config": index.model_dump(mode="json", exclude={"dir"}),
                },
                "bm25": {"field": TEXT, "analyzer": index.milvus_analyzer,
                         "analyzer_params": MULTI if index.milvus_analyzer == "multi" else JIEBA,
                         "k1": index.bm25_k1, "b": index.bm25_b},
                "chunking": dict(chunking or {}),
                "n_documents": n_docs,
                "n_paragraphs": n_paras,
                "n_chunks": len(chunks),
                "built_at": datetime.now(UTC).isoformat(timespec="seconds"),
                "encode_seconds": round(encode_seconds, 3),
                "meta": json.loads(json.dumps(dict(meta or {}))),
            }
            metadata.write_manifest(client, index, name, manifest)
        except BaseException:
            _drop_quietly(client, name)
            raise
        metadata.switch_live(client, index, name)
        dropped = metadata.drop_others(client, index, keep=name)
        if dropped:
            logger.info("dropped %d old Milvus collections: %s", len(dropped), ", ".join(dropped))
    seen = {c.id for c in chunks}
    return MilvusBuildReport(
        directory=Path(uri) if not is_server(uri) else Path("."), uri=where, documents=n_docs,
        paragraphs=n_paras, chunks=len(chunks), encoded=cache.encoded_last if todo else 0, reused=reused,
        removed=len(old_ids - seen), seconds=time.perf_counter() - t0, encode_seconds=encode_seconds,
        kind="milvus", bytes=collection_bytes(uri), root=root,
    )


def _drop_quietly(client, name: str) -> None:
    """Best effort: drop what a failed build wrote (the next build drops it otherwise)."""
    try:
        if client.has_collection(name):
            client.drop_collection(name)
    except Exception as e:  # noqa: BLE001 - we are already unwinding another error
        logger.warning("could not drop the unfinished Milvus collection %s (%s); the next build drops it", name, e)
