"""PDF documents: the text layer, as the hard-wrapped lines the parser already reads.

Three backends extract the same thing — positioned pieces of text with their font size — and one
layout step (:func:`layout_text`) turns them into lines:

- ``pdftotext`` (the default): poppler's ``pdftotext -bbox`` (words with boxes), run as a separate
  process with a timeout — the fastest by far, and a PDF that would hang or crash a parser takes
  only that process down; where poppler is not installed, pypdf is used with a warning;
- ``pypdf``: each text-showing operator with its matrix and size (pure Python, in-process);
- ``pdfplumber`` (pdfminer.six): every character with its box and size (the slowest).

``corpus.pdf_reader`` picks one; ``tests/fixtures/documents/compare_pdf_readers.py`` measures them.

What the layout step does, and why: pieces are grouped into lines by their baseline and ordered left
to right; a gap wider than three characters splits a line (a job number and a barcode side by side
are two lines of page furniture). Footnote marks are small raised digits in a UN PDF ("…反映。¹");
they become Unicode superscripts, which is how the parser recognises a mark. Footnotes sit in a
smaller font at the page foot and wrap; their lines are joined so each footnote is one "¹ text"
line, as the parser expects. Everything else (page numbers, the symbol at the top, the job number)
is left as lines: the parser drops page furniture itself.

Refused with one clear message: a PDF that needs a password, has no pages or more than
``corpus.pdf_max_pages``, a page whose decompressed content exceeds ``corpus.pdf_max_stream_mb`` (a
decompression bomb), or no text layer at all (a scan: no OCR is done).

Example::

    doc = PdfReader(settings.corpus).read("CAC-COSP-WG4-2019-L1-Add1.pdf")
    doc.pages, doc.text.splitlines()[0]    # (3, '联 合 国   CAC/COSP/WG.4/2019/L.1/Add.1')
"""

from __future__ import annotations

import functools
import html
import logging
import re
import shutil
import subprocess
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from rag.corpus.readers.base import ACCEPTED, DocumentReader, ReadDocument
from rag.errors import CorpusError
from rag.text import join_wrapped

log = logging.getLogger(__name__)

BACKENDS = ("pdftotext", "pypdf", "pdfplumber")
_SUPERSCRIPT = str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹")
_MARK_START = re.compile(r"^(?:[⁰¹²³⁴⁵⁶⁷⁸⁹]+|\*{1,3})(?!\d)")
_MIN_TEXT_CHARS = 1  # not one visible character in the whole file: no text layer (a scan)


@dataclass(frozen=True)
class Piece:
    """A run of text on a page: ``x0``/``x1`` its horizontal extent (``x1`` None when unknown), ``y``
    its baseline from the page top, ``size`` its font size in points."""

    text: str
    x0: float
    y: float
    size: float
    x1: float | None = None


# --- layout: pieces -> lines -> text ----------------------------------------------------------------

@dataclass
class _Line:
    text: str
    y: float
    size: float  # the size most of its characters have


def _lines(pieces: list[Piece]) -> list[_Line]:
    """Pieces grouped into lines (a superscript, raised by less than half a line, stays in its line),
    split at wide gaps, with superscript digits made Unicode superscripts."""
    pieces = [p for p in pieces if p.text and p.size > 0]
    pieces.sort(key=lambda p: (p.y, p.x0))
    groups: list[list[Piece]] = []
    for p in pieces:
        if groups:
            g = groups[-1]
            ref = max(g, key=lambda q: q.size)
            if abs(p.y - ref.y) <= 0.5 * max(ref.size, p.size):
                g.append(p)
                continue
        groups.append([p])
    out: list[_Line] = []
    for g in groups:
        g.sort(key=lambda p: p.x0)
        weights: Counter[float] = Counter()
        for p in g:
            weights[round(p.size, 1)] += len(p.text.strip()) or 0
        main = max(weights, key=lambda s: (weights[s], s)) if any(weights.values()) else round(g[0].size, 1)
        base = max((p for p in g if round(p.size, 1) == main), key=lambda p: len(p.text)).y
        parts: list[list[Piece]] = [[]]
        prev: Piece | None = None
        for p in g:
            if prev is not None and prev.x1 is not None and p.x0 - prev.x1 > 3 * main:
                parts.append([])  # a wide gap: another column of furniture, not the same line
            parts[-1].append(p)
            prev = p
        for part in parts:
            text = ""
            prev = None
            for p in part:
                t = p.text
                if p.size <= 0.75 * main and p.y <= base + 0.1 * main:  # small and not lowered: a superscript
                    t = t.strip().translate(_SUPERSCRIPT)
                if (prev is not None and prev.x1 is not None and text and not text.endswith(" ")
                        and not t.startswith(" ") and p.x0 - prev.x1 > 0.2 * main):
                    text += " "  # a gap as wide as a space where the PDF draws none
                text += t
                prev = p
            text = " ".join(text.split()) if "\n" in text else text.strip()
            if text:
                out.append(_Line(text, base, main))
    return out


