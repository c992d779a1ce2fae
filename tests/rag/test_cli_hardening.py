"""Bad input to the CLI: one line on stderr naming the value and what is allowed, exit status 2 (1 for a
JSONL batch with failed lines), never a traceback, nothing stored lost.

The matrix runs in-process on a one-document site with the hashing fake encoder (see small_site.py);
the last tests run real processes, for what only a process shows (argv bytes, the interpreter's own
stdout encoding).
"""

from __future__ import annotations

import builtins
import io
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from rag.config import ROOT
from tests.rag.small_site import QUESTION, SYMBOL, Site, answer_of, cli, make_site

SURROGATES = "\udced\udca0\udc80"  # what Python makes of the argv bytes ED A0 80 (an encoded U+D800)


def deny_reading(monkeypatch, path: Path) -> None:
    """Opening ``path`` raises PermissionError, as ``chmod 000`` does for anyone but root (tests may run
    as root, for whom chmod blocks nothing)."""
    real_open = builtins.open
    target = os.path.realpath(path)

    def guarded(file, *args, **kwargs):
        if not isinstance(file, int) and os.path.realpath(file) == target:
            raise PermissionError(13, "Permission denied", os.fspath(file))
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", guarded)
    monkeypatch.setattr(io, "open", guarded)


def stdin_of(monkeypatch, data: bytes) -> None:
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data), encoding="utf-8"))


