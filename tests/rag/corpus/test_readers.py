"""Document readers (rag/corpus/readers/): oracle tests against the corpus and hostile files.

The oracle: each corpus document rendered as a UN-like PDF and as two Word files
(tests/fixtures/documents/, written by make_fixtures.py there) must give exactly the paragraphs the
parser finds in its .txt — numbers, sub-items, footnotes, text and section, all 305 — through every
PDF backend and both Word numbering styles. Hostile files each get one CorpusError naming the file
and what is accepted; none crashes the reader.
"""

from __future__ import annotations

import logging
import shutil
import zipfile
import zlib
from pathlib import Path

import pytest

from rag.config import CorpusSettings
from rag.corpus.loader import load_corpus, load_user_document
from rag.corpus.manifest import load_manifest
from rag.corpus.parser import ParsedDocument, parse_document
from rag.corpus.readers import DocxReader, PdfReader, TextReader, read_document, reader_for, sniff
from rag.corpus.readers.docx import Numbering
from rag.corpus.readers.pdf import Piece, layout_text
from rag.errors import CorpusError

ROOT = Path(__file__).resolve().parents[3]
FIXTURES = ROOT / "tests" / "fixtures" / "documents"
MANIFEST = ROOT / "corpus" / "manifest.yaml"
METAS = load_manifest(MANIFEST)
STEMS = [Path(m.file).stem for m in METAS]
HAS_PDFTOTEXT = shutil.which("pdftotext") is not None
FONT = "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"


def view(doc: ParsedDocument) -> list[tuple]:
    return [(p.para, p.section, p.text, tuple((s.label, s.text) for s in p.subs),
             tuple((f.mark, f.text) for f in p.footnotes)) for p in doc.paragraphs]


@pytest.fixture(scope="module")
def oracle() -> dict[str, tuple]:
    """stem -> (meta, the .txt's paragraphs)."""
    return {Path(m.file).stem: (m, view(parse_document((MANIFEST.parent / m.file).read_text(encoding="utf-8-sig"), m)))
            for m in METAS}


def test_the_oracle_is_the_whole_corpus(oracle):
    assert sum(len(v) for _, v in oracle.values()) == 305
    assert sorted(p.name for p in FIXTURES.glob("*.*") if p.suffix != ".py") == sorted(
        f"{s}{x}" for s in STEMS for x in (".pdf", ".docx", ".autonum.docx"))


# --- oracle: every paragraph back from every format ------------------------------------------------

PDF_CASES = [(s, "pdftotext") for s in STEMS] + [(s, "pypdf") for s in STEMS] + [(s, "pdfplumber") for s in STEMS[3:]]


@pytest.mark.parametrize(("stem", "backend"), PDF_CASES)
def test_pdf_gives_the_txt_paragraphs(oracle, stem, backend):
    if backend == "pdftotext" and not HAS_PDFTOTEXT:
        pytest.skip("poppler's pdftotext is not installed")
    meta, want = oracle[stem]
    doc = PdfReader(CorpusSettings(pdf_reader=backend)).read(FIXTURES / f"{stem}.pdf")
    assert doc.format == "pdf" and doc.reader == f"pdf/{backend}" and doc.pages >= 3
    assert view(parse_document(doc.text, meta)) == want


@pytest.mark.parametrize("variant", [".docx", ".autonum.docx"])
@pytest.mark.parametrize("stem", STEMS)
def test_docx_gives_the_txt_paragraphs(oracle, stem, variant):
    meta, want = oracle[stem]
    doc = DocxReader().read(FIXTURES / f"{stem}{variant}")
    assert view(parse_document(doc.text, meta)) == want


def test_word_numbers_are_not_in_the_autonumbered_file():
    with zipfile.ZipFile(FIXTURES / f"{STEMS[0]}.autonum.docx") as z:
        body = z.read("word/document.xml").decode()
    assert "<w:numPr>" in body and "<w:t>1. " not in body and "<w:t>(a) " not in body
    text = DocxReader().read(FIXTURES / f"{STEMS[0]}.autonum.docx").text
    assert "\n1. 2009年11月9日至13日" in text and "\n(d) 协助缔约国会议鼓励社会" in text


