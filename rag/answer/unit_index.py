"""Passage vectors of every quotable unit (sentence or sub-item) of the corpus, cached on disk.

The extractive answerer ranks units by cosine with the question and the citation guard compares
answer sentences with them; encoding ~1,000 units per question would take seconds, a dot product
takes microseconds. The cache is keyed by the encoder's fingerprint and each unit's text hash, so a
changed paragraph re-encodes only its own units, and a different model never reuses stale vectors.
"""

from __future__ import annotations

import math
import os
import tempfile
from pathlib import Path

import numpy as np

from rag.answer.units import Unit, paragraph_units
from rag.corpus.loader import Corpus
from rag.corpus.records import content_hash


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

    def load(self, progress: bool = False) -> "UnitIndex":
        units: list[Unit] = []
        for p in self.corpus.paragraphs:
            us = paragraph_units(p)
            self._units[p.key] = us
            self._rows[p.key] = np.arange(len(units), len(units) + len(us))
            units += us
        paragraphs = list(self.corpus.paragraphs)
        texts = [u.text for u in units] + [p.text for p in paragraphs]
        keys = [content_hash(t, length=16) for t in texts]
        cached: dict[str, np.ndarray] = {}
        if self.cache_file.is_file():
            with np.load(self.cache_file, allow_pickle=False) as z:
                if z["vectors"].shape[0] == len(z["keys"]):
                    cached = dict(zip(z["keys"].tolist(), z["vectors"]))
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

    def _save(self, entries: dict[str, np.ndarray]) -> None:
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.cache_dir, suffix=".npz.tmp")
        try:
            with os.fdopen(fd, "wb") as f:
                np.savez(f, keys=np.array(list(entries), dtype="U16"), vectors=np.stack(list(entries.values())))
            os.replace(tmp, self.cache_file)  # atomic: a crash leaves the old cache or none
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

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
