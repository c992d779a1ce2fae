"""``uncac-qa llm-server --model FILE.gguf``: a local OpenAI-compatible LLM server on loopback.

Uses ``xllamacpp`` (optional extra ``[llm]``: a prebuilt llama.cpp wheel that installs in seconds;
llama-cpp-python would compile for 5-20 minutes). The project ships no model: bring a GGUF file (a
1.5B-3B instruct model answers in ~15 s on two cores). Then set ``answer.backend: llm`` and
``llm.base_url: http://127.0.0.1:PORT/v1`` (or pass them with ``--set``).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from rag.cli import command
from rag.config import Settings
from rag.errors import LLMError


def _args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--model", required=True, metavar="FILE.gguf", help="a GGUF model file you supply")
    p.add_argument("--port", type=int, default=8080, help="loopback port (default 8080)")
    p.add_argument("--ctx", type=int, default=4096, help="context length in tokens (default 4096)")
    p.add_argument("--threads", type=int, default=2, help="CPU threads (default 2)")


def server_params(model: Path, port: int, ctx: int, threads: int):
    """xllamacpp CommonParams for a loopback-only server; LLMError for a bad file or a missing extra."""
    if model.suffix.lower() != ".gguf":
        raise LLMError(f"--model {str(model)!r} is not a .gguf file; llama.cpp serves GGUF models only")
    if not model.is_file():
        raise LLMError(f"--model {str(model)!r} does not exist")
    if not 1 <= port <= 65535:
        raise LLMError(f"--port {port} is out of range; allowed: 1 to 65535")
    try:
        import xllamacpp
    except ImportError:
        raise LLMError("the local LLM server needs the optional extra: .venv/bin/pip install -e '.[llm]'") from None
    params = xllamacpp.CommonParams()
    params.model.path = str(model)
    params.hostnames = ["127.0.0.1"]  # never reachable from outside this machine
    params.port = port
    params.n_ctx = ctx
    params.n_parallel = 1
    params.cpuparams.n_threads = threads
    return params


@command("llm-server", "serve a local GGUF model on 127.0.0.1 with an OpenAI-compatible API (extra [llm])")(_args)
def _llm_server(args: argparse.Namespace, settings: Settings) -> int:
    params = server_params(Path(args.model).expanduser(), args.port, args.ctx, args.threads)
    import xllamacpp

    try:
        server = xllamacpp.Server(params)
    except RuntimeError as e:
        raise LLMError(f"llama.cpp could not start with {args.model!r}: {e}") from None
    print(f"serving {args.model} at http://127.0.0.1:{args.port}/v1 ({server.listening_address()})")
    print(f"use it with: uncac-qa --set answer.backend=llm --set llm.base_url=http://127.0.0.1:{args.port}/v1 serve")
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        return 0
