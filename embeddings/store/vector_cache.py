"""Passage vectors by text hash, kept on disk in shards written one batch at a time: an ingest that is
killed (or runs out of time) resumes where it stopped instead of encoding everything again.

Encoding is what an ingest spends its time on (about 11 passages/s with e5-small on 2 cores, so a
million paragraphs take days): every finished batch of vectors is worth keeping. The cache lives
beside the index (``data/index.vectors/<fingerprint>/``), outside the directory a rebuild swaps, and is
keyed by the encoder's fingerprint and the hash of the exact text the encoder sees, so a different
model never reuses a vector and an edited text is encoded again.

Each shard is one ``.npz`` (``keys``: text hashes, ``vectors``: float32 unit rows) written through a
temporary file and ``os.replace``, so a shard is whole or absent. A damaged shard is skipped with one
warning (its texts are encoded again), never an error: this is only a cache.

Example::

    cache = VectorCache(Path("data/index.vectors"), encoder)
    vecs = cache.encode(texts, batch_size=32, progress=True)   # (len(texts), dim), cached ones not re-encoded
    cache.encode(texts).shape == vecs.shape and cache.encoded_last == 0
"""

from __future__ import annotations

import hashlib
import logging
import sys
import zipfile
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np

from embeddings import fsutil
from embeddings.encoders.base import Encoder

logger = logging.getLogger("embeddings.store")

#: Texts encoded between two shard writes: at ~11 passages/s a killed ingest loses at most ~1.5 min.
SHARD_SIZE = 1024
#: Shard vectors kept in memory by one cache object (2.7M 384-d vectors); the rest are re-read when needed.
MAX_BYTES = 4 << 30


def text_key(text: str) -> str:
    """The cache key of one passage text (the same hash ``embeddings.records.text_hash`` gives a record).

    >>> text_key("passage text")
    'fce813c3788fa98c9d6a'
    """
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:20]


