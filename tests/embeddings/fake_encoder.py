"""A deterministic stand-in for the real encoder: character bigrams hashed into 64 dimensions.

Texts that share many bigrams get close vectors, so retrieval tests have meaningful neighbours without
a model. ``calls`` counts the passages encoded, for the incremental-indexing tests.
"""

from __future__ import annotations

import zlib

import numpy as np

from embeddings.encoders.base import Encoder, Kind


class HashEncoder(Encoder):
    """Bag of hashed character bigrams (plus unigrams), 64-d, unit length."""

    model_id = "test/hash-bigrams"

    def __init__(self, dim: int = 64, salt: str = "", fail_after: int | None = None) -> None:
        super().__init__()
        self._dim, self.salt, self.fail_after = dim, salt, fail_after
        self.calls = 0  # passages encoded so far
        self.batches = 0

    @property
    def dim(self) -> int:
        return self._dim

    @property
    def fingerprint(self) -> str:
        return f"hash-bigrams-{self._dim}{'-' + self.salt if self.salt else ''}"

    def _encode(self, texts: list[str], kind: Kind, batch_size: int, progress: bool) -> np.ndarray:
        if kind == "passage":
            if self.fail_after is not None and self.calls + len(texts) > self.fail_after:
                raise RuntimeError("simulated crash while encoding")
            self.calls += len(texts)
            self.batches += 1
        out = np.zeros((len(texts), self._dim), dtype=np.float32)
        for row, text in enumerate(texts):
            grams = list(text) + [text[i : i + 2] for i in range(len(text) - 1)]
            for g in grams:
                h = zlib.crc32((self.salt + g).encode("utf-8"))
                out[row, h % self._dim] += 1.0 if (h >> 16) & 1 else -1.0
            if not out[row].any():
                out[row, 0] = 1.0
        return out
