"""``uncac-qa docs`` and ``docs remove`` end to end with the real model, on a temporary site (one manifest
document, see tests/rag/small_site.py) plus three added documents: a folder of two .txt files (one
English, one Chinese) and one generated PDF. The index is built once for the module; the last test
removes the PDF, then the folder, and checks that the index is the one built before anything was added.

The cheap cases (a folder's only document, ``corpus.extra_paths``, a deleted file, the lock) run on
the small site with the hashing fake encoder.
"""

from __future__ import annotations

import contextlib
import io
import json
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from embeddings.encoders import factory
from rag import engine as engine_module
from rag.cli import main
from tests.rag.small_site import DOC_ID, QUESTION, SYMBOL, Site, answer_of, make_site

EN_SYMBOL, ZH_SYMBOL, PDF_SYMBOL = "CAC/COSP/WG.4/2024/TEST/7", "CAC/COSP/WG.4/2024/TEST/8", "CAC/COSP/WG.4/2024/TEST/3"
EN_ID, ZH_ID, PDF_ID = "cac-cosp-wg-4-2024-test-7", "cac-cosp-wg-4-2024-test-8", "cac-cosp-wg-4-2024-test-3"

EN_DOC = f"""United Nations   {EN_SYMBOL}

Conference of the States Parties to the United Nations Convention against Corruption

Open-ended Intergovernmental Working Group on the Prevention of Corruption

1. The Working Group considered the use of open data in public procurement.

2. The Working Group recommended that States parties publish the beneficial owners of companies awarded
public contracts.

3. Several speakers described electronic procurement platforms that record every bid.
"""

ZH_DOC = f"""联 合 国   {ZH_SYMBOL}

防止腐败问题不限成员名额政府间工作组

1. 工作组讨论了体育运动领域的廉正问题。

2. 工作组建议各缔约国为重大体育赛事制定反腐败计划。
"""

PDF_DOC = f"""联 合 国   {PDF_SYMBOL}

防止腐败问题不限成员名额政府间工作组

1. 工作组审议了私营部门合规方案的经验。

2. 工作组建议各缔约国鼓励中小企业采用反腐败合规措施。
"""

KEYS = {"doc_id", "para", "subs", "section", "text", "footnotes", "label_en", "label_zh", "id"}


def run(*args: str) -> tuple[int, str, str]:
    """``uncac-qa ARGS`` in-process with a fresh engine, as a new process would load it; (status, stdout, stderr)."""
    engine_module._ENGINES.clear()
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        rc = main(list(args))
    return rc, out.getvalue(), err.getvalue()


def write_pdf(text: str, path: Path) -> None:
    """A UN-like PDF of ``text`` by the generator of tests/fixtures/documents (symbol at the top, job
    number and barcode at the foot)."""
    from rag.corpus.loader import user_document_meta
    from rag.corpus.parser import parse_document
    from tests.fixtures.documents.make_fixtures import (
        document_lines,
        furniture_for,
        render_pdf,
    )

    doc = parse_document(text, user_document_meta(path.with_suffix(".txt"), text))
    render_pdf(doc, document_lines(doc), furniture_for(doc, 90), path)


def snapshot(site: Site) -> dict[str, bytes]:
    """Every file of the index directory, by name."""
    return {p.relative_to(site.index).as_posix(): p.read_bytes() for p in sorted(site.index.rglob("*")) if p.is_file()}


def chunks_and_vectors(site: Site) -> tuple[list[dict], np.ndarray]:
    from embeddings.store import CHUNKS, ChunkStore

    return list(ChunkStore(site.index / CHUNKS, dict)), np.load(site.index / "vectors.npy")


def added_files(site: Site) -> list[str]:
    return json.loads((site.index / "manifest.json").read_text(encoding="utf-8"))["meta"]["added_files"]


def ask(site: Site) -> dict:
    rc, out, err = run(*site.args, "ask", QUESTION, "--json")
    assert rc == 0, err
    return answer_of(out)


def one_error_line(rc: int, out: str, err: str) -> str:
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert rc == 2 and out == "" and len(lines) == 1 and lines[0].startswith("uncac-qa: error: "), (rc, out, err)
    assert "Traceback" not in err
    return lines[0]


@dataclass
class Built:
    site: Site
    folder: Path
    pdf: Path
    base_chunks: tuple[list[dict], np.ndarray]  # the index before anything was added
    base_answer: dict
    answer: dict  # the answer with the three documents added