def layout_text(pages: Iterable[list[Piece]]) -> str:
    """The parser's input from each page's pieces: one line per text line, each footnote joined into
    one "¹ text" line, pages one after the other.

    >>> body = [Piece("1. 工作组讨论了资产申报制度和利益冲突规章。", 72, 100, 10, 300), Piece("1", 300, 96, 6, 303)]
    >>> foot = [Piece("1", 72, 700, 5, 75), Piece(" 见 A/RES/58/4", 75, 704, 8, 200),
    ...         Piece("号决议。", 82, 714, 8, 120), Piece("2", 290, 760, 9, 295)]
    >>> layout_text([body + foot]).splitlines()
    ['1. 工作组讨论了资产申报制度和利益冲突规章。¹', '¹ 见 A/RES/58/4号决议。', '2']
    """
    pages = [_lines(p) for p in pages]
    sizes: Counter[float] = Counter()
    for lines in pages:
        for ln in lines:
            sizes[ln.size] += len(ln.text)
    if not sizes:
        return ""
    body = max(sizes, key=lambda s: (sizes[s], s))
    out: list[str] = []
    for lines in pages:
        note: _Line | None = None  # the footnote being collected
        for ln in lines:
            small = ln.size < 0.9 * body
            if small and _MARK_START.match(ln.text) and not re.fullmatch(r"\*\d{5,}\*", ln.text):
                note = ln
                out.append(ln.text)
            elif note is not None and small and abs(ln.size - note.size) <= 0.6 and ln.y - note.y <= 1.6 * note.size:
                out[-1] = join_wrapped(out[-1], ln.text)
                note = _Line(out[-1], ln.y, note.size)
            else:
                note = None
                out.append(ln.text)
    return "\n".join(out) + "\n"


# --- backends --------------------------------------------------------------------------------------

def pieces_pdfplumber(path: Path) -> list[list[Piece]]:
    """Every character of every page (pdfminer's boxes; ``bottom`` minus the descent is the baseline)."""
    import pdfplumber

    pages: list[list[Piece]] = []
    with pdfplumber.open(path, password="") as pdf:
        for page in pdf.pages:
            pages.append([Piece(c["text"], float(c["x0"]), float(c["bottom"]) - 0.12 * float(c["size"]),
                                float(c["size"]), float(c["x1"])) for c in page.chars])
            page.close()  # drop the page's cached layout objects
    return pages


def pieces_pypdf(reader) -> list[list[Piece]]:
    """Each text-showing operator's text with its position and size (from the text and current
    transformation matrices). The matrices carry no text rise, so a superscript is told by size alone."""
    pages: list[list[Piece]] = []
    for page in reader.pages:
        height = float(page.mediabox.height)
        got: list[Piece] = []

        def visit(text, cm, tm, _font, size, got=got, height=height):
            if not text:
                return  # (a lone space is kept: a font switch often leaves the space in a run of its own)
            a, b, c, d, e, f = (float(x) for x in tm)
            A, B, C, D, E, F = (float(x) for x in cm)
            x = e * A + f * C + E
            y = e * B + f * D + F
            scale = (abs((a * A + b * C) * (c * B + d * D) - (a * B + b * D) * (c * A + d * C))) ** 0.5
            for k, part in enumerate(text.split("\n")):
                if part:
                    got.append(Piece(part, x, height - y + k * 0.01, float(size) * (scale or 1.0)))

        page.extract_text(visitor_text=visit)
        pages.append(got)
    return pages