def test_ingest_reads_pdf_and_docx_like_the_txt(oracle):
    """Through load_user_document (what ``ingest --add`` does): the symbol is found in the PDF's header."""
    meta, want = oracle["003_1b44873261f91498"]
    for name in ("003_1b44873261f91498.pdf", "003_1b44873261f91498.docx"):
        d = load_user_document(FIXTURES / name)
        assert d.meta.symbol == meta.symbol == "CAC/COSP/WG.4/2019/L.1/Add.1"
        assert [(p.para, p.text, p.label_en) for p in d.paragraphs] == [(w[0], w[2], f"{meta.symbol}, para. {w[0]}") for w in want]
    # a made-up running head (FIXTURE/<doc_id>) is page furniture, never taken for the document's symbol
    d = load_user_document(FIXTURES / "004_567c5f27f956263a.pdf")
    assert d.meta.symbol is None and d.doc_id == "004-567c5f27f956263a" and len(d.paragraphs) == 93


def test_an_added_folder_of_pdf_and_docx(tmp_path, settings, caplog):
    folder = tmp_path / "mine"
    folder.mkdir()
    _pdf(folder / "new.pdf", text="1. 工作组讨论了受益所有权登记制度。")
    (folder / "scan.pdf").write_bytes(_scanned_pdf(tmp_path))
    with caplog.at_level(logging.WARNING, logger="rag"):
        c = load_corpus(settings, extra=[folder])
    assert c.doc_ids[-1] == "new" and len(c.doc_ids) == 6
    warned = [r.getMessage() for r in caplog.records if "scan.pdf" in r.getMessage()]
    assert len(warned) == 1 and "no text layer" in warned[0] and "added folder" in warned[0], warned
    # a copy of a corpus document is still refused, whatever its format
    shutil.copy(FIXTURES / "002_3f87898c4b82ba1a.autonum.docx", folder / "ta.docx")
    with pytest.raises(CorpusError, match="ta.docx' is the same document as 'cosp4-technical-assistance-2011'"):
        load_corpus(settings, extra=[folder])


def test_a_txt_that_is_really_a_pdf_is_read_as_a_pdf(tmp_path, oracle):
    f = tmp_path / "report.txt"
    shutil.copy(FIXTURES / "003_1b44873261f91498.pdf", f)
    assert isinstance(reader_for(f), PdfReader)
    meta, want = oracle["003_1b44873261f91498"]
    assert view(parse_document(read_document(f).text, meta)) == want


# --- layout step and numbering, on small inputs ----------------------------------------------------

def test_layout_joins_a_wrapped_footnote_and_keeps_furniture_apart():
    page = [Piece("1. 工作组。", 72, 100, 10, 130), Piece("2", 130, 96, 6, 134),
            Piece("2", 72, 700, 5, 75), Piece(" 第一行", 75, 704, 8, 120), Piece("第二行。", 82, 714, 8, 120),
            Piece("V.19-08845 (C)", 72, 780, 9, 140), Piece("*1908845*", 450, 780, 9, 520)]
    assert layout_text([page]).splitlines() == ["1. 工作组。²", "² 第一行第二行。", "V.19-08845 (C)", "*1908845*"]


def _numbering(xml_body: str) -> Numbering:
    from lxml import etree

    ns = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
    return Numbering.from_xml(etree.fromstring(f'<w:numbering xmlns:w="{ns}">{xml_body}</w:numbering>'))


def test_word_numbering_counters():
    nb = _numbering(
        '<w:abstractNum w:abstractNumId="0">'
        '<w:lvl w:ilvl="0"><w:start w:val="5"/><w:numFmt w:val="decimal"/><w:lvlText w:val="%1."/></w:lvl>'
        '<w:lvl w:ilvl="1"><w:start w:val="1"/><w:numFmt w:val="lowerLetter"/><w:lvlText w:val="(%2)"/></w:lvl>'
        '<w:lvl w:ilvl="2"><w:start w:val="1"/><w:numFmt w:val="chineseCounting"/><w:lvlText w:val="(%3)"/></w:lvl>'
        '</w:abstractNum><w:abstractNum w:abstractNumId="1"><w:lvl w:ilvl="0"><w:numFmt w:val="bullet"/>'
        '<w:lvlText w:val="•"/></w:lvl></w:abstractNum>'
        '<w:num w:numId="1"><w:abstractNumId w:val="0"/></w:num>'
        '<w:num w:numId="2"><w:abstractNumId w:val="0"/></w:num>'
        '<w:num w:numId="3"><w:abstractNumId w:val="0"/><w:lvlOverride w:ilvl="0"><w:startOverride w:val="1"/></w:lvlOverride></w:num>'
        '<w:num w:numId="4"><w:abstractNumId w:val="1"/></w:num>')
    got = [nb.label("1", 0), nb.label("1", 1), nb.label("1", 1), nb.label("1", 2), nb.label("1", 2),
           nb.label("2", 0), nb.label("2", 1),  # numId 2 continues the same list; its sub-level restarts
           nb.label("3", 0), nb.label("4", 0), nb.label("9", 0)]
    assert got == ["5.", "(a)", "(b)", "(一)", "(二)", "6.", "(a)", "1.", "", ""]


