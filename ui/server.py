"""Serving the app with uvicorn: the socket-level limits, and the checks made before "serving on".

uvicorn's h11 protocol times out an *idle* keep-alive connection, but a client that sends half a
request's headers and then waits holds its socket for ever (one was still open after 95 s): enough
such sockets exhaust file descriptors. :class:`GuardedH11Protocol` closes a connection whose request
headers are not complete ``server.header_timeout_s`` after it opened (or after its previous response).

Example::

    server = uvicorn.Server(server_config(app, settings, "127.0.0.1", 7860))
    server.run()
"""

from __future__ import annotations

import asyncio
import errno
import socket
from typing import Any

import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

from rag.errors import ConfigError


class GuardedH11Protocol(H11Protocol):
    """h11 with a deadline for the request line and headers (slowloris)."""

    header_timeout: float = 10.0

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()

    def _arm(self) -> None:
        self._waiting_for = self.cycle  # the cycle a complete new request will replace
        self._header_timer = self.loop.call_later(self.header_timeout, self._headers_overdue)

    def _disarm(self) -> None:
        timer = getattr(self, "_header_timer", None)
        if timer is not None:
            timer.cancel()
            self._header_timer = None

    def _headers_overdue(self) -> None:
        self._header_timer = None
        if self.cycle is self._waiting_for and not self.transport.is_closing():
            self.transport.close()

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if self.cycle is not self._waiting_for:  # h11 produced a Request: the headers are complete
            self._disarm()

    def on_response_complete(self) -> None:
        # Armed before the parent runs: it may parse a pipelined request at once (a new cycle then
        # exists and the deadline does nothing).
        self._disarm()
        if not self.transport.is_closing():
            self._arm()  # the next request on this keep-alive connection gets its own deadline
        super().on_response_complete()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)


def protocol_for(header_timeout: float) -> type[H11Protocol]:
    """A GuardedH11Protocol subclass with this deadline (uvicorn takes a class, not an instance)."""
    return type("GuardedH11Protocol", (GuardedH11Protocol,), {"header_timeout": header_timeout})


def server_config(app: Any, settings: Any, host: str, port: int, **kw: Any) -> uvicorn.Config:
    """The uvicorn config every server of this project uses (``serve``, the tests, the benchmark)."""
    s = settings.server
    kw.setdefault("log_level", "warning")
    return uvicorn.Config(
        app, host=host, port=port, http=protocol_for(s.header_timeout_s), timeout_keep_alive=5,
        limit_concurrency=s.max_queue + 64, **kw,
    )


def check_bindable(host: str, port: object) -> None:
    """ConfigError naming the port or address when the server could not listen there (before any
    "serving on" is printed): out of range, in use, or not an address of this machine."""
    if isinstance(port, bool) or not isinstance(port, int) or not 1 <= port <= 65535:
        raise ConfigError(f"port {port!r} is not allowed; allowed: 1 to 65535")
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as e:
        raise ConfigError(f"host {host!r} cannot be resolved ({e}); use an address such as 127.0.0.1") from None
    family, _, _, _, addr = infos[0]
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # what uvicorn sets too
        try:
            sock.bind(addr)
        except OSError as e:
            if e.errno == errno.EADDRINUSE:
                raise ConfigError(f"port {port} on {host} is already in use; stop the other server or pick one with --port") from None
            raise ConfigError(f"cannot listen on {host}:{port}: {e.strerror}") from None
