"""The base of the project's one shallow exception hierarchy, and the errors the embeddings layer raises.

They live here, in the lowest layer, so that encoders, indexes and the index store can raise them
without importing ``rag``; :mod:`rag.errors` re-exports these very classes and adds the ones only the
answer chain raises, so ``except rag.errors.UncacQAError`` still catches everything. Every error names
the bad value and, where there is a closed set, the allowed ones (see :func:`one_of`), so that the CLI,
the UI and the HTTP API can show ``str(err)`` to a person as it is, never a traceback.

Example::

    raise ModelError(f"encoder backend {one_of('onnx', ['sentence-transformers'])}")
"""

from __future__ import annotations

from collections.abc import Iterable


class UncacQAError(Exception):
    """Base of every error this project raises on purpose."""


class ConfigError(UncacQAError, ValueError):
    """``config.yaml`` or a CLI override names an unknown key or an ill-typed value."""


class CorpusError(UncacQAError, ValueError):
    """A document cannot be read or parsed (no numbered paragraph, unknown doc_id, bad manifest), or the
    records built from it cannot be indexed (none at all, the same id twice)."""


class IndexStateError(UncacQAError):
    """The index on disk is missing, corrupted, or was built with another model/config."""


class ModelError(UncacQAError):
    """The embedding model cannot be found, converted or loaded."""


def one_of(value: object, allowed: Iterable[object]) -> str:
    """Format ``'x' is not one of [...]`` consistently for error messages.

    >>> one_of("foo", ["a", "b"])
    "'foo'; allowed: 'a', 'b'"
    """
    return f"{value!r}; allowed: {', '.join(repr(a) for a in allowed)}"
