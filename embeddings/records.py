"""What the index store needs of a record it indexes: the protocol ``rag.corpus.records.Chunk`` meets.

The store embeds ``embed_text``, addresses the record by ``id`` (unique, stable across rebuilds: the
manifest lists ids with a hash of the embedded text, which is how an incremental build knows what to
re-encode), and counts documents and paragraphs by ``doc_id`` and ``paragraph_id``. Records are frozen
dataclasses: the store writes them as ``dataclasses.asdict`` JSON lines and reads them back with the
record type the caller names (``load_index(..., record_type=Chunk)``).

Example:

>>> from dataclasses import dataclass
>>> @dataclass(frozen=True)
... class Passage:
...     id: str
...     doc_id: str
...     paragraph_id: str
...     embed_text: str
>>> p = Passage("d1:1:0", "d1", "d1:1", "passage text")
>>> isinstance(p, IndexRecord), text_hash(p)
(True, 'fce813c3788fa98c9d6a')
"""

from __future__ import annotations

import hashlib
from typing import Protocol, runtime_checkable


@runtime_checkable
class IndexRecord(Protocol):
    """One indexed unit (a chunk): see the module docstring."""

    @property
    def id(self) -> str: ...

    @property
    def doc_id(self) -> str: ...

    @property
    def paragraph_id(self) -> str: ...

    @property
    def embed_text(self) -> str: ...


def text_hash(record: IndexRecord) -> str:
    """Hash of what the encoder sees for ``record``: equal hashes, equal vectors (same encoder)."""
    return hashlib.sha256(record.embed_text.encode("utf-8")).hexdigest()[:20]
