"""What one request may send, enforced before any route (ours or Gradio's) sees it.

An ASGI middleware in front of the whole app:

- **Body size**: a ``Content-Length`` over ``server.max_body_bytes`` is answered 413 before a byte of
  the body is read; a chunked body is counted as it arrives and cut off at the same limit. (Without it
  four 100 MB bodies took the process from 1.5 to 3.5 GB.)
- **Slow bodies**: a client that pauses longer than ``server.body_timeout_s`` mid-body gets 408.
  (Slow *headers* are the protocol's job: ``ui.server.GuardedH11Protocol``.)
- **Nesting**: a JSON body nested deeper than :data:`MAX_JSON_DEPTH` is answered 400 (Python's json
  recurses per level; 1,000 levels was a plain-text 500).
- **Uploads**: this app takes questions, not files, so Gradio's ``/gradio_api/upload`` is closed
  (it stored 20 MB files from any origin).

Bodies are small (≤ ``max_body_bytes``), so they are read whole here and replayed to the route.

Example::

    app.add_middleware(RequestLimits, server=settings.server)
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

#: Deepest JSON nesting accepted: a question body is 3 levels deep (history: object → list → pair).
MAX_JSON_DEPTH = 32

_BODY_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


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

    def __init__(self, app: Any, server: Any) -> None:
        self.app = app
        self.max_bytes: int = server.max_body_bytes
        self.body_timeout: float = server.body_timeout_s

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["method"] not in _BODY_METHODS:
            await self.app(scope, receive, send)
            return
        path = scope.get("path", "")
        if path.rstrip("/").endswith("/gradio_api/upload"):
            await _reply(send, 403, "file uploads are off: this server answers questions and does not take files")
            return
        headers = dict(scope.get("headers") or [])
        length = headers.get(b"content-length")
        if length is not None:
            try:
                n = int(length)
            except ValueError:
                await _reply(send, 400, f"Content-Length {length.decode('latin-1')[:40]!r} is not a number")
                return
            if n > self.max_bytes:
                await _reply(send, 413, f"the request body has {n} bytes; the limit is {self.max_bytes} (server.max_body_bytes)")
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


async def _reply(send: Any, status: int, message: str) -> None:
    payload = json.dumps({"error": message}, ensure_ascii=False).encode()
    await send({
        "type": "http.response.start", "status": status,
        "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode()),
                    (b"connection", b"close")],
    })
    await send({"type": "http.response.body", "body": payload})
