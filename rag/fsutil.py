"""Text and file-reading helpers of the rag layer.

The file helpers (checksums, inter-process locks, atomic writes and directory swaps) belong to the
embeddings layer, where the index store and the model converter need them: see
:mod:`embeddings.fsutil`. They are re-exported here for the layers above.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

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


def yaml_problem(e: Exception) -> str:
    """What is wrong where in a YAML text, in one line (PyYAML's own message spans several):
    ``expected ',' or ']', but got '<stream end>' at line 2, column 1``."""
    if isinstance(e, RecursionError):
        return "it is nested too deeply"
    mark, problem = getattr(e, "problem_mark", None), getattr(e, "problem", None)
    if problem and mark is not None:
        return f"{problem} at line {mark.line + 1}, column {mark.column + 1}"
    return " ".join(str(e).split())


def read_yaml(path: Path, what: str, error: type[Exception]) -> Any:
    """The YAML document at ``path`` (``{}`` when empty), or ``error`` with one line saying what is
    wrong: not UTF-8 (which byte), unreadable (why), not YAML (where). ``what`` names the file in the
    message ("config file", "manifest"), so the config and the corpus manifest read the same way.

    >>> read_yaml(Path("/nonexistent.yaml"), "manifest", ValueError)
    Traceback (most recent call last):
    ValueError: cannot read manifest '/nonexistent.yaml' (No such file or directory); check its permissions
    """
    where = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as e:
        raise error(f"{what} {where!r} is not UTF-8 text ({decode_problem(e)}); save it as UTF-8") from None
    except OSError as e:
        raise error(f"cannot read {what} {where!r} ({e.strerror or e}); check its permissions") from None
    try:
        return yaml.safe_load(text) or {}
    except (yaml.YAMLError, RecursionError) as e:
        raise error(f"{what} {where!r} is not valid YAML: {yaml_problem(e)}") from None