class VectorCache:
    """Shards of (text hash, vector) for one encoder under ``root/<fingerprint[:16]>``. Cheap constructor;
    the shards' keys are read on the first lookup, their vectors when a lookup needs them, and at most
    ``max_bytes`` of shard vectors stay in memory (least recently used dropped), so a million-chunk
    build reads the cache in bounded memory."""

    def __init__(self, root: str | Path, encoder: Encoder, *, shard_size: int = SHARD_SIZE,
                 max_bytes: int = MAX_BYTES) -> None:
        self.root = Path(root)
        self.encoder = encoder
        self.shard_size = shard_size
        self.max_bytes = max_bytes
        self._where: dict[str, tuple[Path, int]] | None = None  # text hash -> (shard, row in it)
        self._loaded: OrderedDict[Path, np.ndarray] = OrderedDict()
        self._loaded_bytes = 0
        self.encoded_last = 0  # texts the last encode() had to encode

    @property
    def directory(self) -> Path:
        return self.root / self.encoder.fingerprint[:16]

    def __contains__(self, key: str) -> bool:
        return key in self._index()

    def lookup(self, keys: Iterable[str]) -> dict[str, np.ndarray]:
        """The cached vectors of those ``keys`` that are cached (each shard read once per call)."""
        where = self._index()
        by_shard: dict[Path, list[tuple[str, int]]] = {}
        for k in dict.fromkeys(keys):
            if k in where:
                path, row = where[k]
                by_shard.setdefault(path, []).append((k, row))
        out: dict[str, np.ndarray] = {}
        for path, items in by_shard.items():
            vectors = self._vectors(path)
            if vectors is None:  # damaged since the keys were read: those texts are encoded again
                for k, _ in items:
                    where.pop(k, None)
                continue
            for k, row in items:
                out[k] = vectors[row]
        return out

    def encode(self, texts: Sequence[str], *, batch_size: int = 32, progress: bool = False,
               reuse: bool = True) -> np.ndarray:
        """Vectors of ``texts`` in order: cached ones read, the rest encoded (longest first, so batches pad
        little) and written one shard at a time. ``reuse=False`` encodes every text again (``ingest
        --rebuild``) and writes the new vectors into the cache, replacing the old ones."""
        from tqdm import tqdm

        keys = [text_key(t) for t in texts]
        have = self.lookup(keys) if reuse else {}
        missing = list(dict.fromkeys(k for k in keys if k not in have))
        self.encoded_last = len(missing)
        if missing:
            text_of = dict(zip(keys, texts))
            missing.sort(key=lambda k: -len(text_of[k]))
            with tqdm(total=len(missing), desc="encoding", unit="text", file=sys.stderr,
                      disable=not progress) as bar:
                for start in range(0, len(missing), self.shard_size):
                    part = missing[start : start + self.shard_size]
                    vecs = np.zeros((len(part), self.encoder.dim), dtype=np.float32)
                    for b in range(0, len(part), batch_size):
                        vecs[b : b + batch_size] = self.encoder.encode_passages(
                            [text_of[k] for k in part[b : b + batch_size]], batch_size=batch_size)
                        bar.update(min(batch_size, len(part) - b))
                    self._write_shard(part, vecs)
                    have.update(zip(part, vecs))
        if not keys:
            return np.zeros((0, self.encoder.dim), dtype=np.float32)
        return np.stack([have[k] for k in keys]).astype(np.float32, copy=False)

    def _index(self) -> dict[str, tuple[Path, int]]:
        if self._where is None:
            self._where = {}
            # Shards are named by content, so their order says nothing; a text in two shards (a
            # re-encoding) takes the newer file's vector.
            paths = sorted(self.directory.glob("shard-*.npz"), key=lambda p: (p.stat().st_mtime_ns, p.name))
            for path in paths:
                keys = self._read(path, "keys")
                if keys is not None:
                    self._where.update((k, (path, i)) for i, k in enumerate(keys.tolist()))
        return self._where

    def _vectors(self, path: Path) -> np.ndarray | None:
        if path in self._loaded:
            self._loaded.move_to_end(path)
            return self._loaded[path]
        vectors = self._read(path, "vectors")
        if vectors is None:
            return None
        self._loaded[path] = vectors
        self._loaded_bytes += vectors.nbytes
        while self._loaded_bytes > self.max_bytes and len(self._loaded) > 1:
            _, dropped = self._loaded.popitem(last=False)
            self._loaded_bytes -= dropped.nbytes
        return vectors

    def _read(self, path: Path, name: str) -> np.ndarray | None:
        """One array of a shard, checked; None (and one warning) when the shard cannot be trusted."""
        try:
            with np.load(path, allow_pickle=False) as z:
                keys, vectors = (z["keys"], z["vectors"]) if name == "vectors" else (z["keys"], None)
            if vectors is None:
                shape, dtype = _array_header(path, "vectors.npy")  # checked without reading the vectors
            else:
                shape, dtype = vectors.shape, vectors.dtype
        except Exception as e:  # noqa: BLE001 - zipfile, zlib and numpy raise many types; all mean "re-encode"
            logger.warning("vector cache shard %s is unreadable (%s: %s); its texts are encoded again",
                           path, type(e).__name__, e)
            return None
        if keys.ndim != 1 or tuple(shape) != (len(keys), self.encoder.dim) or dtype != np.float32:
            logger.warning("vector cache shard %s holds %s keys and %s %s vectors, not %d-d float32 rows; "
                           "its texts are encoded again", path, keys.shape, shape, dtype, self.encoder.dim)
            return None
        return keys if name == "keys" else vectors

    def _write_shard(self, keys: list[str], vectors: np.ndarray) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        # Named by the hash of its keys: two processes encoding the same texts write the same shard.
        name = f"shard-{hashlib.sha256(''.join(keys).encode()).hexdigest()[:16]}.npz"
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        fsutil.write_atomic(self.directory / name, lambda f: np.savez(
            f, keys=np.array(keys, dtype="U20"), vectors=vectors))
        if self._where is not None:
            path = self.directory / name
            self._where.update((k, (path, i)) for i, k in enumerate(keys))
            if path in self._loaded:  # rewritten with new vectors: the old copy is stale
                self._loaded_bytes -= self._loaded.pop(path).nbytes


def _array_header(path: Path, member: str) -> tuple[tuple[int, ...], np.dtype]:
    """Shape and dtype of one array of an ``.npz`` from its ``.npy`` header alone (the data is not read)."""
    with zipfile.ZipFile(path) as zf, zf.open(member) as f:
        version = np.lib.format.read_magic(f)
        read = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
        shape, _fortran, dtype = read(f)
    return tuple(shape), dtype
