"""The index directory's on-disk format: its file names, the manifest, and the checks on both.

Layout of an index directory (``data/index`` by default)::

    manifest.json   format, model id + fingerprint + dim, index kind, chunk ids + text hashes in order,
                    the chunking/index config used, build time, sha256 of every data file
    vectors.npy     float32 (n, dim) unit vectors, row i = chunk i (reused by the next build)
    dense.faiss     the FAISS index over those vectors
    bm25/           the BM25 index over the same chunks
    chunks.jsonl    the chunk records, so the retriever serves without re-parsing the corpus

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

FORMAT_VERSION = 1
MANIFEST = "manifest.json"
VECTORS = "vectors.npy"
DENSE = "dense.faiss"
BM25_DIR = "bm25"
CHUNKS = "chunks.jsonl"
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


def data_files(directory: Path) -> list[str]:
    """Relative names of every file under ``directory`` except the manifest, sorted."""
    return sorted(p.relative_to(directory).as_posix() for p in directory.rglob("*") if p.is_file() and p.name != MANIFEST)


def index_files(directory: str | Path) -> list[str]:
    """Relative names of every file a build stores in ``directory``: the manifest, then the data files
    it lists with their checksums (what the fault-injection tests break one by one). Empty when there
    is no readable manifest."""
    try:
        manifest = read_manifest_file(Path(directory))
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
    return read_manifest_file(source, display_path(source, root)) if source is not None else None


def read_manifest_file(directory: Path, where: str | None = None) -> dict[str, Any]:
    """The manifest in ``directory``, checked to be a JSON object of this ``FORMAT_VERSION``."""
    where = where or display_path(directory)
    try:
        manifest = json.loads((directory / MANIFEST).read_text(encoding="utf-8"))
    except PermissionError as e:
        raise unreadable(where, MANIFEST, e) from None
    except (OSError, ValueError) as e:
        raise IndexStateError(f"index at {where!r} is corrupted: {MANIFEST} is unreadable ({e}); {REBUILD_HINT}") from None
    except RecursionError:
        raise corrupted(where, f"{MANIFEST} is nested too deeply to be a manifest") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT_VERSION:
        found = manifest.get("format") if isinstance(manifest, dict) else None
        raise IndexStateError(
            f"index at {where!r} has format {found!r}, this version reads format {FORMAT_VERSION}; {REBUILD_HINT}"
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


def verify_files(directory: Path, manifest: Mapping[str, Any], where: str) -> None:
    """Every data file the manifest lists is there, readable, and matches its sha256."""
    files = manifest.get("files") or {}
    for name in (VECTORS, DENSE, CHUNKS):
        if name not in files:
            raise corrupted(where, f"the manifest lists no {name}")
    for name, digest in files.items():
        path = directory / name
        if not path.is_file():
            raise corrupted(where, f"{name} is missing")
        try:
            actual = sha256_file(path)
        except PermissionError as e:
            raise unreadable(where, name, e) from None
        except OSError as e:
            raise corrupted(where, f"{name} is unreadable ({e.strerror or e})") from None
        if actual != digest:
            raise corrupted(where, f"{name} does not match its checksum in {MANIFEST}")
