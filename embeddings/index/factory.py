"""Pick and build the dense index backend from the ``IndexSettings`` (``index:`` of config.yaml).

'auto' follows the data: exact flat search up to ``flat_max`` vectors, IVF above (txtai's rule); 'flat',
'ivf' and 'hnsw' force a backend. A new backend is one sibling file plus one entry in ``BACKENDS``.

Example::

    index = create_dense_index("auto", n=374, dim=384, settings=IndexSettings())  # FlatIndex
    index = load_dense_index(path, "flat", IndexSettings())
"""

from __future__ import annotations

from pathlib import Path

from embeddings.index.base import DenseIndex
from embeddings.index.faiss_index import FlatIndex, HNSWIndex, IVFIndex, suggested_nlist
from embeddings.settings import IndexSettings
from embeddings.errors import ConfigError, IndexStateError, one_of

BACKENDS: dict[str, type[DenseIndex]] = {"flat": FlatIndex, "ivf": IVFIndex, "hnsw": HNSWIndex}
KINDS = ("auto", *BACKENDS)


def resolve_kind(kind: str, n: int, settings: IndexSettings) -> str:
    """The concrete backend for ``kind`` and a corpus of ``n`` vectors.

    >>> s = IndexSettings(flat_max=1000)
    >>> resolve_kind("auto", 1000, s), resolve_kind("auto", 1001, s), resolve_kind("hnsw", 5, s)
    ('flat', 'ivf', 'hnsw')
    """
    if kind == "auto":
        return "flat" if n <= settings.flat_max else "ivf"
    if kind not in BACKENDS:
        raise ConfigError(f"index kind {one_of(kind, KINDS)}")
    return kind


def _search_params(kind: str, settings: IndexSettings) -> dict:
    return {"ivf": {"nprobe": settings.ivf_nprobe}, "hnsw": {"ef_search": settings.hnsw_ef_search}}.get(kind, {})


def create_dense_index(
    kind: str, n: int, dim: int, settings: IndexSettings, *, build_threads: int = 2, search_threads: int = 1
) -> DenseIndex:
    """An empty index of the resolved kind, sized for ``n`` vectors of width ``dim``."""
    kind = resolve_kind(kind, n, settings)
    threads = {"build_threads": build_threads, "search_threads": search_threads}
    codec = {"compression": settings.compression, "pq_m": settings.pq_m}  # flat is exact: never compressed
    if kind == "ivf":
        return IVFIndex(dim, nlist=suggested_nlist(n), nprobe=settings.ivf_nprobe, **codec, **threads)
    if kind == "hnsw":
        return HNSWIndex(dim, m=settings.hnsw_m, ef_search=settings.hnsw_ef_search, **codec, **threads)
    return FlatIndex(dim, **threads)


def load_dense_index(path: str | Path, kind: str, settings: IndexSettings, *, search_threads: int = 1) -> DenseIndex:
    """Read a saved index of concrete ``kind``; the current settings' search parameters (nprobe,
    efSearch) apply, since they need no rebuild, and so does ``settings.mmap``; the compression is read
    from the file. IndexStateError when the file is unreadable."""
    if kind not in BACKENDS:
        raise IndexStateError(f"saved index kind {one_of(kind, BACKENDS)}; rebuild it with: uncac-qa ingest --rebuild")
    return BACKENDS[kind].load(path, search_threads=search_threads, mmap=settings.mmap, **_search_params(kind, settings))
