"""One shallow exception hierarchy for the whole project.

Every error names the bad value and, where there is a closed set, the allowed ones, so that the CLI,
the UI and the HTTP API can show ``str(err)`` to a person as it is, never a traceback.
"""

from __future__ import annotations

from collections.abc import Iterable


class UncacQAError(Exception):
    """Base of every error this project raises on purpose."""


class ConfigError(UncacQAError, ValueError):
    """``config.yaml`` or a CLI override names an unknown key or an ill-typed value."""


class CorpusError(UncacQAError, ValueError):
    """A document cannot be read or parsed (no numbered paragraph, unknown doc_id, bad manifest)."""


class IndexStateError(UncacQAError):
    """The index on disk is missing, corrupted, or was built with another model/config."""


class ModelError(UncacQAError):
    """The embedding model cannot be found, converted or loaded."""


class QueryError(UncacQAError, ValueError):
    """A question or a filter is not acceptable (empty, too long, unknown document...).

    ``key`` and ``params`` name the rule that failed ("too_long", {"n": 2301, "limit": 2000}) so an
    interface can say it in its own language without parsing the English message.
    """

    def __init__(self, message: str, *, key: str = "bad_input", **params: object) -> None:
        super().__init__(message)
        self.key = key
        self.params = params


class BusyError(UncacQAError):
    """The server cannot take this question now (too many waiting, or it waited too long): try again.

    ``retry_after`` is the number of seconds a client should wait (HTTP ``Retry-After``).
    """

    def __init__(self, message: str, *, retry_after: int = 1) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class LLMError(UncacQAError):
    """The optional LLM endpoint is unreachable or answered nonsense."""


def one_of(value: object, allowed: Iterable[object]) -> str:
    """Format ``'x' is not one of [...]`` consistently for error messages.

    >>> one_of("foo", ["a", "b"])
    "'foo'; allowed: 'a', 'b'"
    """
    return f"{value!r}; allowed: {', '.join(repr(a) for a in allowed)}"
