"""Text helpers of the rag layer.

The file helpers (checksums, inter-process locks, atomic writes and directory swaps) belong to the
embeddings layer, where the index store and the model converter need them: see
:mod:`embeddings.fsutil`. They are re-exported here for the layers above.
"""

from __future__ import annotations

from embeddings.fsutil import (  # noqa: F401 (re-exported)
    lock,
    remove_stale_temps,
    replace_dir,
    sha256_file,
    stale_temps,
    write_atomic,
)


def decode_problem(e: UnicodeDecodeError) -> str:
    """Where a text stops being UTF-8, for an error message: ``byte 0xe9 at offset 6``.

    >>> try:
    ...     b"abc\\xe9".decode("utf-8")
    ... except UnicodeDecodeError as e:
    ...     decode_problem(e)
    'byte 0xe9 at offset 3'
    """
    return f"byte 0x{e.object[e.start]:02x} at offset {e.start}"
