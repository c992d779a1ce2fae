"""Build an index directory atomically and incrementally.

Atomic: a build writes into a temporary directory beside the target (same filesystem), fsyncs it, then
swaps it in (:func:`embeddings.fsutil.replace_dir`), holding the index lock throughout
(:mod:`embeddings.store.recovery`). An exception or a crash mid-build leaves the previous index
serving, untouched.

Incremental: vectors of chunks whose embedded text is unchanged are copied from the previous index when
it was built by the same encoder (same fingerprint); only new or edited chunks are encoded.

Example::

    report = build_index(chunks, encoder, settings.index, settings.embeddings, directory=directory,
                         chunking=settings.chunking.model_dump(mode="json"))
    print(report.summary())
"""

from __future__ import annotations

import json
import logging
import shutil
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np

from embeddings import fsutil
from embeddings.encoders.base import Encoder
from embeddings.errors import CorpusError, IndexStateError
from embeddings.index.base import DenseIndex
from embeddings.index.factory import create_dense_index
from embeddings.records import IndexRecord, text_hash
from embeddings.settings import EmbeddingsSettings, IndexSettings
from embeddings.sparse.bm25 import TOKENIZER_VERSION, BM25Index
from embeddings.store.layout import (
    BM25_DIR, BM25_FIELD, CHUNKS, DENSE, FORMAT_VERSION, MANIFEST, VECTORS, data_files, dir_bytes, display_path,
    read_manifest_file, source_of, write_json,
)
from embeddings.store.recovery import build_lock, clean_leftovers

logger = logging.getLogger("embeddings.store")


@dataclass(frozen=True)
class BuildReport:
    """What a build did; ``summary()`` is what ``uncac-qa ingest`` prints."""

    directory: Path
    documents: int
    paragraphs: int
    chunks: int
    encoded: int  # distinct chunk texts the encoder embedded in this build
    reused: int  # chunks whose vector was copied from the previous index
    removed: int  # chunks of the previous index that are gone
    seconds: float
    encode_seconds: float
    kind: str  # concrete dense index kind: flat / ivf / hnsw
    bytes: int  # size of the index directory
    root: Path | None = None  # the summary names the directory relative to this one

    def summary(self) -> str:
        return (
            f"indexed {self.documents} documents, {self.paragraphs} paragraphs, {self.chunks} chunks "
            f"({self.encoded} encoded, {self.reused} reused, {self.removed} removed) "
            f"in {self.seconds:.1f}s (encoding {self.encode_seconds:.1f}s); "
            f"{self.kind} index, {self.bytes / 1e6:.1f} MB at {display_path(self.directory, self.root)}"
        )


def _previous(directory: Path, encoder: Encoder, root: Path | None) -> tuple[dict[str, np.ndarray], set[str]]:
    """Reusable vectors of the previous index keyed by text hash, and its chunk ids.

    Anything wrong with it (another encoder, damaged files) means nothing is reused; it is never an
    error, since this build replaces it.
    """
    source = source_of(directory)
    if source is None:
        return {}, set()
    try:
        manifest = read_manifest_file(source, display_path(source, root))
        old_ids = {c[0] for c in manifest["chunks"]}
        enc = manifest["encoder"]
        if (enc["model_id"], enc["dim"], enc["fingerprint"]) != (encoder.model_id, encoder.dim, encoder.fingerprint):
            logger.info("previous index was built by another encoder: re-encoding everything")
            return {}, old_ids
        if fsutil.sha256_file(source / VECTORS) != manifest["files"][VECTORS]:
            raise ValueError(f"{VECTORS} checksum mismatch")
        vectors = np.load(source / VECTORS, allow_pickle=False)
        hashes = [c[1] for c in manifest["chunks"]]
        if vectors.shape != (len(hashes), enc["dim"]):
            raise ValueError(f"{VECTORS} shape {vectors.shape}")
        return dict(zip(hashes, vectors)), old_ids
    except (IndexStateError, OSError, ValueError, EOFError, KeyError, TypeError, IndexError) as e:
        logger.warning("previous index at %s is not reusable (%s): re-encoding everything",
                       display_path(directory, root), e)
        return {}, set()


def _encode(texts: list[str], encoder: Encoder, batch_size: int, progress: bool) -> np.ndarray:
    """Encode in batches of similar length (less padding), with a progress bar on stderr."""
    from tqdm import tqdm

    out = np.zeros((len(texts), encoder.dim), dtype=np.float32)
    order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
    with tqdm(total=len(texts), desc="encoding", unit="chunk", file=sys.stderr, disable=not (progress and texts)) as bar:
        for start in range(0, len(order), batch_size):
            rows = order[start : start + batch_size]
            out[rows] = encoder.encode_passages([texts[i] for i in rows], batch_size=batch_size)
            bar.update(len(rows))
    return out


