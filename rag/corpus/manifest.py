"""Read ``manifest.yaml``: one entry per document, its doc_id, symbol and metadata."""

from __future__ import annotations

import datetime as dt
from dataclasses import fields
from pathlib import Path

from rag.corpus.records import DocumentMeta
from rag.errors import CorpusError
from rag.fsutil import read_yaml

_REQUIRED = ("file", "doc_id", "short_ref")
_ALLOWED = tuple(f.name for f in fields(DocumentMeta))
_TEXT = tuple(k for k in _ALLOWED if k not in ("date", "agenda_item"))  # agenda_item may be a bare number


def load_manifest(path: str | Path) -> list[DocumentMeta]:
    """Parse the manifest into DocumentMeta records; file paths stay relative to the manifest's folder.

    Raises CorpusError naming the entry and the bad or missing key.
    """
    path = Path(path)
    where = str(path)
    if not path.is_file():
        raise CorpusError(f"manifest not found: {where!r}")
    data = read_yaml(path, "manifest", CorpusError)
    entries = data.get("documents") if isinstance(data, dict) else None
    if not isinstance(entries, list):
        raise CorpusError(f"manifest {where!r} must be a mapping with a 'documents:' list, one entry per document")
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
        not_text = [k for k in _TEXT if e.get(k) is not None and not isinstance(e[k], str)]
        if not_text:
            raise CorpusError(f"manifest entry #{i} ({e['doc_id']!r}): {not_text[0]} = {e[not_text[0]]!r} must be text")
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
