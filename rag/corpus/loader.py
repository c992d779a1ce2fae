"""Load the whole corpus: the manifest's documents plus a user's own UN documents (.txt/.md/.pdf/.docx).

``Corpus`` is the in-memory view every other layer uses: paragraphs in document order, lookups by
(doc_id, para), and the documents' metadata for filters and the source viewer.

User documents come from ``corpus.extra_paths`` and from ``uncac-qa ingest --add`` (kept in the index
manifest): files, or folders searched recursively. Each file is read by :mod:`rag.corpus.readers`
(text, PDF with a text layer, Word .docx; chosen by content, not only by name) and parsed like a
manifest document. A file given by name that cannot be read or has no numbered paragraph is a
CorpusError. In a folder, a file of another kind (.doc, .xlsx, images...) and a document that cannot
be read (a scan, a locked PDF, a broken file) are skipped with one warning line naming each; hidden
files and folders (``.git``, ``.DS_Store``) are not documents and are skipped without a word. A path
that is gone, or a user document that is a copy of one already loaded (the same UN symbol in the same
language, or the same numbered paragraphs), is a CorpusError: serving it would cite the same
paragraph twice or silently drop indexed documents.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

from rag.config import CorpusSettings, Settings
from rag.corpus.language import detect_language
from rag.corpus.manifest import load_manifest
from rag.corpus.parse_cache import ParseCache
from rag.corpus.parser import ParsedDocument
from rag.corpus.readers import SUFFIXES, reader_for
from rag.corpus.records import DocumentMeta, Paragraph, content_hash
from rag.corpus.symbols import detect_symbol
from rag.errors import CorpusError, QueryError, one_of
from rag.fsutil import decode_problem

log = logging.getLogger(__name__)

USER_SUFFIXES = SUFFIXES  # .txt .md .markdown .pdf .docx


@dataclass
class Corpus:
    """Parsed documents in manifest order, with fast lookups."""

    documents: list[ParsedDocument] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._by_doc = {d.doc_id: d for d in self.documents}
        self._by_key = {p.key: p for d in self.documents for p in d.paragraphs}
        self._versions: dict[str, dict[str, str]] = {}
        for d in self.documents:
            if d.meta.symbol:
                self._versions.setdefault(d.meta.symbol, {}).setdefault(d.meta.language, d.doc_id)
        self._version_of = {
            (doc_id, lang): other for group in self._versions.values() if len(group) > 1
            for doc_id in group.values() for lang, other in group.items() if other != doc_id
        }

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

    def versions(self, doc_id: str) -> dict[str, str]:
        """The language versions of a document: language -> doc_id, the document itself included.

        UN documents keep one symbol and identical paragraph numbers in all six languages, so two
        documents with the same symbol are versions of one document ("CAC/COSP/WG.4/2019/L.1/Add.1" in
        Chinese and in English). A document without a symbol is its only version.
        """
        meta = self.meta(doc_id)
        if not meta.symbol:
            return {meta.language: doc_id}
        return dict(self._versions[meta.symbol])

    @property
    def has_versions(self) -> bool:
        """Whether any document has more than one language version (today's corpus: none)."""
        return bool(self._version_of)

    def in_language(self, key: tuple[str, int], lang: str) -> tuple[str, int]:
        """The same paragraph in the ``lang`` version of its document when that version is indexed and
        has it, else ``key`` itself: an English question quotes the English official paragraph, with
        the same symbol and number as the Chinese one."""
        doc_id, para = key
        other = self._version_of.get((doc_id, lang))
        return (other, para) if other is not None and (other, para) in self._by_key else key

    def check_doc_ids(self, doc_ids: Iterable[str]) -> None:
        """Raise QueryError if any id is not a document of this corpus (for filters)."""
        for d in doc_ids:
            self.document(d)


def read_text(path: Path) -> str:
    """A document's text; CorpusError naming the file when it is not UTF-8 or cannot be read."""
    try:
        return path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as e:
        raise CorpusError(f"{str(path)!r} is not UTF-8 text ({decode_problem(e)}); save it as UTF-8") from None
    except OSError as e:
        raise CorpusError(f"cannot read {str(path)!r} ({e.strerror or e}); check that it is a readable file") from None


def load_manifest_documents(manifest: Path, cache: ParseCache | None = None) -> list[ParsedDocument]:
    """The manifest's documents, parsed (through ``cache`` when given: see :mod:`rag.corpus.parse_cache`)."""
    base = manifest.parent
    cache = cache or ParseCache(None)
    docs = []
    for meta in load_manifest(manifest):
        path = base / meta.file
        if not path.is_file():
            raise CorpusError(f"manifest entry {meta.doc_id!r}: file {str(path)!r} not found")
        docs.append(cache.parse(read_text(path), meta))
    return docs


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") or "document"


def user_document_meta(path: Path, text: str) -> DocumentMeta:
    """Metadata for a user's file with no manifest entry: the symbol from its header, else the file name."""
    header = [ln for ln in text.splitlines()[:40] if ln.strip()][:25]
    symbol = detect_symbol(header)
    doc_id = _slug(symbol) if symbol else _slug(path.stem)
    title = next((_strip_md(ln) for ln in header if ln.lstrip().startswith("#")), None)
    lang = detect_language(text)  # script, stopwords and the job number's "(E)"/"(F)"… suffix
    ref = symbol or path.stem
    return DocumentMeta(
        doc_id=doc_id, file=str(path), symbol=symbol, short_ref=ref, short_ref_zh=ref, language=lang,
        title_zh=title if lang == "zh" else None, title_en=title if lang != "zh" else None,
        official_url=f"https://undocs.org/{lang}/{symbol}" if symbol else None,
    )


def _as_version(doc: ParsedDocument, loaded: list[ParsedDocument]) -> ParsedDocument:
    """``doc`` as a language version of a loaded document with its symbol, when there is one: its id
    becomes ``<that id>-<lang>`` ("wg4-2019-l1-add1-en"), and paragraphs that one version has and the
    other lacks are named in a warning (the versions are aligned by paragraph number)."""
    base = next((d for d in loaded if doc.meta.symbol and d.meta.symbol == doc.meta.symbol
                 and d.meta.language != doc.meta.language), None)
    if base is None:
        return doc
    mine, theirs = {p.para for p in doc.paragraphs}, {p.para for p in base.paragraphs}
    if mine != theirs:
        only_new, only_old = sorted(mine - theirs), sorted(theirs - mine)
        log.warning(
            "the %s version of %s does not align with the %s version (%s): paragraphs only in the %s one: %s; "
            "only in the %s one: %s", doc.meta.language, doc.meta.symbol, base.meta.language, base.doc_id,
            doc.meta.language, only_new or "none", base.meta.language, only_old or "none",
        )
    doc_id = f"{base.doc_id}-{doc.meta.language}"
    meta = replace(doc.meta, doc_id=doc_id, date=doc.meta.date or base.meta.date, body=doc.meta.body or base.meta.body,
                   session=doc.meta.session or base.meta.session, doc_type=doc.meta.doc_type or base.meta.doc_type,
                   title_zh=doc.meta.title_zh or base.meta.title_zh, title_en=doc.meta.title_en or base.meta.title_en,
                   short_ref=base.meta.short_ref, short_ref_zh=base.meta.short_ref_zh)
    return with_meta(doc, meta)


def with_meta(doc: ParsedDocument, meta: DocumentMeta) -> ParsedDocument:
    """The document under new metadata: paragraphs carry their doc_id (and labels), so they are re-keyed."""
    paragraphs = tuple(replace(p, doc_id=meta.doc_id, id="") for p in doc.paragraphs)  # id re-derived
    return replace(doc, meta=meta, paragraphs=paragraphs)


def _strip_md(line: str) -> str:
    return line.lstrip("# ").strip()


def load_user_document(path: str | Path, settings: CorpusSettings | None = None,
                       cache: ParseCache | None = None) -> ParsedDocument:
    """Read one user file (text, PDF or Word; see :func:`rag.corpus.readers.reader_for`) and parse it.
    CorpusError naming the file if it cannot be read or yields no numbered paragraph.

    ``settings`` carries the readers' limits (file size, PDF pages, unzipped Word size) and the PDF
    backend; the defaults when None. ``cache`` keeps the parse (the file is read every time)."""
    path = Path(path)
    text = reader_for(path, settings).read(path).text
    return (cache or ParseCache(None)).parse(text, user_document_meta(path, text))


def _user_files(paths: Iterable[Path]) -> list[tuple[Path, Path | None]]:
    """The files to read, each with the added folder it was found in (None for a file given by name):
    each file as given, each folder's documents (recursively, sorted); every other file in a folder is
    named in a warning, hidden ones excepted."""
    out: list[tuple[Path, Path | None]] = []
    for p in paths:
        if not p.is_dir():
            out.append((p, None))
            continue
        for f in sorted(p.rglob("*")):
            if any(part.startswith(".") for part in f.relative_to(p).parts) or not f.is_file():
                continue
            if f.suffix.lower() in USER_SUFFIXES:
                out.append((f, p))
            else:
                log.warning("skipped %r in the added folder %r: only %s documents are read (save it in one of "
                            "those formats to add it)", str(f), str(p), "/".join(USER_SUFFIXES))
    return out


def check_added(paths: Iterable[str | Path], option: str = "--add") -> list[str]:
    """The files/folders given on the command line with ``option``, as absolute paths; CorpusError
    naming the first that does not exist."""
    out = []
    for p in paths:
        path = Path(p).expanduser()
        if not path.exists():
            raise CorpusError(f"{option} {str(p)!r}: no such file or folder")
        out.append(str(path.resolve()))
    return out


def _gone(path: Path) -> CorpusError:
    return CorpusError(
        f"{str(path)!r}, added to the index with `uncac-qa ingest --add`, does not exist any more: put it back, "
        f"re-add it from where it is now (uncac-qa ingest --add NEW_PATH), or drop it (uncac-qa ingest)"
    )


def _paragraphs_key(doc: ParsedDocument) -> str:
    """Hash of the numbered paragraphs' normalised text (NFC, whitespace collapsed): equal for two files
    holding the same document whatever their names, headers, line ends or spacing."""
    def norm(text: str) -> str:
        return " ".join(unicodedata.normalize("NFC", text).split())

    return content_hash(*(
        f"{p.para}\t{norm(p.text)}\t" + "\t".join(f"{s.label} {norm(s.text)}" for s in p.subs) for p in doc.paragraphs
    ), length=20)


class _Twins:
    """The documents loaded so far, by symbol and language and by paragraphs: finds a copy."""

    def __init__(self) -> None:
        self._by_symbol: dict[tuple[str, str], ParsedDocument] = {}
        self._by_text: dict[str, ParsedDocument] = {}

    def add(self, doc: ParsedDocument) -> None:
        if doc.meta.symbol:
            self._by_symbol.setdefault((doc.meta.symbol, doc.meta.language), doc)
        self._by_text.setdefault(_paragraphs_key(doc), doc)

    def check(self, path: Path, doc: ParsedDocument) -> None:
        """CorpusError naming the loaded document ``doc`` (read from ``path``) is a copy of."""
        if doc.meta.symbol and (twin := self._by_symbol.get((doc.meta.symbol, doc.meta.language))):
            why = f"symbol {doc.meta.symbol}"
        elif twin := self._by_text.get(_paragraphs_key(doc)):
            why = "the same numbered paragraphs"
        else:
            return
        raise CorpusError(f"{str(path)!r} is the same document as {twin.doc_id!r} ({why}); not added")


def load_corpus(settings: Settings, extra: Iterable[str | Path] = ()) -> Corpus:
    """The manifest's documents, then ``corpus.extra_paths`` and ``extra`` (user files or folders,
    usually those an earlier ``uncac-qa ingest --add`` recorded in the index).

    Nothing is replaced or doubled silently: a user document whose doc_id collides with one already
    loaded, or that is a copy of one (see the module docstring), is a CorpusError, and so is an
    ``extra_paths`` or ``extra`` path that does not exist (its documents are in the index).

    Parses come from ``corpus.parse_cache`` when it holds them (:mod:`rag.corpus.parse_cache`).
    """
    with ParseCache.open(settings) as cache:
        return _load_corpus(settings, extra, cache)


def _load_corpus(settings: Settings, extra: Iterable[str | Path], cache: ParseCache) -> Corpus:
    docs = load_manifest_documents(settings.path(settings.corpus.manifest), cache)
    configured = [settings.path(p) for p in settings.corpus.extra_paths]
    added = [Path(p) for p in extra]
    for p in configured:
        if not p.exists():
            raise CorpusError(f"corpus.extra_paths lists {str(p)!r}, which does not exist; fix the path in the config")
    for p in added:
        if not p.exists():
            raise _gone(p)
    files = _user_files(configured + added)
    if not files:
        return Corpus(docs)
    seen = {d.doc_id for d in docs}
    twins = _Twins()
    for d in docs:
        twins.add(d)
    for f, folder in files:
        try:
            d = load_user_document(f, settings.corpus, cache)
        except CorpusError as e:
            if folder is None:
                raise
            # One unreadable file (a scan, a locked PDF) must not keep the folder's other documents
            # out; it is named on every load, so it is never skipped in silence.
            log.warning("skipped %r in the added folder %r: %s", str(f), str(folder), e)
            continue
        twins.check(f, d)
        d = _as_version(d, docs)
        if d.doc_id in seen:
            raise CorpusError(f"{str(f)!r} would be document {d.doc_id!r}, which is already in the corpus")
        seen.add(d.doc_id)
        twins.add(d)
        docs.append(d)
    return Corpus(docs)
