"""Load the whole corpus: the manifest's documents plus a user's own .txt/.md UN documents.

``Corpus`` is the in-memory view every other layer uses: paragraphs in document order, lookups by
(doc_id, para), and the documents' metadata for filters and the source viewer.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from rag.config import Settings
from rag.corpus.manifest import load_manifest
from rag.corpus.parser import ParsedDocument, parse_document
from rag.corpus.records import DocumentMeta, Paragraph
from rag.corpus.symbols import detect_symbol
from rag.errors import CorpusError, QueryError, one_of

USER_SUFFIXES = (".txt", ".md", ".markdown")


@dataclass
class Corpus:
    """Parsed documents in manifest order, with fast lookups."""

    documents: list[ParsedDocument] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._by_doc = {d.doc_id: d for d in self.documents}
        self._by_key = {p.key: p for d in self.documents for p in d.paragraphs}

    @property
    def paragraphs(self) -> list[Paragraph]:
        return [p for d in self.documents for p in d.paragraphs]

    @property
    def doc_ids(self) -> list[str]:
        return [d.doc_id for d in self.documents]

    def __iter__(self) -> Iterator[Paragraph]:
        return iter(self.paragraphs)

    def __len__(self) -> int:
        return len(self._by_key)

    def document(self, doc_id: str) -> ParsedDocument:
        """The parsed document; QueryError naming the valid ids when it does not exist."""
        try:
            return self._by_doc[doc_id]
        except KeyError:
            raise QueryError(f"unknown document {one_of(doc_id, self.doc_ids)}") from None

    def meta(self, doc_id: str) -> DocumentMeta:
        return self.document(doc_id).meta

    def paragraph(self, doc_id: str, para: int) -> Paragraph | None:
        return self._by_key.get((doc_id, para))

    def check_doc_ids(self, doc_ids: Iterable[str]) -> None:
        """Raise QueryError if any id is not a document of this corpus (for filters)."""
        for d in doc_ids:
            self.document(d)


def read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise CorpusError(f"{str(path)!r} is not UTF-8 text") from None


def load_manifest_documents(manifest: Path) -> list[ParsedDocument]:
    base = manifest.parent
    docs = []
    for meta in load_manifest(manifest):
        path = base / meta.file
        if not path.is_file():
            raise CorpusError(f"manifest entry {meta.doc_id!r}: file {str(path)!r} not found")
        docs.append(parse_document(read_text(path), meta))
    return docs


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") or "document"


def user_document_meta(path: Path, text: str) -> DocumentMeta:
    """Metadata for a user's file with no manifest entry: the symbol from its header, else the file name."""
    header = [ln for ln in text.splitlines()[:40] if ln.strip()][:25]
    symbol = detect_symbol(header)
    doc_id = _slug(symbol) if symbol else _slug(path.stem)
    title = next((_strip_md(ln) for ln in header if ln.lstrip().startswith("#")), None)
    lang = "zh" if re.search(r"[\u4e00-\u9fff]", text) else "en"
    ref = symbol or path.stem
    return DocumentMeta(
        doc_id=doc_id, file=str(path), symbol=symbol, short_ref=ref, short_ref_zh=ref, language=lang,
        title_zh=title if lang == "zh" else None, title_en=title if lang != "zh" else None,
        official_url=f"https://undocs.org/{lang}/{symbol}" if symbol else None,
    )


def _strip_md(line: str) -> str:
    return line.lstrip("# ").strip()


def load_user_document(path: str | Path) -> ParsedDocument:
    """Parse one user file (.txt or .md). CorpusError if it is not text or yields no numbered paragraph."""
    path = Path(path)
    if path.suffix.lower() not in USER_SUFFIXES:
        raise CorpusError(f"cannot read {str(path)!r}: suffix {path.suffix!r} is not one of {list(USER_SUFFIXES)}")
    if not path.is_file():
        raise CorpusError(f"document file not found: {str(path)!r}")
    text = read_text(path)
    return parse_document(text, user_document_meta(path, text))


def _user_files(paths: Iterable[Path]) -> list[Path]:
    out: list[Path] = []
    for p in paths:
        if p.is_dir():
            out += sorted(f for f in p.rglob("*") if f.suffix.lower() in USER_SUFFIXES)
        else:
            out.append(p)
    return out


def load_corpus(settings: Settings, extra: Iterable[str | Path] = ()) -> Corpus:
    """The manifest's documents, then ``corpus.extra_paths`` and ``extra`` (user files or folders).

    A user document whose doc_id collides with one already loaded is an error (nothing is replaced
    silently).
    """
    docs = load_manifest_documents(settings.path(settings.corpus.manifest))
    seen = {d.doc_id for d in docs}
    extra_paths = [settings.path(p) for p in settings.corpus.extra_paths] + [Path(p) for p in extra]
    for f in _user_files(extra_paths):
        d = load_user_document(f)
        if d.doc_id in seen:
            raise CorpusError(f"{str(f)!r} would be document {d.doc_id!r}, which is already in the corpus")
        seen.add(d.doc_id)
        docs.append(d)
    return Corpus(docs)
