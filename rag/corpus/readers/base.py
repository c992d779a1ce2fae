"""The interface every document reader implements, and content sniffing.

A reader turns one user file into the plain text :func:`rag.corpus.parser.parse_document` reads: one
line per paragraph, or hard-wrapped PDF lines; footnotes one line each, starting with their mark
("¹ …", "* …"). The public :meth:`DocumentReader.read` does what every format needs — the file
exists, is not too big, and its bytes are what the reader reads — then calls the subclass's one
private :meth:`DocumentReader._read`. Anything a hostile or broken file makes a library raise
becomes one :class:`CorpusError` naming the file and what is accepted, never a traceback.

Example::

    doc = PdfReader(settings.corpus).read("report.pdf")
    doc.text.splitlines()[:2], doc.pages      # (['联 合 国   CAC/COSP/…', '…'], 9)
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from rag.config import CorpusSettings
from rag.errors import CorpusError

# What a user may add, for messages.
ACCEPTED = ".txt, .md, .markdown (UTF-8 text), .pdf (with a text layer), .docx (Word 2007 or later)"
_SNIFF_BYTES = 8192


@dataclass(frozen=True)
class ReadDocument:
    """A user file's text as the parser reads it, and where it came from.

    ``format`` is what the content is ("text", "pdf", "docx"), whatever the file's name says;
    ``pages`` is the PDF page count (None for other formats); ``reader`` names the backend used.
    """

    path: Path
    text: str
    format: str
    reader: str
    pages: int | None = None


def sniff(head: bytes, path: Path | None = None) -> str:
    """What a file's first bytes say it is: "pdf", "docx", "zip" (another zip), "text" (no control
    bytes but tab, newline, form feed; in any encoding) or "binary".

    A PDF may carry junk before ``%PDF-`` (the spec allows it within the first KB); a .docx is a zip
    with ``word/document.xml``, so ``path`` is opened to tell it from an .xlsx or .odt.

    >>> sniff(b"%PDF-1.7\\n..."), sniff("1. 工作组。\\n".encode()), sniff(b"\\x00\\x01ELF")
    ('pdf', 'text', 'binary')
    """
    if b"%PDF-" in head[:1024]:
        return "pdf"
    if head.startswith(b"PK\x03\x04"):
        if path is not None:
            try:
                with zipfile.ZipFile(path) as z:
                    if "word/document.xml" in z.namelist():
                        return "docx"
            except (zipfile.BadZipFile, OSError, ValueError, EOFError):
                pass
        return "zip"
    if _is_text(head):
        return "text"
    return "binary"


def _is_text(head: bytes) -> bool:
    """Text unless it holds control bytes: a GBK or Latin-1 file is still text (the text reader then
    asks for UTF-8), a UTF-16 one too (its BOM), while NULs and the like mean an executable, an image..."""
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return True
    return not any(b < 32 and b not in _TEXT_CONTROLS for b in head)


_TEXT_CONTROLS = frozenset(b"\t\n\r\f\x1a")


class DocumentReader:
    """Base of the readers: validation in :meth:`read`, the format's work in :meth:`_read`.

    Subclasses set ``format`` (what :func:`sniff` must say about the content), ``suffixes`` (the
    names it is chosen for) and ``name``. Constructing one is cheap (settings only); libraries load
    on the first read.
    """

    format: ClassVar[str] = ""
    suffixes: ClassVar[tuple[str, ...]] = ()
    name: ClassVar[str] = ""

    def __init__(self, settings: CorpusSettings | None = None) -> None:
        self.settings = settings or CorpusSettings()

    def read(self, path: str | Path) -> ReadDocument:
        """The file's text. CorpusError naming the file when it is missing, too big, not this format,
        or anything in it cannot be read."""
        path = Path(path)
        if not path.is_file():
            raise CorpusError(f"document file not found: {str(path)!r}")
        try:
            size = path.stat().st_size
            with path.open("rb") as f:
                head = f.read(_SNIFF_BYTES)
        except OSError as e:
            raise CorpusError(f"cannot read {str(path)!r} ({e.strerror or e}); check that it is a readable file") from None
        limit = self.settings.max_file_mb
        if size > limit * 1_000_000:
            raise CorpusError(
                f"{str(path)!r} is {size / 1_000_000:.1f} MB, over the {limit:g} MB limit for a document "
                "(corpus.max_file_mb); split it or raise the limit"
            )
        if size == 0:
            raise CorpusError(f"{str(path)!r} is empty; a document needs numbered paragraphs ('1. text'); accepted: {ACCEPTED}")
        kind = sniff(head, path)
        if kind != self.format:
            raise CorpusError(mismatch_message(path, kind, self.format))
        try:
            return self._read(path)
        except CorpusError:
            raise
        except (MemoryError, RecursionError) as e:
            raise CorpusError(f"{str(path)!r} is too complex to read as {self.format.upper()} ({type(e).__name__}); "
                              f"not indexed (accepted: {ACCEPTED})") from None
        except Exception as e:  # noqa: BLE001 (a hostile or broken file must not crash the ingest)
            raise CorpusError(f"cannot read {str(path)!r} as {self.format.upper()}: {_short(e)}; accepted: {ACCEPTED}") from None

    def _read(self, path: Path) -> ReadDocument:
        """Extract the text of a file already checked to exist, fit the size limit and be ``format``."""
        raise NotImplementedError


def mismatch_message(path: Path, kind: str, expected: str | None = None) -> str:
    """Why a file is refused when its content is not what a reader reads (or nothing readable)."""
    what = {
        "binary": "binary data, not a text, PDF or Word document",
        "zip": "a zip archive that is not a Word .docx (no word/document.xml)",
        "pdf": "a PDF",
        "docx": "a Word .docx document",
        "text": "plain text",
    }[kind]
    hint = f" (its name says {path.suffix or 'nothing'})" if path.suffix else ""
    want = f" the {expected.upper()} reader cannot read it;" if expected else ""
    return f"{str(path)!r} is {what}{hint};{want} accepted: {ACCEPTED}"


def _short(e: BaseException) -> str:
    msg = str(e).strip().splitlines()[0] if str(e).strip() else ""
    msg = msg[:200]
    return f"{type(e).__name__}: {msg}" if msg else type(e).__name__
