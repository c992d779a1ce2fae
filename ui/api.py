"""``POST /api/ask``: the plain JSON endpoint, returning ``AnswerResult.to_json()``.

Body::

    {"question": "…", "doc_ids": ["wg4-2019-l1-add1"], "bodies": ["WG.4"], "years": [2019], "k": 10,
     "history": [["earlier question", "earlier answer"], …]}

Only ``question`` is required. Errors are ``{"error": "one line"}``, never a traceback: 400 for a body
that is not a JSON object (or nested too deep to be a question), 413 for a body over
``server.max_body_bytes`` (before it is read, see ``ui.limits``), 422 for a bad field or a bad question
(empty, too long, control characters, lone surrogates, unknown document), 503 + ``Retry-After`` when
the server is busy (``server.max_queue`` waiting) or the engine cannot answer, 500 otherwise.

The handler never holds a thread while it waits: the question is validated on the event loop (cheap)
and awaited on the micro-batcher's future, so ``/healthz`` and other clients are served meanwhile.

Example::

    curl -s localhost:7860/api/ask -H 'content-type: application/json' \\
         -d '{"question": "What has UNODC done to protect whistleblowers?"}'
"""

from __future__ import annotations

import asyncio
import json
import logging

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, StrictInt, ValidationError

from rag.errors import BusyError, QueryError, UncacQAError
from rag.request import Filters
from ui.service import Assistant

log = logging.getLogger(__name__)


class AskBody(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=False)

    question: str = Field(description="The question, Chinese or English.")
    doc_ids: list[str] = Field(default_factory=list, description="Only these documents.")
    bodies: list[str] = Field(default_factory=list, description="Only these bodies (CoSP, WG.4).")
    # strict: JSON true is not the year 1 nor k = 1, and "5" is not a number
    years: list[StrictInt] = Field(default_factory=list, description="Only these years.")
    k: StrictInt | None = Field(None, ge=1, le=200, description="Chunks retrieved (default retrieval.k).")
    history: list[tuple[str, str]] = Field(default_factory=list, description="Earlier (question, answer) turns.")


def _error(status: int, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status, headers=headers)


def busy_response(e: BusyError) -> JSONResponse:
    return _error(503, str(e), {"Retry-After": str(e.retry_after)})


def validation_message(err: ValidationError) -> str:
    """The first problem of a pydantic error as one line naming the field (and the allowed ones)."""
    e = err.errors()[0]
    field = ".".join(str(p) for p in e["loc"]) or "body"
    if e["type"] == "extra_forbidden":
        return f"unknown field {field!r}; allowed: {', '.join(AskBody.model_fields)}"
    if e["type"] == "missing":
        return f"field {field!r} is required"
    return f"field {field!r}: {e['msg']}"


_ERROR = {"content": {"application/json": {"schema": {
    "type": "object", "properties": {"error": {"type": "string"}}, "required": ["error"]}}}}
# The body is read by hand (one clear line per bad value, not FastAPI's error list), so its schema is
# declared here for /api/openapi.json, from the same model that validates it.
_ASK_OPENAPI = {
    "requestBody": {"required": True, "content": {"application/json": {"schema": AskBody.model_json_schema()}}},
    "responses": {
        "200": {"description": "AnswerResult.to_json(): answer, refused, citations, retrieved, timings_ms",
                "content": {"application/json": {"schema": {"type": "object"}}}},
        **{code: {"description": why, **_ERROR} for code, why in [
            ("400", "not a JSON object, or nested too deep"), ("413", "body over server.max_body_bytes"),
            ("422", "a bad field or question"), ("503", "busy (Retry-After) or the engine cannot answer")]},
    },
}


def api_router(assistant: Assistant) -> APIRouter:
    router = APIRouter()

    @router.post("/api/ask", summary="Answer a question, every sentence cited", openapi_extra=_ASK_OPENAPI)
    async def ask(request: Request) -> JSONResponse:
        try:
            data = json.loads(await request.body())
        except (ValueError, UnicodeDecodeError):
            return _error(400, 'the request body must be a JSON object such as {"question": "..."}')
        except RecursionError:  # json's C decoder recurses per nesting level
            return _error(400, "the request body is nested too deeply to be a question; send a flat JSON object")
        if not isinstance(data, dict):
            return _error(400, f'the request body must be a JSON object, got {type(data).__name__}')
        try:
            body = AskBody.model_validate(data)
        except ValidationError as e:
            return _error(422, validation_message(e))
        except RecursionError:
            return _error(400, "a field is nested too deeply; send a flat JSON object")
        filters = Filters(tuple(body.doc_ids), tuple(body.bodies), tuple(body.years))
        timeout = assistant.settings.server.answer_timeout_s
        try:
            req = assistant.request(body.question, filters=filters, k=body.k, history=tuple(body.history))
            future = assistant.submit(req)
            result = await asyncio.wait_for(asyncio.wrap_future(future), timeout)
        except QueryError as e:
            return _error(422, str(e))
        except BusyError as e:
            return busy_response(e)
        except TimeoutError:
            future.cancel()
            return busy_response(BusyError(f"no answer within {timeout:g} s (server.answer_timeout_s); ask again",
                                           retry_after=assistant.batcher.retry_after()))
        except UncacQAError as e:
            return _error(503, str(e))
        except Exception:  # never a traceback to the client; the log has it
            log.exception("POST /api/ask failed")
            return _error(500, "internal error: the question could not be answered")
        return JSONResponse(result.to_json())

    return router
