"""``uncac-qa serve``: load the engine once and serve the web app (chat, widget, source viewer, API).

Examples::

    uncac-qa serve                          # 127.0.0.1:7860 (ui.host / ui.port in config.yaml)
    uncac-qa serve --host 0.0.0.0 --port 8000

A missing or stale index is reported as one line naming ``uncac-qa ingest`` (exit status 2).
"""

from __future__ import annotations

import argparse
import sys

from rag.cli import command
from rag.config import Settings
from rag.errors import ConfigError


def _args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--host", default=None, help="address to bind (default: ui.host, 127.0.0.1)")
    p.add_argument("--port", type=int, default=None, help="port to listen on (default: ui.port, 7860)")


@command("serve", "serve the chat, the widget, the source viewer and the HTTP API")(_args)
def _serve(args: argparse.Namespace, settings: Settings) -> int:
    import uvicorn

    from rag.engine import Engine
    from ui.app import create_app
    from ui.server import check_bindable, server_config

    host = args.host or settings.ui.host
    port = args.port if args.port is not None else settings.ui.port
    check_bindable(host, port)  # a bad or busy port is one line, before the model loads
    print("uncac-qa: loading the model and the index…", file=sys.stderr)
    engine = Engine(settings).load()  # raises IndexStateError ("… uncac-qa ingest") before serving anything
    app = create_app(engine)
    server = uvicorn.Server(server_config(app, settings, host, port))
    check_bindable(host, port)  # taken while the model loaded?
    print(f"uncac-qa: serving on http://{host}:{port}/  (widget: /widget, API: POST /api/ask)", file=sys.stderr)
    server.run()
    if not server.started:  # uvicorn logs the bind error itself and returns
        raise ConfigError(f"could not listen on {host}:{port}; see the message above")
    return 0