# --- hostile files: one clear CorpusError each -----------------------------------------------------

def _pdf(path: Path, pages: int = 1, text: str = "1. 工作组讨论了资产申报制度。", **canvas_args) -> Path:
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont
    from reportlab.pdfgen import canvas

    if "WQY" not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(TTFont("WQY", FONT, subfontIndex=0))
    c = canvas.Canvas(str(path), invariant=1, **canvas_args)
    for i in range(pages):
        c.setFont("WQY", 10)
        c.drawString(72, 700, text if i == 0 else f"{i + 1}. 第 {i + 1} 页。")
        c.showPage()
    c.save()
    return path


def _scanned_pdf(tmp_path: Path) -> bytes:
    from reportlab.pdfgen import canvas

    f = tmp_path / "scan-src.pdf"
    c = canvas.Canvas(str(f), invariant=1)
    for i in range(3):
        c.rect(72, 72, 400, 600 - i, fill=1)  # a page of ink, no text layer
        c.showPage()
    c.save()
    return f.read_bytes()


def _raw_pdf(page_extra: bytes, content: bytes, *, flate: bool = False) -> bytes:
    """A one-page PDF written by hand (reportlab would not write a hostile one)."""
    stream = zlib.compress(content, 9) if flate else content
    filt = b" /Filter /FlateDecode" if flate else b""
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
               b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R " + page_extra + b">>",
               b"<< /Length %d%s >>\nstream\n" % (len(stream), filt) + stream + b"\nendstream"]
    out = b"%PDF-1.7\n"
    offsets = []
    for i, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % i + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1) + b"".join(b"%010d 00000 n \n" % o for o in offsets)
    return out + b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)


def _refused(path: Path, match: str, settings: CorpusSettings | None = None) -> str:
    with pytest.raises(CorpusError) as e:
        load_user_document(path, settings)
    msg = str(e.value)
    assert str(path) in msg, msg
    assert pytest.importorskip("re").search(match, msg), msg
    assert "Traceback" not in msg and "\n" not in msg
    return msg


@pytest.mark.parametrize("name", ["empty.pdf", "empty.docx", "empty.txt"])
def test_empty_file(tmp_path, name):
    f = tmp_path / name
    f.write_bytes(b"")
    _refused(f, r"is empty.*accepted: .*\.pdf.*\.docx")


def test_zero_page_pdf(tmp_path):
    import pypdf

    f = tmp_path / "nothing.pdf"
    with f.open("wb") as out:
        pypdf.PdfWriter().write(out)
    _refused(f, "is a PDF with no pages")


def test_encrypted_pdf_needs_a_password(tmp_path):
    from reportlab.lib.pdfencrypt import StandardEncryption

    locked = _pdf(tmp_path / "locked.pdf", encrypt=StandardEncryption("secret", ownerPassword="owner"))
    _refused(locked, r"is encrypted \(it needs a password to open\)")
    # restrictions with no password to open (common in published PDFs) are read as usual, even "no copying"
    owner_only = _pdf(tmp_path / "restricted.pdf", encrypt=StandardEncryption("", ownerPassword="owner", canCopy=0))
    assert [p.para for p in load_user_document(owner_only).paragraphs] == [1]


def test_too_many_pages(tmp_path):
    f = _pdf(tmp_path / "long.pdf", pages=200)
    _refused(f, r"has 200 pages, over the limit of 150 \(corpus.pdf_max_pages\)")
    assert len(load_user_document(f, CorpusSettings(pdf_max_pages=200)).paragraphs) == 200


def test_too_big_file(tmp_path):
    f = tmp_path / "big.txt"
    f.write_text("1. 工作组。\n" * 200, encoding="utf-8")
    _refused(f, r"over the 0.001 MB limit .*corpus.max_file_mb", CorpusSettings(max_file_mb=0.001))