@pytest.fixture(scope="module")
def built(tmp_path_factory, encoder):
    """The site indexed once without, then with, the three added documents (real model)."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(factory, "create_encoder", lambda _settings: encoder)
        root = tmp_path_factory.mktemp("docs")
        site = make_site(root / "site")
        folder = root / "mine"
        folder.mkdir()
        (folder / "procurement.txt").write_text(EN_DOC, encoding="utf-8")
        (folder / "sport.md").write_text(ZH_DOC, encoding="utf-8")
        pdf = root / "compliance.pdf"
        write_pdf(PDF_DOC, pdf)
        rc, _, err = run(*site.args, "ingest")
        assert rc == 0, err
        base_chunks, base_answer = chunks_and_vectors(site), ask(site)
        assert not base_answer["refused"]
        rc, out, err = run(*site.args, "ingest", "--add", str(folder), str(pdf))
        assert rc == 0 and "indexed 4 documents" in out, err
        answer = ask(site)
        assert not answer["refused"]
        yield Built(site, folder, pdf, base_chunks, base_answer, answer)


# --- listing -----------------------------------------------------------------------------------------


def test_docs_lists_manifest_and_added_documents(built):
    site, folder = built.site, built.folder
    rc, out, err = run(*site.args, "docs")
    assert rc == 0 and err == ""
    lines = {ln.split()[2]: ln for ln in out.splitlines()}  # kind, symbol, doc_id, ...
    assert list(lines) == [DOC_ID, EN_ID, ZH_ID, PDF_ID]
    assert lines[DOC_ID].split()[:5] == ["manifest", SYMBOL, DOC_ID, "zh", "20"]
    assert lines[DOC_ID].endswith(str(site.document))
    assert lines[PDF_ID].split()[:5] == ["added", PDF_SYMBOL, PDF_ID, "zh", "2"]
    assert lines[PDF_ID].endswith(str(built.pdf))
    assert lines[EN_ID].split()[:5] == ["added", EN_SYMBOL, EN_ID, "en", "3"]
    assert lines[EN_ID].endswith(f"{folder / 'procurement.txt'} (in the added folder {folder})")
    assert lines[ZH_ID].split()[:5] == ["added", ZH_SYMBOL, ZH_ID, "zh", "2"]

    rc, out, _ = run(*site.args, "docs", "--json")
    obj = json.loads(out)
    assert rc == 0 and obj["index"] == str(site.index)
    docs = {d["doc_id"]: d for d in obj["documents"]}
    assert docs[DOC_ID] == {"doc_id": DOC_ID, "symbol": SYMBOL, "ref": SYMBOL, "language": "zh", "paragraphs": 20,
                            "source": str(site.document), "kind": "manifest", "added_as": None, "indexed": True}
    assert docs[PDF_ID]["added_as"] == docs[PDF_ID]["source"] == str(built.pdf)
    assert docs[EN_ID]["added_as"] == docs[ZH_ID]["added_as"] == str(folder)
    assert all(d["indexed"] for d in docs.values())
    assert sum(d["paragraphs"] for d in docs.values()) == len({c["paragraph_id"] for c in chunks_and_vectors(site)[0]})


def test_paragraphs_jsonl_lists_added_documents_with_their_symbols(built):
    """``paragraphs`` shows what the index holds, added documents included, in the same schema."""
    rc, out, err = run(*built.site.args, "paragraphs", "--jsonl")
    assert rc == 0, err
    rows = [json.loads(line) for line in out.splitlines()]
    assert all(set(r) == KEYS for r in rows)
    by_doc: dict[str, list[dict]] = {}
    for r in rows:
        by_doc.setdefault(r["doc_id"], []).append(r)
    assert list(by_doc) == [DOC_ID, EN_ID, ZH_ID, PDF_ID]
    assert [r["para"] for r in by_doc[EN_ID]] == [1, 2, 3]
    assert by_doc[EN_ID][1]["label_en"] == f"{EN_SYMBOL}, para. 2"
    assert by_doc[EN_ID][1]["text"].startswith("The Working Group recommended that States parties publish")
    assert by_doc[PDF_ID][1]["label_zh"] == f"{PDF_SYMBOL}，第 2 段"  # the symbol read from the PDF's first line
    assert by_doc[PDF_ID][1]["text"] == "工作组建议各缔约国鼓励中小企业采用反腐败合规措施。"

    rc, out, _ = run(*built.site.args, "paragraphs", "--doc", ZH_ID, "--jsonl")
    assert rc == 0 and [json.loads(line)["label_en"] for line in out.splitlines()] == [
        f"{ZH_SYMBOL}, para. 1", f"{ZH_SYMBOL}, para. 2"]


# --- refusals: one line, nothing changed, questions still answered ------------------------------------

REFUSALS = {
    "manifest symbol": (SYMBOL, ["is a document of the built-in corpus", "delete its entry", "uncac-qa ingest"]),
    "manifest doc_id": (DOC_ID, ["is a document of the built-in corpus"]),
    "unknown symbol": ("CAC/COSP/WG.4/2099/L.404", [
        "no indexed document is 'CAC/COSP/WG.4/2099/L.404'; indexed: ", f"{SYMBOL} ({DOC_ID})",
        f"{PDF_SYMBOL} ({PDF_ID}) [added]", f"{EN_SYMBOL} ({EN_ID}) [added]", f"{ZH_SYMBOL} ({ZH_ID}) [added]"]),
    "one of a folder's documents": (EN_SYMBOL, [
        f"{EN_SYMBOL} ({EN_ID}) was added with the folder", f"holds 1 other indexed document ({ZH_ID})",
        "remove the whole folder (uncac-qa docs remove", "procurement.txt' out of it and run: uncac-qa ingest"]),
    "a folder's document by its file": ("{folder}/sport.md", ["was added with the folder", EN_ID]),
}


@pytest.mark.parametrize("name", REFUSALS)
def test_refused_removal_is_one_line_and_changes_nothing(built, name):
    target, says = REFUSALS[name]
    site = built.site
    before, added = snapshot(site), added_files(site)
    line = one_error_line(*run(*site.args, "docs", "remove", target.format(folder=built.folder)))
    for s in says:
        assert s in line, line
    assert snapshot(site) == before and added_files(site) == added
    assert ask(site) == built.answer  # still answered, from the same index


def test_a_removal_whose_build_fails_changes_nothing(built, monkeypatch):
    """The new index is written beside the old one and swapped in last: a failure before the swap
    (a full disk) leaves the index and its added paths as they were."""
    from embeddings.store import building

    def disk_full(*_a, **_k):
        raise OSError(28, "No space left on device")

    real_replace = building.fsutil.replace_dir
    monkeypatch.setattr(building.fsutil, "replace_dir", disk_full)
    site = built.site
    before, added = snapshot(site), added_files(site)
    line = one_error_line(*run(*site.args, "docs", "remove", PDF_SYMBOL))
    assert "No space left on device" in line
    monkeypatch.setattr(building.fsutil, "replace_dir", real_replace)
    assert snapshot(site) == before and added_files(site) == added
    assert not [p for p in site.root.iterdir() if ".tmp" in p.name]  # the half-written index is gone
    assert ask(site) == built.answer


# --- removal -----------------------------------------------------------------------------------------


def test_remove_a_file_then_a_folder_restores_the_first_index(built, monkeypatch):
    from embeddings.store import building
    from rag.config import load_settings, parse_override
    from rag.engine import Engine

    site = built.site
    chunks0, vectors0 = chunks_and_vectors(site)
    real_replace = building.fsutil.replace_dir
    during: list = []

    def replace_dir(tmp, target):
        # The new index is complete but not yet swapped in: a process that loads now gets the old one.
        overrides = dict(parse_override(a) for a in site.args[1::2])
        engine = Engine(load_settings(None, overrides)).load()
        during.append((engine.corpus.doc_ids, engine.ask(QUESTION)))
        return real_replace(tmp, target)

    monkeypatch.setattr(building.fsutil, "replace_dir", replace_dir)
    rc, out, err = run(*site.args, "docs", "remove", PDF_SYMBOL)
    assert rc == 0, err
    assert out.splitlines()[0] == f"removed {PDF_SYMBOL} ({PDF_ID}): 1 document, 2 paragraphs out of the index"
    assert "(0 encoded, " in out and ", 2 removed)" in out  # every other vector reused
    (doc_ids, answer), = during
    assert PDF_ID in doc_ids and not answer.refused and answer.citations

    assert added_files(site) == [str(built.folder)]
    rc, out, _ = run(*site.args, "docs")
    assert [ln.split()[2] for ln in out.splitlines()] == [DOC_ID, EN_ID, ZH_ID]
    chunks1, vectors1 = chunks_and_vectors(site)
    kept = [i for i, c in enumerate(chunks0) if c["doc_id"] != PDF_ID]
    assert chunks1 == [chunks0[i] for i in kept]  # nothing else in the index changed
    assert np.array_equal(vectors1, vectors0[kept])
    answer = ask(site)
    assert not answer["refused"] and {c["doc_id"] for c in answer["citations"]} == {DOC_ID}

    monkeypatch.setattr(building.fsutil, "replace_dir", real_replace)
    rc, out, err = run(*site.args, "docs", "remove", str(built.folder))  # the path given to --add
    assert rc == 0, err
    assert out.splitlines()[0] == f"removed the added folder {str(built.folder)!r}: 2 documents, 5 paragraphs out of the index"
    assert added_files(site) == []
    base_rows, base_vectors = built.base_chunks
    rows, vectors = chunks_and_vectors(site)
    assert rows == base_rows and np.array_equal(vectors, base_vectors)
    assert ask(site) == built.base_answer
    rc, out, _ = run(*site.args, "docs")
    assert [ln.split()[0] for ln in out.splitlines()] == ["manifest"]


# --- the cheap cases, with the hashing fake encoder ----------------------------------------------------


@pytest.fixture
def small(tmp_path, hash_encoders):
    site = make_site(tmp_path / "site")
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "procurement.txt").write_text(EN_DOC, encoding="utf-8")
    return site, folder


def test_the_only_document_of_a_folder_takes_the_folder_with_it(small):
    site, folder = small
    assert run(*site.args, "ingest", "--add", str(folder))[0] == 0
    rc, out, err = run(*site.args, "docs", "remove", EN_ID)
    assert rc == 0, err
    assert out.splitlines()[0] == (f"removed {EN_SYMBOL} ({EN_ID}), the only document of the added folder "
                                   f"{str(folder)!r} (no longer added): 1 document, 3 paragraphs out of the index")
    assert added_files(site) == []


def test_extra_paths_documents_are_refused_naming_the_setting(small):
    site, folder = small
    args = [*site.args, "--set", f"corpus.extra_paths=[\"{folder}\"]"]
    assert run(*args, "ingest")[0] == 0
    rc, out, _ = run(*args, "docs")
    assert rc == 0 and out.splitlines()[1].split()[:3] == ["config", EN_SYMBOL, EN_ID]
    line = one_error_line(*run(*args, "docs", "remove", EN_SYMBOL))
    assert "comes from corpus.extra_paths" in line and "take it out of corpus.extra_paths" in line


def test_a_deleted_added_file_is_listed_as_stale(small):
    site, folder = small
    doc = folder / "procurement.txt"
    assert run(*site.args, "ingest", "--add", str(doc))[0] == 0
    doc.write_text(EN_DOC.replace("every bid", "every bid and every award"), encoding="utf-8")
    rc, out, _ = run(*site.args, "docs")
    assert rc == 0 and out.splitlines()[1].endswith("(changed since the index was built; run: uncac-qa ingest)")
    doc.unlink()
    rc, out, err = run(*site.args, "docs")
    assert rc == 0 and "no longer exists" in err
    assert "its documents stay in the index until the next `uncac-qa ingest` drops them" in err
    stale = out.splitlines()[1]
    assert stale.split()[:4] == ["stale", EN_ID, EN_ID, "-"] and "3 paragraphs" in stale
    rc, out, err = run(*site.args, "docs", "remove", EN_ID)
    assert rc == 2 and "is still in the index, but its file is gone from the corpus; `uncac-qa ingest` drops it" in err
    rc, out, _ = run(*site.args, "ingest")
    assert rc == 0 and [ln.split()[0] for ln in run(*site.args, "docs")[1].splitlines()] == ["manifest"]


def test_no_index_is_one_line_naming_ingest(small):
    site, _ = small
    line = one_error_line(*run(*site.args, "docs"))
    assert "no index at" in line and "uncac-qa ingest" in line
    line = one_error_line(*run(*site.args, "docs", "remove", EN_SYMBOL))
    assert "uncac-qa ingest" in line


def test_remove_waits_for_a_running_ingest_of_the_same_index(small):
    """``docs remove`` and ``ingest`` take the same lock around read-modify-publish of the added paths."""
    from filelock import FileLock

    site, folder = small
    assert run(*site.args, "ingest", "--add", str(folder))[0] == 0
    held, done = threading.Event(), threading.Event()

    def other_command():  # another process's ingest, as far as the lock can tell
        with FileLock(site.root / ".index.added.lock"):
            held.set()
            time.sleep(0.5)
        done.set()

    threading.Thread(target=other_command).start()
    held.wait()
    rc, _, err = run(*site.args, "docs", "remove", str(folder))
    assert rc == 0 and done.is_set()
    assert "another command is updating this index's documents; waiting" in err
    assert added_files(site) == []
