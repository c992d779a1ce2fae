"""Passage vectors of every quotable unit (sentence or sub-item) of the corpus, cached on disk.

The extractive answerer ranks units by cosine with the question and the citation guard compares
answer sentences with them; encoding ~1,000 units per question would take seconds, a dot product
takes microseconds. The cache is keyed by the encoder's fingerprint and each unit's text hash, so a
changed paragraph re-encodes only its own units, and a different model never reuses stale vectors.

The cache is only a cache: a file that is damaged, unreadable or another encoder's is logged in one
warning line and treated as missing (its units are encoded again and the file rewritten), never an
error. It is written through a temporary file and ``os.replace`` under a lock (``embeddings.fsutil``), so a
killed save leaves the previous cache; temporary files of saves that died are deleted.
"""

from __future__ import annotations

import logging
import math
from pathlib import Path

import numpy as np
from filelock import Timeout

from embeddings import fsutil
from rag.answer.units import Unit, paragraph_units
from rag.corpus.loader import Corpus
from rag.corpus.records import content_hash

log = logging.getLogger(__name__)

#: Temporary files of saves before they were named by the shared fsutil helpers (``tempfile.mkstemp`` defaults).
_LEGACY_TEMPS = "tmp*.npz.tmp"


def units_dir(settings) -> Path:
    """Where unit vectors are cached: beside the index (``data/index.units``), not inside it, because a
    rebuild swaps the index directory whole while most units stay unchanged."""
    d = settings.path(settings.index.dir)
    return d.with_name(d.name + ".units")


class UnitIndex:
    """Units per paragraph and their unit-length vectors. Cheap constructor; ``load()`` encodes/caches."""

    def __init__(self, corpus: Corpus, encoder, cache_dir: Path, batch_size: int = 64) -> None:
        self.corpus = corpus
        self.encoder = encoder
        self.cache_dir = Path(cache_dir)
        self.batch_size = batch_size
        self._units: dict[tuple[str, int], list[Unit]] = {}
        self._rows: dict[tuple[str, int], np.ndarray] = {}
        self.vectors = np.zeros((0, 0), dtype=np.float32)
        self.encoded = 0  # how many units the last load() had to encode (0 = all from cache)
        # Each paragraph's own text, encoded without the title/section prefix its chunk carries: the
        # retriever's second dense signal (retrieval.text_weight_*), measured to help English questions.
        self.paragraph_keys: list[tuple[str, int]] = []
        self.paragraph_vectors = np.zeros((0, 0), dtype=np.float32)
        self._idf: dict[str, float] = {}

    @property
    def cache_file(self) -> Path:
        return self.cache_dir / f"units-{self.encoder.fingerprint[:16]}.npz"

    def load(self, progress: bool = False, reuse: bool = True) -> "UnitIndex":
        """Split the corpus into units and get every vector: from the cache, else encoded (and cached).

        ``reuse=False`` ignores the cache and encodes everything (``uncac-qa ingest --rebuild``).
        """
        units: list[Unit] = []
        for p in self.corpus.paragraphs:
            us = paragraph_units(p)
            self._units[p.key] = us
            self._rows[p.key] = np.arange(len(units), len(units) + len(us))
            units += us
        paragraphs = list(self.corpus.paragraphs)
        texts = [u.text for u in units] + [p.text for p in paragraphs]
        keys = [content_hash(t, length=16) for t in texts]
        cached = self._read() if reuse else {}
        missing = sorted({k for k in keys if k not in cached})
        if missing:
            text_of = dict(zip(keys, texts))
            vecs = self.encoder.encode_passages([text_of[k] for k in missing], batch_size=self.batch_size, progress=progress)
            cached.update(zip(missing, vecs))
            self._save({k: cached[k] for k in dict.fromkeys(keys)})
        self.encoded = len(missing)
        dim = self.encoder.dim
        n = len(units)
        self.vectors = np.stack([cached[k] for k in keys[:n]]).astype(np.float32) if n else np.zeros((0, dim), np.float32)
        self.paragraph_keys = [p.key for p in paragraphs]
        self.paragraph_vectors = (np.stack([cached[k] for k in keys[n:]]).astype(np.float32) if paragraphs
                                  else np.zeros((0, dim), np.float32))
        return self

    def _read(self) -> dict[str, np.ndarray]:
        """The cached vectors by unit key; empty (and one warning) when the file cannot be trusted."""
        self._remove_stale_temps()
        path = self.cache_file
        if not path.is_file():
            return {}
        try:
            with np.load(path, allow_pickle=False) as z:
                keys, vectors = z["keys"], z["vectors"]
                fingerprint = str(z["fingerprint"]) if "fingerprint" in z.files else None  # absent before v2
        # np.load raises whatever zipfile, zlib and numpy's header parser raise on a damaged file; for a
        # cache any of them means the same: encode again.
        except Exception as e:  # noqa: BLE001
            reason = f"{e.strerror or e}" if isinstance(e, OSError) else f"{type(e).__name__}: {e}"
            log.warning("answer-unit cache %r is unreadable (%s); encoding its units again",
                        str(path), " ".join(reason.split()))
            return {}
        if fingerprint is not None and fingerprint != self.encoder.fingerprint:
            log.warning("answer-unit cache %r was written by another encoder (%s); encoding its units again",
                        str(path), fingerprint)
            return {}
        if not (keys.ndim == 1 and vectors.ndim == 2 and len(keys) == len(vectors)
                and vectors.shape[1] == self.encoder.dim and vectors.dtype == np.float32):
            log.warning("answer-unit cache %r holds %s keys and %s %s vectors, not one %d-d vector per key; "
                        "encoding its units again", str(path), keys.shape, vectors.shape, vectors.dtype, self.encoder.dim)
            return {}
        return dict(zip(keys.tolist(), vectors))

    def _save(self, entries: dict[str, np.ndarray]) -> None:
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        keys = np.array(list(entries), dtype="U16")
        vectors = np.stack(list(entries.values())).astype(np.float32, copy=False)
        with fsutil.lock(self.cache_dir):  # one writer at a time (`serve` and `ingest` may both save)
            fsutil.remove_stale_temps(self.cache_file, _LEGACY_TEMPS)
            fsutil.write_atomic(self.cache_file, lambda f: np.savez(
                f, keys=keys, vectors=vectors, fingerprint=np.array(self.encoder.fingerprint)))

    def _remove_stale_temps(self) -> None:
        """Delete temporaries of saves that died, if no save is running now (then it does it)."""
        if not fsutil.stale_temps(self.cache_file, _LEGACY_TEMPS):
            return
        try:
            with fsutil.lock(self.cache_dir, timeout=0):
                fsutil.remove_stale_temps(self.cache_file, _LEGACY_TEMPS)
        except (Timeout, OSError):  # a save is running, or the folder is read-only: leave them
            pass

    def idf(self, term: str) -> float:
        """Inverse document frequency of ``term`` over all units, ln(N / (1 + df)), floored at 0 (cached)."""
        if term not in self._idf:
            n = sum(len(us) for us in self._units.values())
            df = sum(term in u.text for us in self._units.values() for u in us)
            self._idf[term] = max(0.0, math.log(n / (1 + df))) if n else 0.0
        return self._idf[term]

    def units(self, key: tuple[str, int]) -> list[Unit]:
        return self._units.get(key, [])

    def unit_vectors(self, key: tuple[str, int]) -> np.ndarray:
        return self.vectors[self._rows[key]] if key in self._rows else np.zeros((0, self.vectors.shape[1]), np.float32)
