"""The index's records in SQLite (``chunks.sqlite``), read on demand: a million chunks load in
milliseconds and cost memory only for the rows a search touches.

One table, one row per chunk, ``row`` = its position (row i of vectors.npy, id i of FAISS and BM25)::

    chunks(row INTEGER PRIMARY KEY, id TEXT UNIQUE, hash TEXT, doc_id TEXT, paragraph_id TEXT, record TEXT)

``hash`` is :func:`embeddings.records.text_hash` (what the encoder saw), ``record`` the record's
``dataclasses.asdict`` JSON. ``doc_id`` and ``paragraph_id`` are indexed, so the rows of a document
filter (FAISS ``IDSelector``, BM25 mask) come from an index lookup, not a scan of every record.

The file is written once by :func:`write_chunks` inside a build's temporary directory and never changed
after (a rebuild swaps the whole directory in), so readers open it ``immutable`` (no locks, no journal:
it also works on a read-only mount). :class:`ChunkStore` keeps one connection per thread (sqlite3
connections must not cross threads) and a bounded LRU cache of parsed records.

The ordered (id, hash) list is what decides whether an index is stale; :func:`chunk_digest` reduces it
to one sha256 the manifest keeps, so an unchanged corpus is one digest comparison on load.

Example::

    summary = write_chunks(tmp / "chunks.sqlite", chunks)         # ChunkSummary(n=374, ..., digest='9f…')
    store = ChunkStore(tmp / "chunks.sqlite", Chunk, where="data/index")
    store[3], store[10:12], len(store)                             # records, read on demand
    store.position(chunks[3].id)                                   # 3
    store.rows_of_docs({"wg4-2019-l1-add1"})                       # array([0, 1, ..., 57]) sorted int64
    chunk_digest(store.ids_and_hashes()) == summary.digest         # True
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Generic, TypeVar, overload
from urllib.parse import quote

import numpy as np

from embeddings.errors import CorpusError, IndexStateError
from embeddings.records import IndexRecord, text_hash
from embeddings.store.layout import corrupted, unreadable

R = TypeVar("R", bound=IndexRecord)

#: Records written per INSERT batch and read per SELECT while iterating: large enough that SQLite's
#: per-statement cost vanishes, small enough that a batch of parsed records stays a few MB.
BATCH = 2048
#: Parsed records kept by a :class:`ChunkStore`: a search touches a few hundred rows, so this holds the
#: hits of the last few dozen questions (a few MB) without growing with the corpus.
CACHE_SIZE = 8192
#: SQLite caps the ``?`` parameters of one statement (32,766 since 3.32; 999 before): ids are looked up
#: in groups of this many.
MAX_PARAMS = 900

_SCHEMA = """
CREATE TABLE chunks (
    row INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    hash TEXT NOT NULL,
    doc_id TEXT NOT NULL,
    paragraph_id TEXT NOT NULL,
    record TEXT NOT NULL
);
"""
# Built after the rows are in: one sorted build is several times faster than updating them per insert.
_INDEXES = (
    "CREATE INDEX chunks_doc ON chunks(doc_id)",
    "CREATE INDEX chunks_paragraph ON chunks(paragraph_id)",
)


def chunk_digest(pairs: Iterable[tuple[str, str]]) -> str:
    """sha256 over the ordered (chunk id, text hash) pairs: equal digests, same chunks in the same order.

    >>> chunk_digest([("d1:1:0", "fce813c3788fa98c9d6a")])[:12]
    'b40cf0cda638'
    >>> chunk_digest([("a", "1"), ("b", "2")]) == chunk_digest([("b", "2"), ("a", "1")])
    False
    """
    h = hashlib.sha256()
    for chunk_id, hash_ in pairs:
        # NUL and newline cannot occur in ids or hex hashes, so the encoding is unambiguous
        h.update(chunk_id.encode("utf-8"))
        h.update(b"\0")
        h.update(hash_.encode("ascii"))
        h.update(b"\n")
    return h.hexdigest()


@dataclass(frozen=True)
class ChunkSummary:
    """What :func:`write_chunks` wrote: counts for the manifest and the report, and the digest."""

    n: int
    n_documents: int
    n_paragraphs: int
    digest: str


def write_chunks(
    path: Path, records: Iterable[IndexRecord], *, batch_size: int = BATCH,
    progress: Callable[[int], None] | None = None,
) -> ChunkSummary:
    """Write ``records`` in order (row i = the i-th record) into a new SQLite file at ``path``.

    Streams: at most ``batch_size`` records are serialised at a time. ``progress(n)`` is called after
    each batch with the number written in it. Raises CorpusError naming a chunk id that occurs twice
    (the UNIQUE index finds it without keeping every id in memory); the half-written file is then the
    caller's to delete (it lives in the build's temporary directory).
    """
    path = Path(path)
    if path.exists():
        raise FileExistsError(f"{path} exists; write_chunks writes a new file")
    conn = sqlite3.connect(path)
    try:
        # A build's temporary directory is fsynced as a whole and deleted if the build dies, so the
        # rollback journal and per-commit syncs would buy nothing: off (about 3x faster inserts).
        conn.execute("PRAGMA journal_mode=OFF")
        conn.execute("PRAGMA synchronous=OFF")
        conn.executescript(_SCHEMA)
        h = hashlib.sha256()
        n = 0
        batch: list[tuple] = []

        def flush() -> None:
            try:
                conn.executemany("INSERT INTO chunks VALUES (?, ?, ?, ?, ?, ?)", batch)
            except sqlite3.IntegrityError:
                raise CorpusError(f"chunk id {_duplicate(conn, batch)!r} occurs twice; every chunk must be unique") from None
            if progress is not None:
                progress(len(batch))
            batch.clear()

        for rec in records:
            hash_ = text_hash(rec)
            h.update(rec.id.encode("utf-8") + b"\0" + hash_.encode("ascii") + b"\n")  # = chunk_digest, streamed
            batch.append((n, rec.id, hash_, rec.doc_id, rec.paragraph_id,
                          json.dumps(asdict(rec), ensure_ascii=False)))
            n += 1
            if len(batch) >= batch_size:
                flush()
        if batch:
            flush()
        for statement in _INDEXES:
            conn.execute(statement)
        n_docs, n_paras = conn.execute("SELECT COUNT(DISTINCT doc_id), COUNT(DISTINCT paragraph_id) FROM chunks").fetchone()
        conn.commit()
    finally:
        conn.close()
    return ChunkSummary(n, n_docs, n_paras, h.hexdigest())


def _duplicate(conn: sqlite3.Connection, batch: list[tuple]) -> str:
    """The first id of ``batch`` stored by an earlier batch or repeated in it (after an IntegrityError;
    executemany may have inserted part of the batch, so only rows before it count as earlier)."""
    first = batch[0][0]
    seen: set[str] = set()
    for values in batch:
        chunk_id = values[1]
        if chunk_id in seen or conn.execute("SELECT 1 FROM chunks WHERE id = ? AND row < ?", (chunk_id, first)).fetchone():
            return chunk_id
        seen.add(chunk_id)
    return "?"  # not reached: the constraint that failed is the id's


class ChunkStore(Sequence[R], Generic[R]):
    """The records of ``chunks.sqlite`` as a read-only sequence, read on demand.

    ``store[i]`` (negative indexes too), ``store[a:b]`` (a list), ``len(store)`` and iteration (in
    batches of ``BATCH`` rows) read the database; parsed records are kept in an LRU cache of
    ``cache_size`` entries. Thread-safe: each thread (and each process after a fork) opens its own
    read-only connection. A database error while reading is an IndexStateError that names the index
    (``where``) and the fix, as on load.

    Args:
        path: the ``chunks.sqlite`` file.
        record_type: what each record is read back as (``rag.corpus.records.Chunk``); called with the
            stored ``asdict`` fields as keywords.
        where: the index as messages name it (``data/index``).
        cache_size: parsed records kept (0: none).
    """

    def __init__(self, path: str | Path, record_type: Callable[..., R], *, where: str | None = None,
                 cache_size: int = CACHE_SIZE) -> None:
        self.path = Path(path)
        self.record_type = record_type
        self.where = where or str(self.path.parent)
        self.cache_size = cache_size
        self._cache: OrderedDict[int, R] = OrderedDict()
        self._cache_lock = threading.Lock()
        self._local = threading.local()
        self._len: int | None = None

    # --- connections and errors -------------------------------------------------------------------

    def _conn(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None or self._local.pid != os.getpid():  # a forked child must not share its parent's
            # immutable: the file never changes after its build, so SQLite takes no locks and reads no journal
            uri = f"file:{quote(str(self.path.resolve()))}?mode=ro&immutable=1"
            try:
                conn = sqlite3.connect(uri, uri=True, check_same_thread=True)
            except sqlite3.Error as e:
                raise self._error(e) from None
            self._local.conn, self._local.pid = conn, os.getpid()
        return conn

    def _query(self, sql: str, params: Sequence = ()) -> list[tuple]:
        try:
            return self._conn().execute(sql, params).fetchall()
        except sqlite3.Error as e:
            raise self._error(e) from None

    def _error(self, e: sqlite3.Error) -> IndexStateError:
        name = self.path.name
        if not self.path.exists():
            return corrupted(self.where, f"{name} is missing")
        if not os.access(self.path, os.R_OK):  # sqlite says only "unable to open database file"
            return unreadable(self.where, name, PermissionError(13, "Permission denied"))
        return corrupted(self.where, f"{name} is unreadable ({type(e).__name__}: {e})")

    def _parse(self, row: int, record: str) -> R:
        try:
            return self.record_type(**json.loads(record))
        except (ValueError, TypeError, RecursionError) as e:
            raise corrupted(self.where, f"{self.path.name} row {row} is not a chunk record ({type(e).__name__})") from None

    def check(self) -> None:
        """Open the database and read its row count and schema: IndexStateError when it is not a chunk
        table (garbage, truncated, another file). Cheap (no row is read)."""
        self._query("SELECT row, id, hash, doc_id, paragraph_id, record FROM chunks LIMIT 0")
        len(self)

    def close(self) -> None:
        """Close this thread's connection (others close when their thread ends)."""
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None

    # --- the sequence -----------------------------------------------------------------------------

    def __len__(self) -> int:
        if self._len is None:
            # rows are 0..n-1, so the largest row is the count without scanning the table
            (top,), = self._query("SELECT COALESCE(MAX(row) + 1, 0) FROM chunks")
            self._len = int(top)
        return self._len

    @overload
    def __getitem__(self, i: int) -> R: ...
    @overload
    def __getitem__(self, i: slice) -> list[R]: ...

    def __getitem__(self, i):
        if isinstance(i, slice):
            return self.get_many(range(*i.indices(len(self))))
        if not isinstance(i, (int, np.integer)) or isinstance(i, bool):
            raise TypeError(f"chunk rows are integers or slices, not {type(i).__name__}")
        n = len(self)
        row = int(i) + n if i < 0 else int(i)
        if not 0 <= row < n:
            raise IndexError(f"chunk row {int(i)} out of range for {n} chunks")
        return self.get_many([row])[0]

    def __iter__(self) -> Iterator[R]:
        """Every record in row order, read ``BATCH`` rows per query (bypassing the cache, which a full
        pass would only flush)."""
        for start in range(0, len(self), BATCH):
            for row, record in self._query("SELECT row, record FROM chunks WHERE row >= ? AND row < ? ORDER BY row",
                                           (start, start + BATCH)):
                yield self._parse(row, record)

    def get_many(self, rows: Iterable[int]) -> list[R]:
        """The records of ``rows`` in that order (repeats allowed): cached ones from the cache, the rest
        in one query per ``MAX_PARAMS`` rows. IndexError for a row outside 0..n-1."""
        rows = [int(r) for r in rows]
        n = len(self)
        found: dict[int, R] = {}
        with self._cache_lock:
            for r in rows:
                if r in self._cache:
                    self._cache.move_to_end(r)
                    found[r] = self._cache[r]
        missing = sorted({r for r in rows if r not in found})
        if missing and not (0 <= missing[0] and missing[-1] < n):
            bad = missing[0] if missing[0] < 0 else missing[-1]
            raise IndexError(f"chunk row {bad} out of range for {n} chunks")
        for start in range(0, len(missing), MAX_PARAMS):
            part = missing[start : start + MAX_PARAMS]
            got = self._query(f"SELECT row, record FROM chunks WHERE row IN ({','.join('?' * len(part))})", part)
            for row, record in got:
                found[row] = self._parse(row, record)
        if self.cache_size and missing:
            with self._cache_lock:
                for r in missing:
                    self._cache[r] = found[r]
                while len(self._cache) > self.cache_size:
                    self._cache.popitem(last=False)
        return [found[r] for r in rows]

    # --- lookups by id, document, paragraph -------------------------------------------------------

    def position(self, chunk_id: str) -> int | None:
        """Row of the chunk with this id (the UNIQUE index on ``id``), or None."""
        got = self._query("SELECT row FROM chunks WHERE id = ?", (chunk_id,))
        return int(got[0][0]) if got else None

    def rows_of_docs(self, doc_ids: Iterable[str]) -> np.ndarray:
        """Rows of every chunk of these documents, sorted ascending, int64: what a document filter
        turns into (a FAISS ``IDSelectorBatch``/``IDSelectorArray``, a BM25 weight mask). Unknown ids
        add nothing; no ids give an empty array.

        Example: ``store.rows_of_docs({"wg4-2019-l1-add1"})`` -> ``array([0, 1, ..., 57])``.
        """
        return self._rows_where("doc_id", doc_ids)

    def rows_of_paragraphs(self, paragraph_ids: Iterable[str]) -> np.ndarray:
        """Rows of every chunk of these paragraphs, sorted ascending, int64 (as :meth:`rows_of_docs`)."""
        return self._rows_where("paragraph_id", paragraph_ids)

    def rows_by_doc(self, doc_ids: Iterable[str]) -> dict[str, np.ndarray]:
        """Each of these documents' rows (sorted int64), by document id; ids with no chunk are absent."""
        values = sorted(set(doc_ids))
        out: dict[str, list[int]] = {}
        for start in range(0, len(values), MAX_PARAMS):
            part = values[start : start + MAX_PARAMS]
            for doc, row in self._query(
                    f"SELECT doc_id, row FROM chunks WHERE doc_id IN ({','.join('?' * len(part))}) ORDER BY doc_id, row", part):
                out.setdefault(doc, []).append(row)
        return {d: np.asarray(rows, dtype=np.int64) for d, rows in out.items()}

    def _rows_where(self, column: str, values: Iterable[str]) -> np.ndarray:
        values = sorted(set(values))
        out: list[int] = []
        for start in range(0, len(values), MAX_PARAMS):
            part = values[start : start + MAX_PARAMS]
            out += [r for (r,) in self._query(f"SELECT row FROM chunks WHERE {column} IN ({','.join('?' * len(part))})", part)]
        return np.unique(np.asarray(out, dtype=np.int64))

    def ids_and_hashes(self) -> Iterator[tuple[str, str]]:
        """(chunk id, text hash) of every row in order, read ``BATCH`` rows per query: the list the
        manifest's ``chunks_digest`` is computed over, and what a build reuses vectors by."""
        for start in range(0, len(self), BATCH):
            yield from self._query("SELECT id, hash FROM chunks WHERE row >= ? AND row < ? ORDER BY row",
                                   (start, start + BATCH))

    def ids(self) -> Iterator[str]:
        """Every chunk id in row order (batched)."""
        return (chunk_id for chunk_id, _ in self.ids_and_hashes())

    def __repr__(self) -> str:
        return f"ChunkStore({str(self.path)!r}, {getattr(self.record_type, '__name__', self.record_type)})"
