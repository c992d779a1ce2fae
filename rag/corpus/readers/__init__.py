"""Readers of user documents, one file per format behind one interface (:class:`DocumentReader`).

:func:`reader_for` picks the reader by the file's content first and its name second: a ``.txt``
that is really a PDF is read as a PDF, a Word file renamed ``.doc`` is read as Word, and binary
data named ``.txt`` is refused with a clear :class:`~rag.errors.CorpusError` instead of being
indexed as garbage.

Example::

    from rag.corpus.readers import reader_for
    doc = reader_for("report.pdf", settings.corpus).read("report.pdf")
    parse_document(doc.text, meta)
"""

from __future__ import annotations

from pathlib import Path

from rag.config import CorpusSettings
from rag.corpus.readers.base import (
    ACCEPTED,
    DocumentReader,
    ReadDocument,
    mismatch_message,
    sniff,
)
from rag.corpus.readers.docx import DocxReader
from rag.corpus.readers.pdf import PdfReader
from rag.corpus.readers.text import TextReader
from rag.errors import CorpusError

__all__ = [
    "ACCEPTED", "READERS", "SUFFIXES", "DocumentReader", "DocxReader", "PdfReader", "ReadDocument", "TextReader",
    "read_document", "reader_for", "sniff",
]

READERS: dict[str, type[DocumentReader]] = {r.format: r for r in (TextReader, PdfReader, DocxReader)}
SUFFIXES: tuple[str, ...] = tuple(s for r in READERS.values() for s in r.suffixes)


def reader_for(path: str | Path, settings: CorpusSettings | None = None) -> DocumentReader:
    """The reader for ``path``, chosen by what its first bytes are (see :func:`sniff`); CorpusError
    naming the file when it is missing, empty or of no format a reader reads.

    A name a reader is chosen for with content of another reader's format goes to the content's
    reader. A file whose content is text is read as text only under a text suffix (``.txt``,
    ``.md``, ``.markdown``), so a CSV or a source file in an added folder is not indexed.

    >>> import tempfile, os
    >>> with tempfile.TemporaryDirectory() as d:
    ...     p = Path(d, "report.txt"); _ = p.write_bytes(b"%PDF-1.4 ...")
    ...     type(reader_for(p)).__name__
    'PdfReader'
    """
    path = Path(path)
    if not path.is_file():
        raise CorpusError(f"document file not found: {str(path)!r}")
    try:
        with path.open("rb") as f:
            head = f.read(8192)
    except OSError as e:
        raise CorpusError(f"cannot read {str(path)!r} ({e.strerror or e}); check that it is a readable file") from None
    if not head:
        raise CorpusError(f"{str(path)!r} is empty; a document needs numbered paragraphs ('1. text'); accepted: {ACCEPTED}")
    kind = sniff(head, path)
    if kind in ("pdf", "docx"):
        return READERS[kind](settings)
    if kind == "text" and path.suffix.lower() in TextReader.suffixes:
        return TextReader(settings)
    if kind == "text":
        raise CorpusError(f"cannot read {str(path)!r}: suffix {path.suffix!r} is not one of {list(SUFFIXES)} "
                          f"(accepted: {ACCEPTED})")
    raise CorpusError(mismatch_message(path, kind))


def read_document(path: str | Path, settings: CorpusSettings | None = None) -> ReadDocument:
    """``reader_for(path, settings).read(path)``: a user file's text, whatever its format."""
    return reader_for(path, settings).read(path)
