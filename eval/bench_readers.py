"""Document readers: paragraph fidelity and speed on the generated test documents (``python -m eval.bench_readers``).

The test documents in ``tests/fixtures/documents/`` are the five corpus documents rendered as UN-like
PDFs and as Word files (``make_fixtures.py`` there). Their oracle is the corpus itself: the
paragraphs :func:`rag.corpus.parser.parse_document` finds in ``corpus/zh/*.txt``.

- :func:`compare_pdf_readers` — every PDF backend of :mod:`rag.corpus.readers.pdf` (through the
  reader's layout step), and each library's own plain-text output fed to the parser as it is, for
  contrast: paragraph fidelity (the share of the .txt's paragraphs reproduced exactly — number,
  sub-items, footnotes and text, whitespace runs collapsed; "exact" also compares the section path
  and the text byte for byte) and speed (pages/s, over the five PDFs, each read once after a warm-up).
- :func:`bench_readers` — ingest throughput as ``uncac-qa ingest --add`` reads a file: reader +
  parser, for the configured PDF backend and both Word variants (pages/s, paragraphs/s).

Nothing is asserted (the tests in ``tests/rag/corpus/test_readers.py`` do that). Example::

    python -m eval.bench_readers            # both tables (~30 s: pdfplumber is slow)
    python -m eval.bench_readers --bench    # throughput only (what `make bench` prints)
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

from eval.report.render import render_text
from rag.config import ROOT, CorpusSettings
from rag.corpus.manifest import load_manifest
from rag.corpus.parser import ParsedDocument, parse_document
from rag.corpus.readers import DocxReader, PdfReader
from rag.corpus.readers.pdf import BACKENDS
from rag.corpus.records import DocumentMeta
from rag.errors import CorpusError

FIXTURES = ROOT / "tests" / "fixtures" / "documents"
MANIFEST = ROOT / "corpus" / "manifest.yaml"


def _norm(s: str) -> str:
    return " ".join(s.split())


def paragraph_view(doc: ParsedDocument, *, exact: bool = False) -> list[tuple]:
    """What the oracle compares per paragraph: number, sub-items, footnotes and text (normalised
    whitespace), plus the section path when ``exact`` (then byte for byte)."""
    n = (lambda s: s) if exact else _norm
    return [(p.para, n(p.text), tuple((s.label, n(s.text)) for s in p.subs), tuple((f.mark, n(f.text)) for f in p.footnotes))
            + ((p.section,) if exact else ()) for p in doc.paragraphs]


def fidelity(ref: ParsedDocument, text: str, meta: DocumentMeta, *, exact: bool = False) -> int:
    """How many of ``ref``'s paragraphs parsing ``text`` reproduces (matched by paragraph number)."""
    try:
        got = {v[0]: v for v in paragraph_view(parse_document(text, meta), exact=exact)}
    except CorpusError:  # a text with no paragraph at all scores 0
        return 0
    return sum(got.get(v[0]) == v for v in paragraph_view(ref, exact=exact))


def oracle_documents() -> list[tuple[DocumentMeta, ParsedDocument, str]]:
    """(meta, parsed .txt, file stem) of the manifest's documents."""
    out = []
    for meta in load_manifest(MANIFEST):
        ref = parse_document((MANIFEST.parent / meta.file).read_text(encoding="utf-8-sig"), meta)
        out.append((meta, ref, Path(meta.file).stem))
    return out


def _plain_extractors() -> dict[str, Callable[[Path], tuple[str, int]]]:
    """Each library's own text output, with no layout step (for contrast)."""

    def pypdf_plain(path: Path) -> tuple[str, int]:
        import pypdf

        r = pypdf.PdfReader(path)
        return "\n".join(p.extract_text() for p in r.pages), len(r.pages)

    def plumber_plain(path: Path) -> tuple[str, int]:
        import pdfplumber

        with pdfplumber.open(path) as pdf:
            return "\n".join(p.extract_text() or "" for p in pdf.pages), len(pdf.pages)

    def poppler(args: list[str]) -> Callable[[Path], tuple[str, int]]:
        def run(path: Path) -> tuple[str, int]:
            out = subprocess.run(["pdftotext", *args, "-enc", "UTF-8", str(path), "-"], capture_output=True,
                                 timeout=60, check=True).stdout.decode("utf-8")
            return out, out.count("\f")
        return run

    out = {"pypdf extract_text() (plain)": pypdf_plain, "pdfplumber extract_text() (plain)": plumber_plain}
    if shutil.which("pdftotext"):
        out["pdftotext -layout (plain)"] = poppler(["-layout"])
        out["pdftotext (plain, reading order)"] = poppler([])
    return out


