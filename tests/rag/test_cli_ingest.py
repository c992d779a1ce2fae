"""``uncac-qa ingest`` end to end on the real corpus, with the hashing fake encoder in place of the model
(the real one is exercised in tests/embeddings/store/)."""

from __future__ import annotations

import re

import pytest

import embeddings.encoders.factory as factory
from rag.cli import main
from tests.embeddings.fake_encoder import HashEncoder

USER_DOC = """# Draft report

联 合 国   CAC/COSP/WG.4/2024/L.9

1. 工作组讨论了受益所有权登记制度。

2. 工作组建议加强举报人保护。
"""

SUMMARY = re.compile(
    r"indexed (\d+) documents, (\d+) paragraphs, (\d+) chunks \((\d+) encoded, (\d+) reused, (\d+) removed\) "
    r"in [\d.]+s \(encoding [\d.]+s\); flat index, [\d.]+ MB at (.+)"
)


@pytest.fixture
def fake(monkeypatch):
    """Every encoder the CLI creates is a HashEncoder; ``fake.salt`` changes its fingerprint."""
    made: list[HashEncoder] = []

    class Factory:
        salt = ""

        def __call__(self, _settings):
            made.append(HashEncoder(salt=self.salt))
            return made[-1]

    f = Factory()
    f.made = made
    monkeypatch.setattr(factory, "create_encoder", f)
    return f


def ingest(capsys, directory, *args: str) -> tuple[int, str, str]:
    rc = main(["--set", f"index.dir={directory}", "ingest", *args])
    cap = capsys.readouterr()
    return rc, cap.out, cap.err


def summary(out: str) -> tuple[int, ...]:
    m = SUMMARY.search(out)
    assert m, out
    return tuple(int(g) for g in m.groups()[:6])


def snapshot(directory) -> dict[str, bytes]:
    return {p.relative_to(directory).as_posix(): p.read_bytes() for p in sorted(directory.rglob("*")) if p.is_file()}


def test_ingest_summary_if_missing_and_reuse(capsys, tmp_path, fake, corpus):
    idx = tmp_path / "idx"
    n_docs, n_paras = len(corpus.documents), len(corpus.paragraphs)

    rc, out, err = ingest(capsys, idx, "--if-missing")  # nothing there yet: builds
    docs, paras, chunks, encoded, reused, removed = summary(out)
    assert rc == 0 and (docs, paras, reused, removed) == (n_docs, n_paras, 0, 0)
    # the encoder also embeds the answer chain's units (sentences, sub-items), reported on stderr
    units = int(re.search(r"answer units: \d+ sentences and sub-items \((\d+) encoded\)", err).group(1))
    assert encoded + units == fake.made[-1].calls and chunks >= paras
    assert out.strip().endswith(str(idx)) and (idx / "manifest.json").is_file()

    rc, out, _ = ingest(capsys, idx, "--if-missing")
    assert rc == 0 and out.strip() == f"index up to date: {chunks} chunks, flat index at {idx}"
    assert fake.made[-1].calls == 0

    rc, out, _ = ingest(capsys, idx)
    assert summary(out)[3:] == (0, chunks, 0) and fake.made[-1].calls == 0

    rc, out, _ = ingest(capsys, idx, "--rebuild")
    assert summary(out)[3:5] == (encoded, 0)

    fake.salt = "another-model"  # the configured model changed: --if-missing rebuilds, naming why
    rc, out, err = ingest(capsys, idx, "--if-missing")
    assert rc == 0 and "fingerprint differs" in err and summary(out)[3] == encoded


def test_bad_user_file_changes_nothing(capsys, tmp_path, fake):
    idx = tmp_path / "idx"
    assert ingest(capsys, idx)[0] == 0
    before = snapshot(idx)
    bad = tmp_path / "memo.txt"
    bad.write_text("No numbered paragraphs here.\n", encoding="utf-8")
    rc, out, err = ingest(capsys, idx, "--add", str(bad))
    assert rc == 2 and out == "" and "Traceback" not in err
    assert err.startswith("uncac-qa: error: ") and "memo.txt" in err and "has no numbered paragraph" in err
    assert snapshot(idx) == before
    assert fake.made == [fake.made[0]]  # failed before any encoder was created


def test_added_documents_are_kept_until_forgotten(capsys, tmp_path, fake, corpus):
    idx = tmp_path / "idx"
    doc = tmp_path / "draft.md"
    doc.write_text(USER_DOC, encoding="utf-8")
    rc, out, _ = ingest(capsys, idx, "--add", str(doc))
    docs, paras, chunks, encoded, _, _ = summary(out)
    assert rc == 0 and docs == len(corpus.documents) + 1 and paras == len(corpus.paragraphs) + 2

    rc, out, _ = ingest(capsys, idx, "--if-missing")  # the added document is remembered
    assert out.startswith(f"index up to date: {chunks} chunks")

    rc, out, _ = ingest(capsys, idx, "--forget-added")
    assert summary(out)[:6] == (docs - 1, paras - 2, chunks - 2, 0, chunks - 2, 2)

    rc, out, _ = ingest(capsys, idx, "--add", str(doc))
    # nothing is encoded: the two paragraphs' vectors come back from the vector cache beside the index
    assert summary(out)[3:5] == (0, chunks)
    doc.unlink()
    rc, out, err = ingest(capsys, idx)
    assert "no longer exists" in err and summary(out)[5] == 2
