"""The whole web app in one FastAPI process: the Gradio chat, the widget, the source viewer, the JSON API.

Routes::

    /                      Gradio chat (Blocks) with sources panel, filters, examples, feedback, zh/en
    /widget                compact chat only, for an <iframe> (``?lang=en`` for English)
    /source/<doc_id>       the whole document, paragraph anchors #p12 / #p54-j (plain HTML, no Gradio)
    POST /api/ask          JSON in, AnswerResult.to_json() out
    /gradio_api/...        Gradio's own API (gradio_client: ``Client(url).predict(q, api_name="/ask")``);
                           its /gradio_api/upload answers 403 unless ``ui.upload`` (then: the full page's only)
    /healthz               {"status": "ok", "documents": N, "paragraphs": N, "waiting": N}
    /api/openapi.json      OpenAPI schema of the routes above (what the fuzzing test is generated from)

Everything is served from this process: no CDN, no share link, no analytics, no version check.
Every request first passes ``ui.limits.RequestLimits`` (body size, slow bodies, JSON depth, uploads
closed unless ``ui.upload``, then only the full page's, up to ``corpus.max_file_mb``); questions from every front end meet in one micro-batcher (``rag.batcher``), and
``/healthz`` runs on the event loop, so it answers in milliseconds however many questions wait.

Example::

    app = create_app(Engine(settings).load())
    uvicorn.run(app, host="127.0.0.1", port=7860)
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import gradio as gr  # noqa: E402
from fastapi import FastAPI  # noqa: E402
from fastapi import Request  # noqa: E402
from fastapi.responses import JSONResponse, RedirectResponse  # noqa: E402

from ui.api import api_router  # noqa: E402
from ui.chat import build_chat  # noqa: E402
from ui.feedback import FeedbackStore  # noqa: E402
from ui.limits import MULTIPART_SLACK, RequestLimits  # noqa: E402
from ui.service import Assistant, EngineLike  # noqa: E402
from ui.source_view import source_router  # noqa: E402
from ui.style import CSS, PAGE_JS, THEME  # noqa: E402
from ui.upload import upload_bytes, upload_token  # noqa: E402

_MOUNT = {
    "footer_links": [],  # no "built with Gradio"/API/settings links (and no external link at all)
    "run_history": False,
    "ssr_mode": False,  # SSR needs a Node server; plain client rendering is served from this process
    "pwa": False,
    "mcp_server": False,
    "css": CSS,
    # System fonts only: CJK-capable on every OS, nothing downloaded, no Latin/CJK font mixing.
    "theme": THEME,
    "js": PAGE_JS,
    "show_error": True,  # an error's one-line message (never a traceback) reaches the page
}


def create_app(engine: EngineLike, *, store: FeedbackStore | None = None) -> FastAPI:
    """Build the app around an already loaded engine (``Engine(settings).load()`` or a test double).

    ``store`` defaults to ``<settings.ui.data_dir>/feedback.sqlite3``. With ``ui.upload`` the full page
    takes documents (``ui.upload``); ``settings.ui.host`` must then be the address actually bound
    (``uncac-qa serve`` puts ``--host`` there), since a non-local one needs the upload token: ConfigError
    when its environment variable is unset.
    """
    upload_token(engine.settings)  # a non-local upload server without its token: one line, before anything starts
    assistant = Assistant(engine, store).start()
    settings = assistant.settings
    uploads = settings.ui.upload

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        assistant.start()
        yield
        assistant.close()

    app = FastAPI(title="uncac-qa", docs_url=None, redoc_url=None, openapi_url=None, lifespan=lifespan)
    app.state.assistant = assistant
    # Uploads (ui.upload): the file's limit is the readers' (corpus.max_file_mb), plus the multipart framing.
    upload_limit = upload_bytes(settings) + MULTIPART_SLACK if uploads else None
    app.add_middleware(RequestLimits, server=settings.server, upload_bytes=upload_limit)

    @app.get("/api/openapi.json", include_in_schema=False)
    async def openapi() -> JSONResponse:
        """The schema of the plain routes (/api/ask, /healthz, /source); Gradio's API has its own."""
        return JSONResponse(app.openapi())

    @app.get("/healthz", summary="Liveness: answers at once, however many questions wait")
    async def healthz() -> JSONResponse:
        # async on purpose: a sync route waits for a worker thread, and under load those are busy
        c = assistant.corpus
        waiting = assistant.batcher.stats().waiting
        return JSONResponse({"status": "ok", "documents": len(c.documents), "paragraphs": len(c), "waiting": waiting})

    @app.get("/widget", include_in_schema=False)
    def widget_slash(request: Request) -> RedirectResponse:
        query = f"?{request.url.query}" if request.url.query else ""
        return RedirectResponse(f"/widget/{query}", status_code=307)

    app.include_router(source_router(assistant.corpus, default_lang=settings.ui.language))
    app.include_router(api_router(assistant))
    mount = dict(_MOUNT, server_name=settings.ui.host, server_port=settings.ui.port)
    # Starlette matches in order: the routes above, then /widget, then the chat at / catches the rest.
    # Gradio's own queue is bounded like the batcher's: past max_size a browser is told the queue is full.
    limit = settings.server.max_queue
    gr.mount_gradio_app(app, build_chat(assistant, compact=True).queue(max_size=limit), path="/widget", **mount)
    page = dict(mount, max_file_size=upload_bytes(settings)) if uploads else mount
    gr.mount_gradio_app(app, build_chat(assistant).queue(default_concurrency_limit=4, max_size=limit), path="/", **page)
    return app