def compare_pdf_readers() -> list[list[str]]:
    """The comparison table: one row per way of reading the five PDFs."""
    docs = oracle_documents()
    total = sum(len(r.paragraphs) for _, r, _ in docs)
    ways: dict[str, Callable[[Path], tuple[str, int]]] = {}
    for b in BACKENDS:
        if b == "pdftotext" and not shutil.which("pdftotext"):
            continue
        reader = PdfReader(CorpusSettings(), backend=b)
        ways[f"{b} + layout step (corpus.pdf_reader={b})"] = lambda p, r=reader: ((d := r.read(p)).text, d.pages or 0)
    ways.update(_plain_extractors())
    rows = [["PDF reader", "paragraphs (normalised)", "fidelity", "exact incl. section", "pages", "seconds", "pages/s"]]
    for name, fn in ways.items():
        fn(FIXTURES / f"{docs[0][2]}.pdf")  # warm-up: imports, font caches
        good = strict = pages = 0
        seconds = 0.0
        for meta, ref, stem in docs:
            t = time.perf_counter()
            text, n = fn(FIXTURES / f"{stem}.pdf")
            seconds += time.perf_counter() - t
            pages += n
            good += fidelity(ref, text, meta)
            strict += fidelity(ref, text, meta, exact=True)
        rows.append([name, f"{good}/{total}", f"{good / total:.3f}", f"{strict}/{total}", str(pages),
                     f"{seconds:.2f}", f"{pages / seconds:.1f}"])
    return rows


def bench_readers(settings: CorpusSettings | None = None) -> list[list[str]]:
    """Ingest throughput (reader + parser) for the configured PDF backend and both Word variants."""
    settings = settings or CorpusSettings()
    docs = oracle_documents()
    variants = [(f"PDF ({settings.pdf_reader})", PdfReader(settings), ".pdf"),
                ("DOCX, typed numbers", DocxReader(settings), ".docx"),
                ("DOCX, Word numbering", DocxReader(settings), ".autonum.docx")]
    pdf_pages = {stem: PdfReader(settings, backend="pypdf")._preflight(FIXTURES / f"{stem}.pdf").get_num_pages()
                 for _, _, stem in docs}
    rows = [["ingest", "files", "pages", "paragraphs", "seconds", "pages/s", "paragraphs/s", "exact"]]
    for name, reader, suffix in variants:
        reader.read(FIXTURES / f"{docs[0][2]}{suffix}")  # warm-up
        seconds, paras, good = 0.0, 0, 0
        for meta, ref, stem in docs:
            t = time.perf_counter()
            parsed = parse_document(reader.read(FIXTURES / f"{stem}{suffix}").text, meta)
            seconds += time.perf_counter() - t
            paras += len(parsed.paragraphs)
            good += sum(a == b for a, b in zip(paragraph_view(parsed, exact=True), paragraph_view(ref, exact=True)))
        pages = sum(pdf_pages.values())  # a Word file's pages: those of the same document as a PDF
        rows.append([name, str(len(docs)), str(pages), str(paras), f"{seconds:.2f}", f"{pages / seconds:.1f}",
                     f"{paras / seconds:.0f}", f"{good}/{paras}"])
    return rows


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m eval.bench_readers", description=__doc__.splitlines()[0])
    p.add_argument("--bench", action="store_true", help="only the ingest throughput table")
    args = p.parse_args(argv)
    if not args.bench:
        print(render_text(compare_pdf_readers()))
        print()
    print(render_text(bench_readers()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