def test_pdf_decompression_bomb(tmp_path):
    f = tmp_path / "bomb.pdf"
    f.write_bytes(_raw_pdf(b"", b"q Q " * 8_000_000, flate=True))  # 32 MB of operators in a 30 KB file
    assert f.stat().st_size < 100_000
    _refused(f, r"page 1 decompresses to over 20 MB .*decompression bomb")


def test_pdf_deeply_nested_objects(tmp_path):
    f = tmp_path / "nested.pdf"
    depth = 200_000
    f.write_bytes(_raw_pdf(b"/Resources << /X " + b"[" * depth + b"]" * depth + b" >> ", b"BT ET"))
    _refused(f, r"no text layer|too complex|not a readable PDF")  # whichever layer gives up first, one clear line


def test_scanned_pdf_has_no_text_layer(tmp_path):
    f = tmp_path / "scan.pdf"
    f.write_bytes(_scanned_pdf(tmp_path))
    _refused(f, r"has no text layer \(3 page\(s\) of images: a scan\?\); no OCR is done")


def test_garbage_pdf(tmp_path):
    f = tmp_path / "broken.pdf"
    f.write_bytes(b"%PDF-1.4\n" + bytes(range(256)) * 20)
    _refused(f, r"PDF")


def test_docx_zip_bomb(tmp_path):
    f = tmp_path / "bomb.docx"
    with zipfile.ZipFile(f, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        with z.open("word/document.xml", "w") as part:
            for _ in range(101):
                part.write(b" " * 1_000_000)
    assert f.stat().st_size < 1_000_000
    _refused(f, r"would unpack to 101 MB in 2 parts, over the 100 MB limit \(corpus.docx_max_unzipped_mb\); refused as a zip bomb")


def test_docx_that_is_not_word(tmp_path):
    f = tmp_path / "sheet.docx"
    with zipfile.ZipFile(f, "w") as z:
        z.writestr("xl/workbook.xml", "<workbook/>")
    _refused(f, r"is a zip archive that is not a Word .docx")
    broken = tmp_path / "broken.docx"
    broken.write_bytes(b"PK\x03\x04" + b"\x00" * 64)
    _refused(broken, r"is a zip archive that is not a Word .docx")


def test_binary_renamed_txt(tmp_path):
    f = tmp_path / "program.txt"
    f.write_bytes(b"\x7fELF\x02\x01\x01\x00" + bytes(range(256)) * 4)
    _refused(f, r"is binary data, not a text, PDF or Word document \(its name says .txt\); accepted: ")
    assert sniff(f.read_bytes()) == "binary"


def test_text_in_another_encoding_asks_for_utf8(tmp_path):
    f = tmp_path / "gbk.txt"
    f.write_bytes("1. 工作组讨论了资产申报。\n".encode("gbk"))
    _refused(f, r"is not UTF-8 text \(byte 0x.. at offset \d+\); save it as UTF-8")


def test_html_and_script_stay_text(tmp_path):
    hostile = '<script>alert("x")</script><img src=x onerror=alert(1)> &amp;'
    t = tmp_path / "page.txt"
    t.write_text(f"1. 工作组讨论了 {hostile} 的问题。\n", encoding="utf-8")
    assert hostile in load_user_document(t).paragraphs[0].text
    import docx

    d = docx.Document()
    d.add_paragraph(f"1. 工作组讨论了 {hostile} 的问题。")
    d.save(tmp_path / "page.docx")
    assert hostile in load_user_document(tmp_path / "page.docx").paragraphs[0].text
    pdf = _pdf(tmp_path / "page.pdf", text=f"1. 工作组讨论了 {hostile} 的问题。")
    assert hostile in load_user_document(pdf).paragraphs[0].text


def test_readers_refuse_what_is_not_theirs(tmp_path):
    f = tmp_path / "a.txt"
    f.write_text("1. 工作组。\n", encoding="utf-8")
    with pytest.raises(CorpusError, match=r"is plain text .*the PDF reader cannot read it"):
        PdfReader().read(f)
    with pytest.raises(CorpusError, match=r"is a PDF .*the TEXT reader cannot read it"):
        TextReader().read(FIXTURES / f"{STEMS[3]}.pdf")
    with pytest.raises(CorpusError, match="document file not found"):
        DocxReader().read(tmp_path / "gone.docx")
    with pytest.raises(CorpusError, match=r"PDF reader 'ocr' is not one of"):
        PdfReader(backend="ocr")