# --- the matrix -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    """``setup(site, monkeypatch) -> argv``; the run must exit ``rc`` with one ``uncac-qa:`` line holding
    every string of ``says``."""

    name: str
    setup: Callable[[Site, pytest.MonkeyPatch], list[str]]
    says: tuple[str, ...]
    rc: int = 2
    indexed: bool = False  # build the site's index first


def _config_not_utf8(site, _mp):
    bad = site.root / "bad.yaml"
    bad.write_bytes("retrieval:\n  route: caf\xe9\n".encode("latin-1"))
    return ["--config", str(bad), "paragraphs"]


def _config_not_yaml(site, _mp):
    bad = site.root / "bad.yaml"
    bad.write_text("retrieval: [1,\n", encoding="utf-8")
    return ["--config", str(bad), "paragraphs"]


def _manifest_not_yaml(site, _mp):
    site.manifest.write_text("documents:\n  - file: doc.txt\n   doc_id: [\n", encoding="utf-8")
    return [*site.args, "paragraphs"]


def _manifest_not_mapping(site, _mp):
    site.manifest.write_text("- doc.txt\n", encoding="utf-8")
    return [*site.args, "paragraphs"]


def _manifest_not_utf8(site, _mp):
    site.manifest.write_bytes(b"documents: []  # caf\xe9\n")
    return [*site.args, "paragraphs"]


def _corpus_file_unreadable(site, mp):
    deny_reading(mp, site.document)
    return [*site.args, "paragraphs"]


def _added_file_unreadable(site, mp):
    doc = site.root / "mine.txt"
    doc.write_text("1. 工作组讨论了受益所有权。\n", encoding="utf-8")
    deny_reading(mp, doc)
    return [*site.args, "paragraphs", "--add", str(doc)]


def _feedback_out_missing_dir(site, _mp):
    return [*site.args, "feedback", "export", "--out", "/nonexistent/d/f"]


def _feedback_out_is_dir(site, _mp):
    return [*site.args, "feedback", "export", "--out", str(site.root)]


def _added_folder_moved(site, _mp):
    folder = site.root / "mine"
    folder.mkdir()
    (folder / "notes.txt").write_text("1. 工作组讨论了受益所有权登记制度。\n\n2. 工作组建议加强举报人保护。\n", encoding="utf-8")
    from rag.cli import main

    assert main([*site.args, "ingest", "--add", str(folder)]) == 0
    folder.rename(site.root / "moved")
    return [*site.args, "ask", QUESTION]


def _duplicate_document(site, _mp):
    copy = site.root / "x.txt"
    shutil.copyfile(site.document, copy)
    return [*site.args, "ingest", "--add", str(copy)]


def _jsonl_bad_lines(site, mp):
    lines = [json.dumps({"id": "ok", "question": QUESTION}, ensure_ascii=False).encode(),
             b'{"id": "a", "question": "\\ud800x"}',
             b"[" * 1500 + b"]" * 1500]
    stdin_of(mp, b"\n".join(lines) + b"\n")
    return [*site.args, "ask", "--jsonl"]


CASES = [
    Case("config not UTF-8", _config_not_utf8, ("bad.yaml", "not UTF-8", "byte 0xe9")),
    Case("config not YAML", _config_not_yaml, ("bad.yaml", "not valid YAML", "line")),
    Case("--set value not YAML", lambda s, m: ["--set", "retrieval.k=[", "paragraphs"], ("retrieval.k=[", "YAML")),
    Case("--set without =", lambda s, m: ["--set", "retrieval.k", "paragraphs"], ("section.key=value",)),
    Case("--set empty key", lambda s, m: ["--set", "=3", "paragraphs"], ("'=3'",)),
    Case("surrogate in question", lambda s, m: ["ask", SURROGATES], ("\\udced", "UTF-8")),
    Case("surrogate in --set", lambda s, m: ["--set", f"retrieval.k={SURROGATES}", "paragraphs"], ("\\udced", "UTF-8")),
    Case("surrogate in --set key", lambda s, m: ["--set", f"retrieval.{SURROGATES}=1", "paragraphs"], ("\\udced",)),
    Case("surrogate in --config", lambda s, m: ["--config", f"{SURROGATES}.yaml", "paragraphs"], ("\\udced",)),
    Case("surrogate in --doc", lambda s, m: ["paragraphs", "--doc", SURROGATES], ("\\udced",)),
    Case("manifest not YAML", _manifest_not_yaml, ("manifest.yaml", "not valid YAML", "line 3")),
    Case("manifest not a mapping", _manifest_not_mapping, ("manifest.yaml", "documents:")),
    Case("manifest not UTF-8", _manifest_not_utf8, ("manifest.yaml", "not UTF-8")),
    Case("corpus file unreadable", _corpus_file_unreadable, ("doc.txt", "Permission denied")),
    Case("added file unreadable", _added_file_unreadable, ("mine.txt", "Permission denied")),
    Case("feedback --out in a missing folder", _feedback_out_missing_dir, ("/nonexistent/d", "does not exist")),
    Case("feedback --out is a folder", _feedback_out_is_dir, ("is a folder",)),
    Case("added folder moved", _added_folder_moved, ("mine'", "uncac-qa ingest"), indexed=True),
    Case("duplicate document", _duplicate_document,
         ("x.txt' is the same document as 'wg4-2019-l1-add1' (symbol CAC/COSP/WG.4/2019/L.1/Add.1); not added",)),
    Case("jsonl bad lines", _jsonl_bad_lines, ("1 answered, 2 failed",), rc=1, indexed=True),
]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_bad_invocation_is_one_line(case, capsys, monkeypatch, tmp_path, hash_encoders):
    site = make_site(tmp_path)
    if case.indexed:
        assert cli(capsys, *site.args, "ingest")[0] == 0
    argv = case.setup(site, monkeypatch)
    before = {p: p.read_bytes() for p in site.index.rglob("*") if p.is_file()}
    rc, out, err = cli(capsys, *argv)
    monkeypatch.undo()  # (open() again, before the asserts read files)
    assert "Traceback" not in err
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1, err
    assert rc == case.rc and lines[0].startswith("uncac-qa: "), err
    for s in case.says:
        assert s in lines[0], lines[0]
    assert {p: p.read_bytes() for p in site.index.rglob("*") if p.is_file()} == before  # nothing stored lost
    if rc == 2:
        assert out == ""


def test_an_os_error_nothing_caught_is_one_line_naming_the_path(capsys, monkeypatch, tmp_path):
    from rag.corpus import loader

    def disk_full(*_a, **_k):
        raise OSError(28, "No space left on device", "/data/index/vectors.npy")

    monkeypatch.setattr(loader, "load_corpus", disk_full)
    rc, out, err = cli(capsys, "paragraphs")
    assert (rc, out, err) == (2, "", "uncac-qa: error: '/data/index/vectors.npy': No space left on device\n")


# --- 1. JSONL: a bad line costs only its own answer ---------------------------------------------------


def test_jsonl_surrogates_deep_nesting_and_bad_bytes_cost_one_line_each(capsys, monkeypatch, tmp_path, hash_encoders):
    site = make_site(tmp_path)
    assert cli(capsys, *site.args, "ingest")[0] == 0
    good = json.dumps({"id": "ok", "question": QUESTION}, ensure_ascii=False)
    deep = "[" * 100_000 + "]" * 100_000
    lines = [
        good,
        '{"id": "a", "question": "\\ud800x"}',  # a lone surrogate in the question: refused
        "[" * 1500 + "]" * 1500,  # RecursionError inside json.loads
        '{"id": "\\udc80", "question": "' + QUESTION + '"}',  # answered; the id echoed, escaped
        '{"id": "h", "question": "' + QUESTION + '", "history": [["\\ud800", "x"]]}',  # unknown field
        '{"id": ' + "[" * 900 + "]" * 900 + ', "question": "x"}',  # an id that is not a string or number
        '{"id": "deep", "question": ' + deep + "}",
        '{"id": "nan", "question": "' + QUESTION + '", "k": NaN}',
    ]
    data = "\n".join(lines).encode() + b'\n{"id": "bytes", "question": "\xff\xfe"}\n' + good.encode() + b"\n"
    stdin_of(monkeypatch, data)
    rc, out, err = cli(capsys, *site.args, "ask", "--jsonl")
    assert rc == 1 and err == "uncac-qa: 4 answered, 6 failed\n"
    out.encode("utf-8")  # no raw surrogate reached stdout
    rows = [json.loads(x) for x in out.splitlines()]
    assert [r["id"] for r in rows] == ["ok", "a", None, "\udc80", "h", None, None, "nan", None, "ok"]
    assert [r.get("line") for r in rows] == [None, 2, 3, None, None, 6, 7, 8, 9, None]
    errors = {r["line"]: r["error"] for r in rows if "error" in r}
    assert "lone surrogate (U+D800)" in errors[2]
    assert "nested" in errors[3] and "line 3" in errors[3]
    assert '"id" must be a string or a number' in errors[6]
    assert "nested" in errors[7]
    assert '"k" must be an integer' in errors[8]
    assert "not UTF-8" in errors[9] and "0xff" in errors[9]
    answers = [answer_of(json.dumps(r)) for r in rows if "answer" in r]
    assert all(a | {"id": None} == answers[0] | {"id": None} for a in answers)


def test_jsonl_in_a_real_process_writes_valid_utf8(capsys, tmp_path, hash_encoders):
    """The interpreter's own stdout (strict UTF-8), not pytest's capture: ids and errors with lone
    surrogates come out escaped, and the other lines are answered."""
    site = make_site(tmp_path)
    assert cli(capsys, *site.args, "ingest")[0] == 0
    fake = ("import embeddings.encoders.factory as f; from tests.embeddings.fake_encoder import HashEncoder; "
            "f.create_encoder = lambda s: HashEncoder(); from rag.cli import main; raise SystemExit(main())")
    lines = ['{"id": "\\udc80", "question": "' + QUESTION + '"}', '{"id": "\\ud800", "question": "\\ud800"}',
             '{"id": "ok", "question": "' + QUESTION + '"}']
    r = subprocess.run([sys.executable, "-c", fake, *site.args, "ask", "--jsonl"], cwd=ROOT,
                       input="\n".join(lines).encode() + b"\n", capture_output=True, timeout=120, check=False,
                       env={**os.environ, "PYTHONIOENCODING": "utf-8"})
    err = r.stderr.decode("utf-8")
    assert r.returncode == 1 and "Traceback" not in err and err.splitlines()[-1] == "uncac-qa: 2 answered, 1 failed"
    rows = [json.loads(x) for x in r.stdout.decode("utf-8").splitlines()]  # strict: no raw surrogate bytes
    assert [x["id"] for x in rows] == ["\udc80", "\ud800", "ok"] and "error" in rows[1] and "answer" in rows[2]


# --- 5. user documents: moved folders, unsupported files, duplicates ----------------------------------


def test_moved_added_folder_is_named_and_ingest_drops_it(capsys, tmp_path, hash_encoders):
    site = make_site(tmp_path)
    assert cli(capsys, *site.args, "ingest")[0] == 0
    rc, base, _ = cli(capsys, *site.args, "ask", QUESTION, "--json")
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "notes.md").write_text("# Notes\n\n1. 工作组讨论了受益所有权登记制度。\n", encoding="utf-8")
    assert cli(capsys, *site.args, "ingest", "--add", str(folder))[0] == 0
    shutil.rmtree(folder)
    rc, out, err = cli(capsys, *site.args, "ask", QUESTION, "--json")
    assert rc == 2 and str(folder) in err and "uncac-qa ingest" in err and "suffix" not in err
    rc, out, err = cli(capsys, *site.args, "ingest")
    assert rc == 0 and "no longer exists" in err
    rc, out, err = cli(capsys, *site.args, "ask", QUESTION, "--json")
    assert rc == 0 and err == "" and answer_of(out) == answer_of(base)


def test_unsupported_files_in_an_added_folder_are_named_once_each(capsys, tmp_path, hash_encoders):
    site = make_site(tmp_path)
    folder = tmp_path / "mine"
    (folder / "sub").mkdir(parents=True)
    (folder / "notes.txt").write_text("1. 工作组讨论了受益所有权登记制度。\n", encoding="utf-8")
    (folder / "scan.pdf").write_bytes(b"%PDF-1.4")
    (folder / "sub" / "memo.docx").write_bytes(b"PK\x03\x04")
    (folder / ".DS_Store").write_bytes(b"\0")  # hidden files are not documents: skipped without a word
    rc, out, err = cli(capsys, *site.args, "ingest", "--add", str(folder))
    assert rc == 0 and "indexed 2 documents" in out
    warnings = [ln for ln in err.splitlines() if ln.startswith("uncac-qa: warning: ")]
    assert len(warnings) == 2, err
    for name, w in zip(("scan.pdf", "memo.docx"), warnings):
        assert name in w and ".txt" in w and ".md" in w
    rc, out, err = cli(capsys, *site.args, "ask", QUESTION)  # every later load says so again
    assert rc == 0 and err.count("warning") == 2


def test_a_copy_of_a_document_is_refused_by_symbol_and_by_content(tmp_path, settings):
    from rag.corpus.loader import load_corpus
    from rag.errors import CorpusError

    manifest_dir = ROOT / "corpus"
    with_symbol = tmp_path / "x.txt"
    shutil.copyfile(manifest_dir / "zh" / "003_1b44873261f91498.txt", with_symbol)
    with pytest.raises(CorpusError, match=rf"^'{with_symbol}' is the same document as 'wg4-2019-l1-add1' \(symbol {SYMBOL}\); not added$"):
        load_corpus(settings, extra=[with_symbol])
    # no symbol in the header: the same numbered paragraphs, whatever the spacing and line ends
    text = (manifest_dir / "zh" / "004_567c5f27f956263a.txt").read_text(encoding="utf-8")
    copy = tmp_path / "report copy.md"
    copy.write_text("\ufeff" + text.replace("\n", "  \r\n"), encoding="utf-8")
    with pytest.raises(CorpusError, match=r"is the same document as 'wg4-report-2017' \(the same numbered paragraphs\); not added$"):
        load_corpus(settings, extra=[copy])
    twice = tmp_path / "twice"
    twice.mkdir()
    for name in ("a.txt", "b.txt"):
        (twice / name).write_text("1. 工作组讨论了受益所有权登记制度。\n", encoding="utf-8")
    with pytest.raises(CorpusError, match=r"b.txt' is the same document as 'a'"):
        load_corpus(settings, extra=[twice])


# --- real processes -----------------------------------------------------------------------------------


def _run(*argv: str | bytes, **kw) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "rag", *argv], capture_output=True, timeout=120, check=False, **kw)


def test_real_process_bad_invocations_have_no_traceback(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_bytes(b"a: caf\xe9\n")
    runs = [
        _run("--config", str(bad), "paragraphs"),
        _run("--set", "retrieval.k=[", "paragraphs"),
        _run("ask", b"\xed\xa0\x80"),  # argv bytes that are not UTF-8
        _run("--set", b"retrieval.k=\xed\xa0\x80", "paragraphs"),
        _run("feedback", "export", "--out", "/nonexistent/d/f"),
    ]
    for r in runs:
        err = r.stderr.decode("utf-8")
        assert r.returncode == 2 and "Traceback" not in err and r.stdout == b"", err
        assert len(err.splitlines()) == 1 and err.startswith("uncac-qa: error: "), err
