"""One shallow exception hierarchy for the whole project.

Its base and the errors the embeddings layer raises (:class:`UncacQAError`, :class:`ConfigError`,
:class:`CorpusError`, :class:`IndexStateError`, :class:`ModelError`, :func:`one_of`) are defined in
:mod:`embeddings.errors` and re-exported here as the same class objects; this module adds the errors
only the answer chain and its front ends raise.

Every error names the bad value and, where there is a closed set, the allowed ones, so that the CLI,
the UI and the HTTP API can show ``str(err)`` to a person as it is, never a traceback.
"""

from __future__ import annotations

from embeddings.errors import ConfigError, CorpusError, IndexStateError, ModelError, UncacQAError, one_of

__all__ = [
    "BusyError", "ConfigError", "CorpusError", "IndexStateError", "LLMError", "ModelError", "QueryError",
    "UncacQAError", "one_of",
]


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
