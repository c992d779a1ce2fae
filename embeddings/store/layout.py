"""The index directory's on-disk format: its file names, the manifest, and the checks on both.

Layout of an index directory (``data/index`` by default)::

    manifest.json   format, model id + fingerprint + dim, index kind, the digest of the ordered chunk
                    ids + text hashes, the chunking/index config used, build time, sha256, size and
                    mtime of every data file
    vectors.npy     float32 (n, dim) unit vectors, row i = chunk i (memory-mapped on load; reused by
                    the next build)
    dense.faiss     the FAISS index over those vectors
    bm25/           the BM25 index over the same chunks
    chunks.sqlite   the chunk records by row, with their ids and text hashes (read on demand, see
                    :mod:`embeddings.store.chunk_store`), so the retriever serves without re-parsing

Format 1 (before chunks.sqlite) kept the records in chunks.jsonl and the ids + hashes in the manifest:
such an index is not served ("has format 1, ...; rebuild it with: uncac-qa ingest --rebuild"), but its
manifest is still read (:func:`read_manifest`: the added documents) and ``ingest`` reuses its vectors.

Loading checks the data files against the manifest (:func:`verify_files`): ``"full"`` hashes every
file (about 0.7 GB/s here: ~6 s for a million chunks), ``"quick"`` hashes only the files whose size
or mtime differ from what the build recorded (a stat per file when nothing changed; a file changed in
place gets a new mtime, so it is still hashed and caught).

Every problem found here is an IndexStateError that names the index (:func:`display_path`), the
problem and the command that fixes it (``BUILD_HINT``, ``REBUILD_HINT``).

Example:

>>> display_path(Path("/srv/app/data/index"), root=Path("/srv/app"))
'data/index'
>>> str(corrupted("data/index", "vectors.npy is missing"))
"index at 'data/index' is corrupted: vectors.npy is missing; rebuild it with: uncac-qa ingest --rebuild"
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from embeddings.errors import IndexStateError
from embeddings.fsutil import aside, sha256_file

FORMAT_VERSION = 2
#: Formats whose manifest :func:`read_manifest` still reads (the added documents, the vectors to reuse).
READABLE_FORMATS = (1, 2)
MANIFEST = "manifest.json"
VECTORS = "vectors.npy"
DENSE = "dense.faiss"
BM25_DIR = "bm25"
CHUNKS = "chunks.sqlite"
#: Where format 1 kept the records (one JSON line each).
LEGACY_CHUNKS = "chunks.jsonl"
#: How :func:`verify_files` checks the data files: hash all, or only those whose size/mtime changed.
VERIFY_MODES = ("full", "quick")
#: Which record field BM25 indexes: the embedded text, so section titles are searchable words too.
BM25_FIELD = "embed_text"

BUILD_HINT = "build it with: uncac-qa ingest"
REBUILD_HINT = "rebuild it with: uncac-qa ingest --rebuild"


def display_path(directory: str | Path, root: Path | None = None) -> str:
    """``directory`` relative to ``root`` (the project root) when inside it ('data/index'), else as is."""
    if root is not None:
        try:
            return str(Path(directory).resolve().relative_to(root))
        except ValueError:
            pass
    return str(directory)


def token_cache_path(directory: str | Path) -> Path:
    """The BM25 token cache of the index at ``directory`` (:class:`embeddings.sparse.token_cache.TokenCache`):
    ``<dir>.tokens.sqlite`` beside it, outside what a rebuild swaps.

    >>> token_cache_path("data/index").as_posix()
    'data/index.tokens.sqlite'
    """
    directory = Path(directory)
    return directory.with_name(directory.name + ".tokens.sqlite")


def vector_cache_dir(directory: str | Path) -> Path:
    """The passage-vector cache of the index at ``directory`` (:class:`embeddings.store.vector_cache.VectorCache`):
    ``<dir>.vectors`` beside it, outside what a rebuild swaps, shared by the index build and the
    answer-unit vectors.

    >>> vector_cache_dir("data/index").as_posix()
    'data/index.vectors'
    """
    directory = Path(directory)
    return directory.with_name(directory.name + ".vectors")


def data_files(directory: Path) -> list[str]:
    """Relative names of every file under ``directory`` except the manifest, sorted."""
    return sorted(p.relative_to(directory).as_posix() for p in directory.rglob("*") if p.is_file() and p.name != MANIFEST)


def index_files(directory: str | Path) -> list[str]:
    """Relative names of every file a build stores in ``directory``: the manifest, then the data files
    it lists with their checksums (what the fault-injection tests break one by one). Empty when there
    is no readable manifest."""
    try:
        manifest = read_manifest_file(Path(directory), formats=READABLE_FORMATS)
    except IndexStateError:
        return []
    return [MANIFEST, *sorted(manifest.get("files") or {})]


def dir_bytes(directory: Path) -> int:
    return sum(p.stat().st_size for p in directory.rglob("*") if p.is_file())


def interrupted(directory: Path) -> bool:
    """A build died between its two renames: no index, but a complete previous one as ``<dir>.old``."""
    return not directory.exists() and (aside(directory) / MANIFEST).is_file()


def source_of(directory: Path) -> Path | None:
    """The directory to read: ``directory``, or ``<dir>.old`` if a crash hit between the two renames
    (and ``recover_index`` could not move it back); None when there is no index."""
    if (directory / MANIFEST).is_file():
        return directory
    return aside(directory) if interrupted(directory) else None


def read_manifest(directory: str | Path, *, root: Path | None = None) -> dict[str, Any] | None:
    """The manifest of the index in ``directory`` (None when there is none), without loading or
    checking the data files. IndexStateError (naming the index relative to ``root``) when it is
    unreadable."""
    source = source_of(Path(directory))
    return read_manifest_file(source, display_path(source, root), formats=READABLE_FORMATS) if source is not None else None


def read_manifest_file(directory: Path, where: str | None = None, *,
                       formats: tuple[int, ...] = (FORMAT_VERSION,)) -> dict[str, Any]:
    """The manifest in ``directory``, checked to be a JSON object of one of ``formats`` (by default
    this ``FORMAT_VERSION``: what loading serves)."""
    where = where or display_path(directory)
    try:
        manifest = json.loads((directory / MANIFEST).read_text(encoding="utf-8"))
    except PermissionError as e:
        raise unreadable(where, MANIFEST, e) from None
    except (OSError, ValueError) as e:
        raise IndexStateError(f"index at {where!r} is corrupted: {MANIFEST} is unreadable ({e}); {REBUILD_HINT}") from None
    except RecursionError:
        raise corrupted(where, f"{MANIFEST} is nested too deeply to be a manifest") from None
    if not isinstance(manifest, dict) or manifest.get("format") not in formats:
        found = manifest.get("format") if isinstance(manifest, dict) else None
        raise IndexStateError(
            # A plain ingest converts it and keeps every vector (only --rebuild would encode them again).
            f"index at {where!r} has format {found!r}, this version reads format {FORMAT_VERSION}; "
            "update it with: uncac-qa ingest (its vectors are reused)"
        )
    return manifest


def write_json(path: Path, obj: Any) -> None:
    path.write_text(json.dumps(obj, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")


def corrupted(where: str, detail: str) -> IndexStateError:
    return IndexStateError(f"index at {where!r} is corrupted: {detail}; {REBUILD_HINT}")


def unreadable(where: str, name: str, e: OSError) -> IndexStateError:
    """A file this process may not read: its permissions, not its content, are the likely problem."""
    return IndexStateError(
        f"index at {where!r}: cannot read {name} ({e.strerror or e}); check its permissions, or {REBUILD_HINT}"
    )


def file_stat(path: Path) -> list[int]:
    """[size, mtime_ns] of a file: what ``"quick"`` verification compares (the manifest's "stats")."""
    st = path.stat()
    return [st.st_size, st.st_mtime_ns]


def verify_files(directory: Path, manifest: Mapping[str, Any], where: str, mode: str = "full") -> list[str]:
    """Every data file the manifest lists is there, readable, and matches its sha256; returns the
    names it hashed.

    ``mode`` "full" hashes every file; "quick" hashes only those whose [size, mtime_ns] differ from
    the manifest's "stats" (a copy that kept mtimes costs a stat per file; ``cp`` without ``-p``,
    or an edit in place, makes it hash that file).
    """
    if mode not in VERIFY_MODES:
        raise ValueError(f"verify mode {mode!r} is not supported, must be one of {VERIFY_MODES}")
    files = manifest.get("files") or {}
    stats = manifest.get("stats") or {}
    for name in (VECTORS, DENSE, CHUNKS):
        if name not in files:
            raise corrupted(where, f"the manifest lists no {name}")
    hashed = []
    for name, digest in files.items():
        if check_file(directory, name, digest, stats.get(name), where, mode):
            hashed.append(name)
    return hashed


def check_file(directory: Path, name: str, digest: str, stat: list[int] | None, where: str, mode: str = "full") -> bool:
    """One data file of :func:`verify_files`: there, readable, and (hashed unless ``mode`` is "quick"
    and its ``stat`` is unchanged) equal to ``digest``. True when it was hashed."""
    path = directory / name
    if not path.is_file():
        raise corrupted(where, f"{name} is missing")
    try:
        if mode == "quick" and stat is not None and file_stat(path) == list(stat):
            return False
        actual = sha256_file(path)
    except PermissionError as e:
        raise unreadable(where, name, e) from None
    except OSError as e:
        raise corrupted(where, f"{name} is unreadable ({e.strerror or e})") from None
    if actual != digest:
        raise corrupted(where, f"{name} does not match its checksum in {MANIFEST}")
    return True
