"""What one request may send, enforced before any route (ours or Gradio's) sees it.

An ASGI middleware in front of the whole app:

- **Body size**: a ``Content-Length`` over ``server.max_body_bytes`` is answered 413 before a byte of
  the body is read; a chunked body is counted as it arrives and cut off at the same limit. (Without it
  four 100 MB bodies took the process from 1.5 to 3.5 GB.)
- **Slow bodies**: a client that pauses longer than ``server.body_timeout_s`` mid-body gets 408.
  (Slow *headers* are the protocol's job: ``ui.server.GuardedH11Protocol``.)
- **Nesting**: a JSON body nested deeper than :data:`MAX_JSON_DEPTH` is answered 400 (Python's json
  recurses per level; 1,000 levels was a plain-text 500).
- **Uploads**: off by default (``ui.upload: false``) Gradio's ``/gradio_api/upload`` is closed from
  any origin (it stored 20 MB files). With ``upload_bytes`` set (``ui.upload``), the full page's route
  ``/gradio_api/upload`` alone takes a ``multipart/form-data`` body of at most ``upload_bytes`` (the
  ``corpus.max_file_mb`` of a document plus the multipart framing), streamed to Gradio rather than
  held here, with the same pause limit; the widget's ``/widget/gradio_api/upload`` stays closed.

Other bodies are small (≤ ``max_body_bytes``), so they are read whole here and replayed to the route.

Example::

    app.add_middleware(RequestLimits, server=settings.server)                         # no uploads
    app.add_middleware(RequestLimits, server=settings.server, upload_bytes=50_065_536)  # ui.upload
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

#: Deepest JSON nesting accepted: a question body is 3 levels deep (history: object → list → pair).
MAX_JSON_DEPTH = 32

_BODY_METHODS = {"POST", "PUT", "PATCH", "DELETE"}

#: The one route that may take a file when uploads are on: the full page's (mounted at ``/``).
UPLOAD_PATH = "/gradio_api/upload"

#: Room for the multipart framing (boundaries, part headers, the file name) around a file of the limit.
MULTIPART_SLACK = 65_536


def json_depth_exceeds(body: bytes, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether ``body`` opens more than ``limit`` nested arrays/objects (brackets in strings ignored).

    >>> json_depth_exceeds(b'{"q": [[1]]}', 2), json_depth_exceeds(b'{"q": "[[[[["}', 2)
    (True, False)
    """
    if body.count(b"[") + body.count(b"{") <= limit:  # the common case: nothing to scan
        return False
    depth, in_str, escaped = 0, False, False
    for c in body.decode("utf-8", "replace"):
        if in_str:
            if escaped:
                escaped = False
            elif c == "\\":
                escaped = True
            elif c == '"':
                in_str = False
        elif c == '"':
            in_str = True
        elif c in "[{":
            depth += 1
            if depth > limit:
                return True
        elif c in "]}":
            depth -= 1
    return False


class RequestLimits:
    """Pure ASGI middleware (no Starlette request object: it must run before anything reads the body)."""

    def __init__(self, app: Any, server: Any, upload_bytes: int | None = None) -> None:
        """``upload_bytes``: None keeps every upload route closed (403); a number opens :data:`UPLOAD_PATH`
        to multipart bodies of at most that many bytes."""
        self.app = app
        self.max_bytes: int = server.max_body_bytes
        self.body_timeout: float = server.body_timeout_s
        self.upload_bytes = upload_bytes

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["method"] not in _BODY_METHODS:
            await self.app(scope, receive, send)
            return
        path = scope.get("path", "").rstrip("/")
        headers = dict(scope.get("headers") or [])
        if path.endswith(UPLOAD_PATH):
            if self.upload_bytes is None:
                await _reply(send, 403, "file uploads are off: this server answers questions and does not take files")
                return
            if path != UPLOAD_PATH:
                await _reply(send, 403, "file uploads are taken only on the full page (/), not here")
                return
            if headers.get(b"content-type", b"").lower().startswith(b"multipart/form-data"):
                await self._upload(scope, receive, send, headers)
                return
        length = _content_length(headers)
        if isinstance(length, str):
            await _reply(send, 400, length)
            return
        if length is not None and length > self.max_bytes:
            await _reply(send, 413, f"the request body has {length} bytes; the limit is {self.max_bytes} (server.max_body_bytes)")
            return
        chunks, size = [], 0
        while True:
            try:
                message = await asyncio.wait_for(receive(), self.body_timeout)
            except TimeoutError:
                await _reply(send, 408, f"the request body did not arrive within {self.body_timeout:g} s (server.body_timeout_s)")
                return
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                await _reply(send, 413, f"the request body is over {self.max_bytes} bytes (server.max_body_bytes)")
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        if b"json" in headers.get(b"content-type", b"") and json_depth_exceeds(body):
            await _reply(send, 400, f"the JSON body is nested more than {MAX_JSON_DEPTH} levels deep; send a flat object")
            return
        replayed = False

        async def replay() -> dict:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()  # afterwards: wait for the disconnect, as the server would

        await self.app(scope, replay, send)

    async def _upload(self, scope: dict, receive: Any, send: Any, headers: dict[bytes, bytes]) -> None:
        """Pass a file upload through to Gradio as it arrives, counting it: over ``upload_bytes`` (413) or a
        pause over ``body_timeout_s`` (408), the route is handed the end of the body and whatever it
        answers to the cut-off form is replaced by that one-line error."""
        limit = self.upload_bytes or 0
        where = f"the upload limit is {limit} bytes (corpus.max_file_mb of a document plus the form around it)"
        length = _content_length(headers)
        if isinstance(length, str):
            await _reply(send, 400, length)
            return
        if length is not None and length > limit:
            await _reply(send, 413, f"the upload has {length} bytes; {where}")
            return
        size, done = 0, False
        cut: tuple[int, str] | None = None

        async def counted() -> dict:
            nonlocal size, done, cut
            if done:
                return await receive()  # after the body: the disconnect, as the server would
            try:
                message = await asyncio.wait_for(receive(), self.body_timeout)
            except TimeoutError:
                cut = (408, f"the upload paused for more than {self.body_timeout:g} s (server.body_timeout_s)")
                message = {"type": "http.request", "body": b"", "more_body": False}
            if message["type"] == "http.request" and cut is None:
                size += len(message.get("body", b""))
                if size > limit:
                    cut = (413, f"the upload is over {limit} bytes; {where}")
                    message = {"type": "http.request", "body": b"", "more_body": False}
            done = done or not message.get("more_body", False)
            return message

        async def guarded(message: dict) -> None:
            if cut is None:
                await send(message)

        await self.app(scope, counted, guarded)
        if cut is not None:
            await _reply(send, *cut)


def _content_length(headers: dict[bytes, bytes]) -> int | str | None:
    """The Content-Length as a number, None when absent, or the one-line error when it is not a number."""
    length = headers.get(b"content-length")
    if length is None:
        return None
    try:
        return int(length)
    except ValueError:
        return f"Content-Length {length.decode('latin-1')[:40]!r} is not a number"


async def _reply(send: Any, status: int, message: str) -> None:
    payload = json.dumps({"error": message}, ensure_ascii=False).encode()
    await send({
        "type": "http.response.start", "status": status,
        "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode()),
                    (b"connection", b"close")],
    })
    await send({"type": "http.response.body", "body": payload})
