"""BM25 tokens by text hash, kept beside the index so a rebuild segments only the texts it has not seen.

Segmenting is what a BM25 rebuild spends its time on: jieba takes ~4 ms a chunk (half of a 3,500-chunk
rebuild's 31 s, measured under load), so at 50,000 chunks every ``ingest --add`` would spend minutes
re-segmenting text that did not change. The cache is one SQLite file (``<index dir>.tokens.sqlite``),
keyed by the hash of the text and the tokenizer version (a new tokenizer never reuses old tokens). Like
the vector cache it is only a cache: an unreadable file is logged once and rebuilt, never an error.

Example::

    cache = TokenCache(Path("data/index.tokens.sqlite"))
    tokens = cache.tokenize(texts)        # lists of tokens, as embeddings.sparse.bm25.tokenize gives
    cache.hits                            # how many came from the file
"""

from __future__ import annotations

import hashlib
import json
import logging
import sqlite3
from collections.abc import Sequence
from pathlib import Path

from embeddings.sparse.bm25 import TOKENIZER_VERSION, tokenize

logger = logging.getLogger("embeddings.sparse")

def text_key(text: str) -> str:
    """The cache key of a text: the same hash the vector cache and the manifest give it."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:20]


#: Rows per query/insert (SQLite's default limit on bound parameters is 32,766).
BATCH = 2000


class TokenCache:
    """Tokens of texts by (text hash, tokenizer version) in one SQLite file. Cheap constructor."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.hits = 0  # texts the last tokenize() read from the file

    def tokenize(self, texts: Sequence[str]) -> list[list[str]]:
        """``embeddings.sparse.bm25.tokenize(texts)``, reading what the file holds and storing the rest."""
        keys = [text_key(t) for t in texts]
        have = self._read(list(dict.fromkeys(keys)))
        todo = [i for i, k in enumerate(keys) if k not in have]
        self.hits = len(texts) - len(todo)
        fresh = tokenize([texts[i] for i in todo]) if todo else []
        new = {keys[i]: toks for i, toks in zip(todo, fresh)}
        if new:
            self._write(new)
        have.update(new)
        return [list(have[k]) for k in keys]

    def _connect(self) -> sqlite3.Connection:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(self.path, timeout=30)
        conn.execute("CREATE TABLE IF NOT EXISTS tokens (key TEXT, version TEXT, tokens TEXT, PRIMARY KEY (key, version))")
        return conn

    def _read(self, keys: list[str]) -> dict[str, list[str]]:
        if not self.path.exists() or not keys:
            return {}
        out: dict[str, list[str]] = {}
        try:
            conn = self._connect()
            try:
                for start in range(0, len(keys), BATCH):
                    part = keys[start : start + BATCH]
                    rows = conn.execute(f"SELECT key, tokens FROM tokens WHERE version = ? AND key IN ({','.join('?' * len(part))})",
                                        [TOKENIZER_VERSION, *part]).fetchall()
                    out.update((k, json.loads(t)) for k, t in rows)
            finally:
                conn.close()
        except (sqlite3.Error, ValueError, OSError) as e:
            logger.warning("BM25 token cache %s is unreadable (%s: %s); segmenting again and rewriting it",
                           self.path, type(e).__name__, e)
            self.path.unlink(missing_ok=True)
            return {}
        return out

    def _write(self, new: dict[str, list[str]]) -> None:
        try:
            conn = self._connect()
            try:
                with conn:
                    conn.executemany("INSERT OR REPLACE INTO tokens VALUES (?, ?, ?)",
                                     [(k, TOKENIZER_VERSION, json.dumps(t, ensure_ascii=False)) for k, t in new.items()])
            finally:
                conn.close()
        except (sqlite3.Error, OSError) as e:  # a cache that cannot be written costs time, not correctness
            logger.warning("BM25 token cache %s cannot be written (%s: %s)", self.path, type(e).__name__, e)
