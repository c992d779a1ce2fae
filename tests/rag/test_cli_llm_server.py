"""``uncac-qa llm-server``: input checks (serving itself needs a GGUF the project does not ship)."""

from __future__ import annotations

from pathlib import Path

import pytest

from rag.commands.llm_server import server_params
from rag.errors import LLMError


def test_rejects_non_gguf_and_missing_files(tmp_path):
    with pytest.raises(LLMError, match=r"'model.bin' is not a .gguf file"):
        server_params(Path("model.bin"), 8080, 4096, 2)
    with pytest.raises(LLMError, match="does not exist"):
        server_params(tmp_path / "absent.gguf", 8080, 4096, 2)
    f = tmp_path / "m.gguf"
    f.write_bytes(b"GGUF")
    with pytest.raises(LLMError, match="--port 70000 is out of range"):
        server_params(f, 70000, 4096, 2)


def test_missing_extra_names_the_install_command(tmp_path, monkeypatch):
    import builtins

    real = builtins.__import__

    def no_xllamacpp(name, *a, **k):
        if name == "xllamacpp":
            raise ImportError(name)
        return real(name, *a, **k)

    monkeypatch.setattr(builtins, "__import__", no_xllamacpp)
    f = tmp_path / "m.gguf"
    f.write_bytes(b"GGUF")
    with pytest.raises(LLMError, match=r"pip install -e '\.\[llm\]'"):
        server_params(f, 8080, 4096, 2)


def test_cli_reports_errors_without_traceback(capsys):
    from rag.cli import main

    assert main(["llm-server", "--model", "nope.txt"]) == 2
    assert "is not a .gguf file" in capsys.readouterr().err