def _write_tree(tmp: Path, chunks: Sequence[IndexRecord], vectors: np.ndarray, dense: DenseIndex, bm25: BM25Index,
                manifest: dict[str, Any]) -> None:
    """Every file into ``tmp``; the manifest (with the data files' checksums) last; all fsynced."""
    np.save(tmp / VECTORS, vectors, allow_pickle=False)
    dense.save(tmp / DENSE)
    bm25.save(tmp / BM25_DIR)
    with (tmp / CHUNKS).open("w", encoding="utf-8") as f:
        for c in chunks:
            f.write(json.dumps(asdict(c), ensure_ascii=False) + "\n")
    manifest["files"] = {name: fsutil.sha256_file(tmp / name) for name in data_files(tmp)}
    write_json(tmp / MANIFEST, manifest)
    for p in sorted(tmp.rglob("*"), key=lambda p: -len(p.parts)):  # files and sub-dirs, deepest first
        fsutil.fsync_path(p)
    fsutil.fsync_path(tmp)


def build_index(
    chunks: Sequence[IndexRecord],
    encoder: Encoder,
    index: IndexSettings,
    embeddings: EmbeddingsSettings,
    *,
    directory: str | Path,
    chunking: Mapping[str, Any] | None = None,
    root: Path | None = None,
    progress: bool = False,
    reuse: bool = True,
    meta: Mapping[str, Any] | None = None,
) -> BuildReport:
    """Embed ``chunks`` and write the dense + BM25 index to ``directory``, atomically.

    Args:
        chunks: the records to index (dataclasses, see :mod:`embeddings.records`), in order (ids become
            positions 0..n-1).
        encoder: passage encoder; loaded here if it is not yet.
        index: index kind and parameters (recorded in the manifest).
        embeddings: encoding batch size, build and search threads.
        directory: target, resolved; its parent is created.
        chunking: how the records were made (JSON-able; recorded in the manifest as "chunking").
        root: messages and the report name the directory relative to this one (the project root).
        progress: show a tqdm bar over encoding on stderr.
        reuse: copy vectors of unchanged chunks from the previous index (False: encode everything).
        meta: extra JSON-able facts stored in the manifest under "meta" (e.g. user files added).

    Returns a BuildReport. On any exception the previous index is left as it was. Waits (saying so on
    the log) while another build of the same directory runs.
    """
    t0 = time.perf_counter()
    if not chunks:
        raise CorpusError("nothing to index: the corpus yielded no chunks")
    seen: set[str] = set()
    for c in chunks:
        if c.id in seen:
            raise CorpusError(f"chunk id {c.id!r} occurs twice; every chunk must be unique")
        seen.add(c.id)
    directory = Path(directory)
    directory.parent.mkdir(parents=True, exist_ok=True)
    with build_lock(directory, root):
        clean_leftovers(directory, root)

        encoder.load()
        dim = encoder.dim
        previous, old_ids = _previous(directory, encoder, root)
        if not reuse:
            previous = {}
        hashes = [text_hash(c) for c in chunks]
        first: dict[str, int] = {}  # text hash -> first chunk with it, for texts not in the previous index
        for i, h in enumerate(hashes):
            if h not in previous:
                first.setdefault(h, i)
        todo = list(first.values())
        t_enc = time.perf_counter()
        fresh = _encode([chunks[i].embed_text for i in todo], encoder, embeddings.batch_size, progress)
        encode_seconds = time.perf_counter() - t_enc
        by_hash = {hashes[i]: fresh[j] for j, i in enumerate(todo)}
        vectors = np.stack([by_hash[h] if h in by_hash else previous[h] for h in hashes]).astype(np.float32, copy=False)
        encoded, reused = len(todo), sum(h in previous for h in hashes)

        dense = create_dense_index(
            index.kind, len(chunks), dim, index,
            build_threads=embeddings.index_threads, search_threads=embeddings.query_threads,
        )
        dense.add(vectors)
        bm25 = BM25Index.build([getattr(c, BM25_FIELD) for c in chunks], k1=index.bm25_k1, b=index.bm25_b)

        n_docs = len({c.doc_id for c in chunks})
        n_paras = len({c.paragraph_id for c in chunks})
        manifest: dict[str, Any] = {
            "format": FORMAT_VERSION,
            "encoder": {"model_id": encoder.model_id, "fingerprint": encoder.fingerprint, "dim": dim},
            "index": {
                "kind": dense.kind,
                "config": index.model_dump(mode="json", exclude={"dir"}),
                **({"nlist": int(dense.nlist)} if hasattr(dense, "nlist") else {}),
                "compression": getattr(dense, "compression", "none"),  # what the file holds (flat: none)
            },
            "bm25": {"field": BM25_FIELD, "tokenizer": TOKENIZER_VERSION, "k1": index.bm25_k1, "b": index.bm25_b},
            "chunking": dict(chunking or {}),
            "n_documents": n_docs,
            "n_paragraphs": n_paras,
            "n_chunks": len(chunks),
            "built_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "encode_seconds": round(encode_seconds, 3),
            "meta": dict(meta or {}),
            "chunks": [[c.id, h] for c, h in zip(chunks, hashes)],
        }
        tmp = Path(tempfile.mkdtemp(prefix=fsutil.temp_prefix(directory), dir=directory.parent))
        try:
            _write_tree(tmp, chunks, vectors, dense, bm25, manifest)
            fsutil.replace_dir(tmp, directory)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        return BuildReport(
            directory=directory, documents=n_docs, paragraphs=n_paras, chunks=len(chunks), encoded=encoded,
            reused=reused, removed=len(old_ids - seen), seconds=time.perf_counter() - t0,
            encode_seconds=encode_seconds, kind=dense.kind, bytes=dir_bytes(directory), root=root,
        )
