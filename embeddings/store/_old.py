"""The index directory on disk: build it atomically and incrementally, load it with every check.

Layout of ``settings.index.dir`` (default ``data/index``)::

    manifest.json   format, model id + fingerprint + dim, index kind, chunk ids + text hashes in order,
                    the chunking/index config used, build time, sha256 of every data file
    vectors.npy     float32 (n, dim) unit vectors, row i = chunk i (reused by the next build)
    dense.faiss     the FAISS index over those vectors
    bm25/           the BM25 index over the same chunks
    chunks.jsonl    the Chunk records, so the retriever serves without re-parsing the corpus

Atomic: a build writes into a temporary directory beside the target (same filesystem), fsyncs it, then
swaps it in with ``os.replace`` (the previous index waits as ``<dir>.old`` until the swap succeeded). An
exception or a crash mid-build leaves the previous index serving, untouched. A build holds the index's
lock (``.<dir>.lock`` beside it) from start to end, so two builds never interleave, and a crash between
the two renames is repaired by whoever comes next: :func:`recover_index` (every load) or the next build
moves ``<dir>.old`` back and deletes the temporary directories of builds that died.

Incremental: vectors of chunks whose embedded text is unchanged are copied from the previous index when
it was built by the same encoder (same fingerprint); only new or edited chunks are encoded.

Checked on load: a missing index, another model, a file whose sha256 differs from the manifest, an
unreadable FAISS/BM25 file, a file the process may not read, or mismatched counts each raise
IndexStateError naming the problem and the command that fixes it. Wrong vectors are never served
silently.

Example::

    report = build_index(chunks, encoder, settings, directory=settings.path(settings.index.dir))
    index = load_index(settings.path(settings.index.dir), encoder, settings)
    index.search_dense(encoder.encode_queries(["资产申报"]), k=5)   # [[(chunk_index, score), ...]]
    index.search_bm25(["资产申报"], k=5)
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
from filelock import Timeout

from embeddings.encoders.base import Encoder
from embeddings.index.base import DenseIndex
from embeddings.index.factory import create_dense_index, load_dense_index, resolve_kind
from embeddings.sparse.bm25 import TOKENIZER_VERSION, BM25Index
from rag import fsutil
from rag.config import ROOT, Settings
from rag.corpus.records import Chunk
from rag.errors import CorpusError, IndexStateError
from rag.fsutil import sha256_file

logger = logging.getLogger(__name__)

FORMAT_VERSION = 1
MANIFEST = "manifest.json"
VECTORS = "vectors.npy"
DENSE = "dense.faiss"
BM25_DIR = "bm25"
CHUNKS = "chunks.jsonl"
#: Which Chunk field BM25 indexes: the embedded text, so section titles are searchable words too.
BM25_FIELD = "embed_text"

BUILD_HINT = "build it with: uncac-qa ingest"
REBUILD_HINT = "rebuild it with: uncac-qa ingest --rebuild"
#: How long a load waits for a running build's lock before leaving the recovery to that build.
RECOVER_WAIT_S = 10.0


# --- records ----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class BuildReport:
    """What a build did; ``summary()`` is what ``uncac-qa ingest`` prints."""

    directory: Path
    documents: int
    paragraphs: int
    chunks: int
    encoded: int  # distinct chunk texts the encoder embedded in this build
    reused: int  # chunks whose vector was copied from the previous index
    removed: int  # chunks of the previous index that are gone
    seconds: float
    encode_seconds: float
    kind: str  # concrete dense index kind: flat / ivf / hnsw
    bytes: int  # size of the index directory

    def summary(self) -> str:
        return (
            f"indexed {self.documents} documents, {self.paragraphs} paragraphs, {self.chunks} chunks "
            f"({self.encoded} encoded, {self.reused} reused, {self.removed} removed) "
            f"in {self.seconds:.1f}s (encoding {self.encode_seconds:.1f}s); "
            f"{self.kind} index, {self.bytes / 1e6:.1f} MB at {display_path(self.directory)}"
        )


def text_hash(chunk: Chunk) -> str:
    """Hash of what the encoder sees for ``chunk``: equal hashes, equal vectors (same encoder)."""
    return hashlib.sha256(chunk.embed_text.encode("utf-8")).hexdigest()[:20]


def display_path(directory: Path) -> str:
    """``directory`` relative to the project root when inside it ('data/index'), else as is."""
    try:
        return str(Path(directory).resolve().relative_to(ROOT))
    except ValueError:
        return str(directory)


def _data_files(directory: Path) -> list[str]:
    """Relative names of every file under ``directory`` except the manifest, sorted."""
    return sorted(p.relative_to(directory).as_posix() for p in directory.rglob("*") if p.is_file() and p.name != MANIFEST)


def index_files(directory: str | Path) -> list[str]:
    """Relative names of every file a build stores in ``directory``: the manifest, then the data files
    it lists with their checksums (what the fault-injection tests break one by one). Empty when there
    is no readable manifest."""
    try:
        manifest = _read_manifest(Path(directory))
    except IndexStateError:
        return []
    return [MANIFEST, *sorted(manifest.get("files") or {})]


def _dir_bytes(directory: Path) -> int:
    return sum(p.stat().st_size for p in directory.rglob("*") if p.is_file())


# --- loaded index -----------------------------------------------------------------------------------

@dataclass
class LoadedIndex:
    """A validated index: chunks, their vectors, the dense and BM25 indexes, and the manifest.

    Row i of ``vectors``, id i of ``dense`` and ``bm25`` and ``chunks[i]`` are the same chunk.
    """

    directory: Path
    manifest: dict[str, Any]
    chunks: list[Chunk]
    vectors: np.ndarray
    dense: DenseIndex
    bm25: BM25Index
    _positions: dict[str, int] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._positions = {c.id: i for i, c in enumerate(self.chunks)}

    @property
    def kind(self) -> str:
        return self.manifest["index"]["kind"]

    def position(self, chunk_id: str) -> int | None:
        """Row of the chunk with this id, or None."""
        return self._positions.get(chunk_id)

    def search_dense(self, qvecs: np.ndarray, k: int) -> list[list[tuple[int, float]]]:
        """Top-``k`` chunks by cosine for each query vector row: ``[(chunk_index, score), ...]``."""
        scores, ids = self.dense.search(qvecs, k)
        return [[(i, s) for i, s in zip(irow, srow) if i >= 0] for irow, srow in zip(ids.tolist(), scores.tolist())]

    def search_bm25(self, queries: Sequence[str], k: int) -> list[list[tuple[int, float]]]:
        """Top-``k`` chunks by BM25 for each query text (empty list when no query word is indexed)."""
        return self.bm25.search(queries, k)

    def stale_reasons(self, chunks: Sequence[Chunk], settings: Settings | None = None) -> list[str]:
        """Why this index does not serve ``chunks`` (and, if given, ``settings``) as built now; empty
        when it is up to date. Search-time knobs (nprobe, efSearch) apply on load and need no rebuild."""
        reasons = []
        old = [tuple(x) for x in self.manifest["chunks"]]
        new = [(c.id, text_hash(c)) for c in chunks]
        if old != new:
            old_set, new_set = set(old), set(new)
            added, gone = len(new_set - old_set), len(old_set - new_set)
            reasons.append(
                f"the corpus changed ({added} new or edited chunks, {gone} removed)" if added or gone
                else "the chunk order changed"
            )
        if settings is not None:
            want = resolve_kind(settings.index.kind, len(chunks), settings.index)
            if want != self.kind:
                reasons.append(f"index kind is {self.kind!r}, the config asks for {want!r}")
            elif want == "hnsw" and self.manifest["index"]["config"].get("hnsw_m") != settings.index.hnsw_m:
                reasons.append(f"hnsw_m changed to {settings.index.hnsw_m}")
        return reasons

    def stale_against(self, chunks: Sequence[Chunk]) -> bool:
        """True when ``chunks`` (ids and texts, in order) differ from the indexed ones."""
        return bool(self.stale_reasons(chunks))


# --- load -------------------------------------------------------------------------------------------

def _old(directory: Path) -> Path:
    return directory.with_name(directory.name + ".old")


def _recover(directory: Path) -> Path | None:
    """The directory to read: ``directory``, or ``<dir>.old`` if a crash hit between the two renames
    (and :func:`recover_index` could not move it back)."""
    if (directory / MANIFEST).is_file():
        return directory
    return _old(directory) if _interrupted(directory) else None


def _interrupted(directory: Path) -> bool:
    """A build died between its two renames: no index, but a complete previous one as ``<dir>.old``."""
    return not directory.exists() and (_old(directory) / MANIFEST).is_file()


def recover_index(directory: str | Path, *, timeout: float = RECOVER_WAIT_S) -> bool:
    """Repair what a killed build left beside ``directory``; True when it restored the index.

    A build killed between its two renames leaves no ``directory`` but the previous index as
    ``<dir>.old``: that is moved back (one atomic rename, under the index lock, one warning line). The
    temporary directories of builds that died are deleted when no build holds the lock. Costs a
    ``stat`` and a listing of the parent folder when there is nothing to repair, so every load calls
    it (``Engine.load`` before it checks that the index exists).

    A running build holds the lock and will restore or replace the index itself: after ``timeout``
    seconds of waiting this gives up and returns False (``load_index`` then serves ``<dir>.old``).
    """
    directory = Path(directory)
    interrupted = _interrupted(directory)
    if not interrupted and not fsutil.stale_temps(directory):
        return False
    try:
        with fsutil.lock(directory, timeout=timeout if interrupted else 0):
            restored = _interrupted(directory)
            if restored:
                os.replace(_old(directory), directory)
                fsutil.fsync_path(directory.parent)
            fsutil.remove_stale_temps(directory)
    except (Timeout, OSError) as e:  # a build is running, or the folder is read-only: serve as it is
        logger.info("index at %s not repaired now (%s)", display_path(directory), e)
        return False
    if restored:
        where = display_path(directory)
        logger.warning("index at %r was missing after a build stopped between its two renames; "
                       "restored the previous index from %r", where, where + ".old")
    return restored


def read_manifest(directory: str | Path) -> dict[str, Any] | None:
    """The manifest of the index in ``directory`` (None when there is none), without loading or
    checking the data files. IndexStateError when it is unreadable."""
    source = _recover(Path(directory))
    return _read_manifest(source) if source is not None else None


def _read_manifest(directory: Path) -> dict[str, Any]:
    where = display_path(directory)
    try:
        manifest = json.loads((directory / MANIFEST).read_text(encoding="utf-8"))
    except PermissionError as e:
        raise _unreadable(where, MANIFEST, e) from None
    except (OSError, ValueError) as e:
        raise IndexStateError(f"index at {where!r} is corrupted: {MANIFEST} is unreadable ({e}); {REBUILD_HINT}") from None
    except RecursionError:
        raise _corrupted(where, f"{MANIFEST} is nested too deeply to be a manifest") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT_VERSION:
        found = manifest.get("format") if isinstance(manifest, dict) else None
        raise IndexStateError(
            f"index at {where!r} has format {found!r}, this version reads format {FORMAT_VERSION}; {REBUILD_HINT}"
        )
    return manifest


def _check_encoder(manifest: Mapping[str, Any], encoder: Encoder, where: str) -> None:
    built = manifest["encoder"]
    have = {"model_id": encoder.model_id, "dim": encoder.dim, "fingerprint": encoder.fingerprint}
    for key in ("model_id", "dim", "fingerprint"):
        if built.get(key) != have[key]:
            old_fp, new_fp = str(built.get("fingerprint")), str(have["fingerprint"])
            n = 12 if old_fp[:12] != new_fp[:12] else max(len(old_fp), len(new_fp))  # short, yet distinct
            raise IndexStateError(
                f"index at {where!r} was built with model {built.get('model_id')!r} (dim {built.get('dim')}, "
                f"fingerprint {old_fp[:n]}), but the configured encoder is "
                f"{have['model_id']!r} (dim {have['dim']}, fingerprint {new_fp[:n]}): "
                f"its {key} differs; {REBUILD_HINT}"
            )


def _corrupted(where: str, detail: str) -> IndexStateError:
    return IndexStateError(f"index at {where!r} is corrupted: {detail}; {REBUILD_HINT}")


def _unreadable(where: str, name: str, e: OSError) -> IndexStateError:
    """A file this process may not read: its permissions, not its content, are the likely problem."""
    return IndexStateError(
        f"index at {where!r}: cannot read {name} ({e.strerror or e}); check its permissions, or {REBUILD_HINT}"
    )


def _verify_files(directory: Path, manifest: Mapping[str, Any], where: str) -> None:
    files = manifest.get("files") or {}
    for name in (VECTORS, DENSE, CHUNKS):
        if name not in files:
            raise _corrupted(where, f"the manifest lists no {name}")
    for name, digest in files.items():
        path = directory / name
        if not path.is_file():
            raise _corrupted(where, f"{name} is missing")
        try:
            actual = sha256_file(path)
        except PermissionError as e:
            raise _unreadable(where, name, e) from None
        except OSError as e:
            raise _corrupted(where, f"{name} is unreadable ({e.strerror or e})") from None
        if actual != digest:
            raise _corrupted(where, f"{name} does not match its checksum in {MANIFEST}")


def _read_chunks(path: Path, where: str) -> list[Chunk]:
    chunks = []
    n = 0
    try:
        with path.open(encoding="utf-8") as f:
            for n, line in enumerate(f, 1):
                chunks.append(Chunk(**json.loads(line)))
    except PermissionError as e:
        raise _unreadable(where, CHUNKS, e) from None
    except (OSError, ValueError, TypeError, RecursionError) as e:  # ValueError: bad UTF-8 or JSON
        raise _corrupted(where, f"{CHUNKS} line {n + 1} is not a chunk record ({type(e).__name__})") from None
    return chunks


def load_index(directory: str | Path, encoder: Encoder, settings: Settings, *, verify: bool = True) -> LoadedIndex:
    """Load and validate the index in ``directory`` for ``encoder`` (loaded here if it is not yet).

    Args:
        directory: the index directory (usually ``settings.path(settings.index.dir)``).
        encoder: the encoder that will embed questions; its model id, dim and fingerprint must match.
        settings: search-time parameters (nprobe, efSearch, query threads) come from here.
        verify: check every file's sha256 against the manifest (milliseconds at this corpus size).

    Raises:
        IndexStateError: missing index ("build it with: uncac-qa ingest"), another model or a corrupted
        file ("rebuild it with: uncac-qa ingest --rebuild").
    """
    directory = Path(directory)
    where = display_path(directory)
    recover_index(directory)
    source = _recover(directory)
    if source is None:
        if directory.is_dir() and any(directory.iterdir()):  # data files without the manifest that lists them
            raise _corrupted(where, f"{MANIFEST} is missing")
        raise IndexStateError(f"no index at {where!r}; {BUILD_HINT}")
    if source != directory:
        logger.warning("index at %s was being replaced when a build stopped; serving %s", where, source)
    manifest = _read_manifest(source)
    try:
        _check_encoder(manifest, encoder, where)
        if verify:
            _verify_files(source, manifest, where)
        n, dim = int(manifest["n_chunks"]), int(manifest["encoder"]["dim"])
        ids = [c[0] for c in manifest["chunks"]]
        kind = manifest["index"]["kind"]
    except (KeyError, TypeError, ValueError, IndexError) as e:
        raise _corrupted(where, f"{MANIFEST} lacks a field ({type(e).__name__}: {e})") from None
    try:
        vectors = np.load(source / VECTORS, allow_pickle=False)
    except PermissionError as e:
        raise _unreadable(where, VECTORS, e) from None
    except (OSError, ValueError, EOFError) as e:
        raise _corrupted(where, f"{VECTORS} is unreadable ({e})") from None
    if vectors.shape != (n, dim) or vectors.dtype != np.float32:
        raise _corrupted(where, f"{VECTORS} holds {vectors.shape} {vectors.dtype}, the manifest says ({n}, {dim}) float32")
    try:
        dense = load_dense_index(source / DENSE, kind, settings.index, search_threads=settings.embeddings.query_threads)
        bm25 = BM25Index.load(source / BM25_DIR)
    except IndexStateError as e:
        raise _corrupted(where, str(e)) from None
    chunks = _read_chunks(source / CHUNKS, where)
    counts = {"chunks.jsonl": len(chunks), "dense.faiss": dense.ntotal, "bm25": len(bm25), "manifest ids": len(ids)}
    if any(c != n for c in counts.values()) or dense.dim != dim:
        raise _corrupted(where, f"counts disagree: {counts}, expected {n} of dim {dim}")
    if [c.id for c in chunks] != ids:
        raise _corrupted(where, f"{CHUNKS} does not hold the chunks the manifest lists")
    return LoadedIndex(source, manifest, chunks, vectors, dense, bm25)


# --- build ------------------------------------------------------------------------------------------

def _previous(directory: Path, encoder: Encoder) -> tuple[dict[str, np.ndarray], set[str]]:
    """Reusable vectors of the previous index keyed by text hash, and its chunk ids.

    Anything wrong with it (another encoder, damaged files) means nothing is reused; it is never an
    error, since this build replaces it.
    """
    source = _recover(directory)
    if source is None:
        return {}, set()
    try:
        manifest = _read_manifest(source)
        old_ids = {c[0] for c in manifest["chunks"]}
        enc = manifest["encoder"]
        if (enc["model_id"], enc["dim"], enc["fingerprint"]) != (encoder.model_id, encoder.dim, encoder.fingerprint):
            logger.info("previous index was built by another encoder: re-encoding everything")
            return {}, old_ids
        if sha256_file(source / VECTORS) != manifest["files"][VECTORS]:
            raise ValueError(f"{VECTORS} checksum mismatch")
        vectors = np.load(source / VECTORS, allow_pickle=False)
        hashes = [c[1] for c in manifest["chunks"]]
        if vectors.shape != (len(hashes), enc["dim"]):
            raise ValueError(f"{VECTORS} shape {vectors.shape}")
        return dict(zip(hashes, vectors)), old_ids
    except (IndexStateError, OSError, ValueError, EOFError, KeyError, TypeError, IndexError) as e:
        logger.warning("previous index at %s is not reusable (%s): re-encoding everything", display_path(directory), e)
        return {}, set()


def _encode(texts: list[str], encoder: Encoder, batch_size: int, progress: bool) -> np.ndarray:
    """Encode in batches of similar length (less padding), with a progress bar on stderr."""
    from tqdm import tqdm

    out = np.zeros((len(texts), encoder.dim), dtype=np.float32)
    order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
    with tqdm(total=len(texts), desc="encoding", unit="chunk", file=sys.stderr, disable=not (progress and texts)) as bar:
        for start in range(0, len(order), batch_size):
            rows = order[start : start + batch_size]
            out[rows] = encoder.encode_passages([texts[i] for i in rows], batch_size=batch_size)
            bar.update(len(rows))
    return out


def _write_json(path: Path, obj: Any) -> None:
    path.write_text(json.dumps(obj, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")


def _write_tree(tmp: Path, chunks: Sequence[Chunk], vectors: np.ndarray, dense: DenseIndex, bm25: BM25Index,
                manifest: dict[str, Any]) -> None:
    """Every file into ``tmp``; the manifest (with the data files' checksums) last; all fsynced."""
    np.save(tmp / VECTORS, vectors, allow_pickle=False)
    dense.save(tmp / DENSE)
    bm25.save(tmp / BM25_DIR)
    with (tmp / CHUNKS).open("w", encoding="utf-8") as f:
        for c in chunks:
            f.write(json.dumps(asdict(c), ensure_ascii=False) + "\n")
    manifest["files"] = {name: sha256_file(tmp / name) for name in _data_files(tmp)}
    _write_json(tmp / MANIFEST, manifest)
    for p in sorted(tmp.rglob("*"), key=lambda p: -len(p.parts)):  # files and sub-dirs, deepest first
        fsutil.fsync_path(p)
    fsutil.fsync_path(tmp)


def _swap(tmp: Path, directory: Path) -> None:
    """Replace ``directory`` by ``tmp`` (with the index lock held). Two renames (a directory cannot
    replace a non-empty one); a crash between them leaves ``<dir>.old`` in place, which
    :func:`recover_index` or the next build moves back."""
    old = _old(directory)
    if old.exists():
        shutil.rmtree(old)
    if directory.exists():
        os.replace(directory, old)
    try:
        os.replace(tmp, directory)
    except BaseException:
        if old.exists() and not directory.exists():
            os.replace(old, directory)
        raise
    fsutil.fsync_path(directory.parent)
    shutil.rmtree(old, ignore_errors=True)


def _clean_leftovers(directory: Path) -> None:
    """Restore ``<dir>.old`` after a crash mid-swap; remove temp dirs of builds that died (with the
    index lock held, so none of them is a live build's)."""
    if _interrupted(directory):
        os.replace(_old(directory), directory)
        logger.warning("restored the index at %r from %r, left by a build that stopped", display_path(directory),
                       display_path(_old(directory)))
    fsutil.remove_stale_temps(directory)


@contextlib.contextmanager
def _build_lock(directory: Path) -> Iterator[None]:
    """Hold the index lock for a whole build; say so when another build holds it and this one waits."""
    lock = fsutil.lock(directory)
    try:
        lock.acquire(timeout=0)
    except Timeout:
        logger.warning("another build of the index at %r is running; waiting for it to finish", display_path(directory))
        lock.acquire()
    try:
        yield
    finally:
        lock.release()


def build_index(
    chunks: Sequence[Chunk],
    encoder: Encoder,
    settings: Settings,
    *,
    directory: str | Path | None = None,
    progress: bool = False,
    reuse: bool = True,
    meta: Mapping[str, Any] | None = None,
) -> BuildReport:
    """Embed ``chunks`` and write the dense + BM25 index to ``directory``, atomically.

    Args:
        chunks: the chunks to index, in order (ids become positions 0..n-1).
        encoder: passage encoder; loaded here if it is not yet.
        settings: chunking config (recorded), index kind and parameters, batch size, build threads.
        directory: target (default ``settings.index.dir``); its parent is created.
        progress: show a tqdm bar over encoding on stderr.
        reuse: copy vectors of unchanged chunks from the previous index (False: encode everything).
        meta: extra JSON-able facts stored in the manifest under "meta" (e.g. user files added).

    Returns a BuildReport. On any exception the previous index is left as it was. Waits (saying so on
    the log) while another build of the same directory runs.
    """
    t0 = time.perf_counter()
    if not chunks:
        raise CorpusError("nothing to index: the corpus yielded no chunks")
    seen: set[str] = set()
    for c in chunks:
        if c.id in seen:
            raise CorpusError(f"chunk id {c.id!r} occurs twice; every chunk must be unique")
        seen.add(c.id)
    directory = Path(directory) if directory is not None else settings.path(settings.index.dir)
    directory.parent.mkdir(parents=True, exist_ok=True)
    with _build_lock(directory):
        _clean_leftovers(directory)

        encoder.load()
        dim = encoder.dim
        previous, old_ids = _previous(directory, encoder)
        if not reuse:
            previous = {}
        hashes = [text_hash(c) for c in chunks]
        first: dict[str, int] = {}  # text hash -> first chunk with it, for texts not in the previous index
        for i, h in enumerate(hashes):
            if h not in previous:
                first.setdefault(h, i)
        todo = list(first.values())
        t_enc = time.perf_counter()
        fresh = _encode([chunks[i].embed_text for i in todo], encoder, settings.embeddings.batch_size, progress)
        encode_seconds = time.perf_counter() - t_enc
        by_hash = {hashes[i]: fresh[j] for j, i in enumerate(todo)}
        vectors = np.stack([by_hash[h] if h in by_hash else previous[h] for h in hashes]).astype(np.float32, copy=False)
        encoded, reused = len(todo), sum(h in previous for h in hashes)

        dense = create_dense_index(
            settings.index.kind, len(chunks), dim, settings.index,
            build_threads=settings.embeddings.index_threads, search_threads=settings.embeddings.query_threads,
        )
        dense.add(vectors)
        bm25 = BM25Index.build([getattr(c, BM25_FIELD) for c in chunks])

        n_docs = len({c.doc_id for c in chunks})
        n_paras = len({c.paragraph_id for c in chunks})
        manifest: dict[str, Any] = {
            "format": FORMAT_VERSION,
            "encoder": {"model_id": encoder.model_id, "fingerprint": encoder.fingerprint, "dim": dim},
            "index": {
                "kind": dense.kind,
                "config": settings.index.model_dump(mode="json", exclude={"dir"}),
                **({"nlist": int(dense.nlist)} if hasattr(dense, "nlist") else {}),
            },
            "bm25": {"field": BM25_FIELD, "tokenizer": TOKENIZER_VERSION},
            "chunking": settings.chunking.model_dump(mode="json"),
            "n_documents": n_docs,
            "n_paragraphs": n_paras,
            "n_chunks": len(chunks),
            "built_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "encode_seconds": round(encode_seconds, 3),
            "meta": dict(meta or {}),
            "chunks": [[c.id, h] for c, h in zip(chunks, hashes)],
        }
        tmp = Path(tempfile.mkdtemp(prefix=fsutil.temp_prefix(directory), dir=directory.parent))
        try:
            _write_tree(tmp, chunks, vectors, dense, bm25, manifest)
            _swap(tmp, directory)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        return BuildReport(
            directory=directory, documents=n_docs, paragraphs=n_paras, chunks=len(chunks), encoded=encoded,
            reused=reused, removed=len(old_ids - seen), seconds=time.perf_counter() - t0,
            encode_seconds=encode_seconds, kind=dense.kind, bytes=_dir_bytes(directory),
        )