_WORD = re.compile(r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">(.*?)</word>')


def pieces_pdftotext(path: Path, timeout: float) -> list[list[Piece]]:
    """poppler's words with their boxes (``pdftotext -bbox``); the box height stands for the size."""
    exe = shutil.which("pdftotext")
    if exe is None:
        raise CorpusError("corpus.pdf_reader is 'pdftotext' but the pdftotext program is not installed "
                          "(apt-get install poppler-utils), or choose one of 'pdfplumber', 'pypdf'")
    try:
        r = subprocess.run([exe, "-bbox", "-enc", "UTF-8", "-q", str(path), "-"], capture_output=True, timeout=timeout,
                           check=False)
    except subprocess.TimeoutExpired:
        raise CorpusError(f"pdftotext took over {timeout:g} s on {str(path)!r} (corpus.pdf_timeout_s); not indexed") from None
    if r.returncode != 0:
        raise CorpusError(f"pdftotext could not read {str(path)!r} (exit {r.returncode}): "
                          f"{r.stderr.decode('utf-8', 'replace').strip()[:200]}")
    pages: list[list[Piece]] = []
    for chunk in r.stdout.decode("utf-8", "replace").split("<page ")[1:]:
        got = []
        for x0, y0, x1, y1, text in _WORD.findall(chunk):
            h = float(y1) - float(y0)
            got.append(Piece(html.unescape(text), float(x0), float(y1) - 0.2 * h, h, float(x1)))
        pages.append(got)
    return pages


# --- the reader ------------------------------------------------------------------------------------

@functools.cache
def _warn_no_pdftotext() -> None:
    log.warning("corpus.pdf_reader is 'pdftotext' but poppler's pdftotext is not installed (apt-get install "
                "poppler-utils); reading PDFs with pypdf instead (the same paragraphs, slower)")


class PdfReader(DocumentReader):
    """A PDF's text layer through ``corpus.pdf_reader`` (or ``backend``), laid out for the parser."""

    format = "pdf"
    suffixes = (".pdf",)
    name = "pdf"

    def __init__(self, settings=None, backend: str | None = None) -> None:
        super().__init__(settings)
        self.backend = backend or self.settings.pdf_reader
        if self.backend not in BACKENDS:
            raise CorpusError(f"PDF reader {self.backend!r} is not one of {list(BACKENDS)}")

    def _read(self, path: Path) -> ReadDocument:
        reader = self._preflight(path)
        backend = self.backend
        if backend == "pdftotext" and shutil.which("pdftotext") is None:
            _warn_no_pdftotext()
            backend = "pypdf"
        elif backend == "pdftotext" and reader.is_encrypted:
            # Opened with the empty password but with permission flags: poppler withholds the text of a
            # PDF that forbids copying, pypdf reads it (the flags are advice to viewers, not encryption
            # of the text from its reader).
            backend = "pypdf"
        if backend == "pypdf":
            pages = pieces_pypdf(reader)
        elif backend == "pdftotext":
            pages = pieces_pdftotext(path, self.settings.pdf_timeout_s)
        else:
            pages = pieces_pdfplumber(path)
        text = layout_text(pages)
        if sum(not c.isspace() for c in text) < _MIN_TEXT_CHARS:
            raise CorpusError(
                f"{str(path)!r} has no text layer ({len(pages)} page(s) of images: a scan?); no OCR is done. "
                "Add the document as a PDF with text, a .docx or a .txt"
            )
        return ReadDocument(path, text, self.format, f"pdf/{backend}", pages=len(pages))

    def _preflight(self, path: Path):
        """pypdf's view of the file, checked before any extraction: not locked, 1..max pages, no page
        whose content streams decompress beyond the limit. pypdf caps decompression itself, so a bomb
        fails here rather than in pdfminer or poppler."""
        import pypdf
        from pypdf.errors import FileNotDecryptedError, LimitReachedError, PdfReadError

        where = str(path)
        try:
            reader = pypdf.PdfReader(path, strict=False)
            if reader.is_encrypted:
                try:
                    ok = reader.decrypt("")
                except (NotImplementedError, FileNotDecryptedError):
                    ok = 0
                if not ok:
                    raise CorpusError(f"{where!r} is encrypted (it needs a password to open); save an unprotected "
                                      f"copy and add that (accepted: {ACCEPTED})")
            n = len(reader.pages)
        except (PdfReadError, LimitReachedError) as e:
            raise CorpusError(f"{where!r} is not a readable PDF ({type(e).__name__}: {str(e)[:160]}); accepted: {ACCEPTED}") from None
        if n == 0:
            raise CorpusError(f"{where!r} is a PDF with no pages; nothing to index")
        limit = self.settings.pdf_max_pages
        if n > limit:
            raise CorpusError(f"{where!r} has {n} pages, over the limit of {limit} (corpus.pdf_max_pages); split it or raise the limit")
        cap = self.settings.pdf_max_stream_mb * 1_000_000
        for i, page in enumerate(reader.pages, 1):
            try:
                contents = page.get_contents()
                size = len(contents.get_data()) if contents is not None else 0
            except LimitReachedError:
                size = cap + 1
            if size > cap:
                raise CorpusError(f"{where!r}: page {i} decompresses to over {self.settings.pdf_max_stream_mb:g} MB of "
                                  "content (corpus.pdf_max_stream_mb); refused as a decompression bomb")
        return reader
