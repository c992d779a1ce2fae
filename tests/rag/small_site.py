"""A one-document corpus, its index and unit cache in a temporary folder, driven through the real CLI
with the hashing fake encoder: the whole ingest → ask cycle in well under a second, so the fault tests
can afford to break every file and repair it.

Usage in a test module (the ``hash_encoders`` fixture is in tests/rag/conftest.py)::

    from tests.rag.small_site import cli, make_site

    def test_x(capsys, hash_encoders, tmp_path):
        site = make_site(tmp_path)
        rc, out, err = cli(capsys, *site.args, "ingest")
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import yaml

from rag.cli import main
from rag import engine as ask_command
from rag.config import ROOT

#: The shortest document of the corpus, and the one with a UN symbol in its header.
DOC_ID = "wg4-2019-l1-add1"
SYMBOL = "CAC/COSP/WG.4/2019/L.1/Add.1"
QUESTION = "工作组关于资产申报提出了什么建议？"


@dataclass(frozen=True)
class Site:
    """Paths of one temporary installation; ``args`` point the CLI at them."""

    root: Path

    @property
    def manifest(self) -> Path:
        return self.root / "corpus" / "manifest.yaml"

    @property
    def document(self) -> Path:
        return self.root / "corpus" / "doc.txt"

    @property
    def index(self) -> Path:
        return self.root / "index"

    @property
    def units(self) -> Path:
        return self.root / "index.units"

    @property
    def args(self) -> list[str]:
        return ["--set", f"corpus.manifest={self.manifest}", "--set", f"index.dir={self.index}",
                "--set", f"ui.data_dir={self.root / 'ui'}"]


def make_site(root: Path) -> Site:
    """Copy the one document and its manifest entry under ``root`` (nothing built yet)."""
    site = Site(Path(root))
    src = ROOT / "corpus" / "manifest.yaml"
    entry = next(e for e in yaml.safe_load(src.read_text(encoding="utf-8"))["documents"] if e["doc_id"] == DOC_ID)
    site.document.parent.mkdir(parents=True)
    shutil.copyfile(src.parent / entry["file"], site.document)
    site.manifest.write_text(yaml.safe_dump({"documents": [{**entry, "file": site.document.name}]}, allow_unicode=True),
                             encoding="utf-8")
    return site


def cli(capsys, *args: str) -> tuple[int, str, str]:
    """Run ``uncac-qa ARGS`` in-process with a fresh engine; (exit status, stdout, stderr)."""
    ask_command._ENGINES.clear()  # each call loads what is on disk now, as a new process would
    capsys.readouterr()
    rc = main(list(args))
    cap = capsys.readouterr()
    return rc, cap.out, cap.err


def answer_of(out: str) -> dict:
    """The ``ask --json`` result without its timings (which differ run to run)."""
    import json

    obj = json.loads(out)
    obj.pop("timings_ms", None)
    return obj
