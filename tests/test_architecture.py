"""The layers point one way: embeddings ← rag ← ui, eval (README, Architecture).

import-linter checks every import of the four packages against the contracts in pyproject.toml
(``[tool.importlinter]``); a lower layer importing a higher one fails here with the offending line.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_import_contracts_hold():
    lint = Path(sys.executable).with_name("lint-imports")
    r = subprocess.run([str(lint), "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout[-4000:] + r.stderr[-2000:]
    assert "Contracts: 1 kept, 0 broken" in r.stdout
