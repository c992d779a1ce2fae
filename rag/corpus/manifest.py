"""Read ``manifest.yaml``: one entry per document, its doc_id, symbol and metadata."""

from __future__ import annotations

import datetime as dt
from dataclasses import fields
from pathlib import Path

import yaml

from rag.corpus.records import DocumentMeta
from rag.errors import CorpusError

_REQUIRED = ("file", "doc_id", "short_ref")
_ALLOWED = tuple(f.name for f in fields(DocumentMeta))


def load_manifest(path: str | Path) -> list[DocumentMeta]:
    """Parse the manifest into DocumentMeta records; file paths stay relative to the manifest's folder.

    Raises CorpusError naming the entry and the bad or missing key.
    """
    path = Path(path)
    if not path.is_file():
        raise CorpusError(f"manifest not found: {str(path)!r}")
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    entries = data.get("documents")
    if not isinstance(entries, list):
        raise CorpusError(f"manifest {str(path)!r} must have a 'documents:' list")
    docs: list[DocumentMeta] = []
    seen: set[str] = set()
    for i, e in enumerate(entries):
        if not isinstance(e, dict):
            raise CorpusError(f"manifest entry #{i} is not a mapping")
        missing = [k for k in _REQUIRED if not e.get(k)]
        if missing:
            raise CorpusError(f"manifest entry #{i} ({e.get('doc_id') or e.get('file')!r}) lacks {missing}")
        unknown = sorted(set(e) - set(_ALLOWED))
        if unknown:
            raise CorpusError(f"manifest entry {e['doc_id']!r} has unknown keys {unknown}; allowed: {list(_ALLOWED)}")
        if e["doc_id"] in seen:
            raise CorpusError(f"manifest lists doc_id {e['doc_id']!r} twice")
        seen.add(e["doc_id"])
        d = e.get("date")
        if isinstance(d, str):
            try:
                d = dt.date.fromisoformat(d)
            except ValueError:
                raise CorpusError(f"manifest entry {e['doc_id']!r}: date {d!r} is not YYYY-MM-DD") from None
        docs.append(
            DocumentMeta(**{**e, "date": d, "short_ref_zh": e.get("short_ref_zh") or e["short_ref"], "agenda_item": _s(e.get("agenda_item"))})
        )
    return docs


def _s(v: object) -> str | None:
    return None if v is None else str(v)
