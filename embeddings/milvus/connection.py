"""Where a Milvus index lives and how to reach it: a Milvus Lite file or a Milvus server, one client.

``index.milvus_uri`` is either a path ending in ``.db`` (Milvus Lite: embedded in this process, for CI,
a laptop and one-machine deployments; resolved against the project root) or ``http(s)://host:19530`` (a
Milvus standalone or cluster; the same code, nothing local but the vector cache). Every failure to
reach it is an IndexStateError with one line that names the URI and what to do.

Example::

    uri = resolve_uri(settings.index, root)            # '/srv/app/data/milvus.db' or 'http://milvus:19530'
    client = connect(settings.index, root)             # a pymilvus MilvusClient
    cache_root(settings.index, root)                   # Path('/srv/app/data/milvus.db.vectors')
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from embeddings.errors import IndexStateError
from embeddings.settings import IndexSettings

logger = logging.getLogger("embeddings.milvus")


def is_server(uri: str) -> bool:
    """True for ``http(s)://`` (a Milvus server), False for a Milvus Lite file path."""
    return "://" in uri


def resolve_uri(index: IndexSettings, root: Path | None = None) -> str:
    """``index.milvus_uri`` with a relative Lite path resolved against ``root`` (the project root)."""
    uri = index.milvus_uri
    if is_server(uri):
        return uri
    path = Path(uri).expanduser()
    if not path.is_absolute() and root is not None:
        path = Path(root) / path
    return str(path)


def cache_root(index: IndexSettings, root: Path | None = None) -> Path:
    """The VectorCache folder of this backend: ``<lite file>.vectors``, or for a server
    ``<root>/data/<collection>.vectors`` (vectors are cached where the encoder runs)."""
    uri = resolve_uri(index, root)
    if is_server(uri):
        return Path(root or ".") / "data" / f"{index.milvus_collection}.vectors"
    return Path(uri + ".vectors")


def lock_target(index: IndexSettings, root: Path | None = None) -> Path:
    """What a build locks (``fsutil.lock``): the Lite file, or the local vector cache for a server."""
    uri = resolve_uri(index, root)
    return cache_root(index, root) if is_server(uri) else Path(uri)


def shown(uri: str, root: Path | None = None) -> str:
    """The URI as messages show it: a Lite path relative to ``root`` when inside it."""
    if is_server(uri) or root is None:
        return uri
    try:
        return str(Path(uri).resolve().relative_to(Path(root).resolve()))
    except ValueError:
        return uri


def connect(index: IndexSettings, root: Path | None = None, *, create: bool = False):
    """A ``pymilvus.MilvusClient`` on ``index.milvus_uri``.

    A Lite file that does not exist is an IndexStateError unless ``create`` (a build); its folder is
    created then, and a folder that cannot be is one clear error. A server that does not answer within
    ``index.milvus_timeout_s`` is "unreachable". The token comes from the environment variable named by
    ``index.milvus_token_env``, never from config.yaml.
    """
    from pymilvus import MilvusClient
    from pymilvus.exceptions import MilvusException

    uri = resolve_uri(index, root)
    where = shown(uri, root)
    kwargs: dict = {"timeout": index.milvus_timeout_s}
    if is_server(uri):
        if token := os.environ.get(index.milvus_token_env):
            kwargs["token"] = token
    else:
        path = Path(uri)
        if not create and not path.exists():
            raise IndexStateError(f"no index at {where!r}; build it with: uncac-qa ingest")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise IndexStateError(f"cannot create the folder of the Milvus Lite file {where!r} "
                                  f"({e.strerror or e}); set index.milvus_uri to a writable path ending in .db") from None
    try:
        return MilvusClient(uri=uri, **kwargs)
    except MilvusException as e:
        if not is_server(uri):  # measured: a second process opening the same Lite file gets "Open local milvus failed"
            raise IndexStateError(f"the Milvus Lite file {where!r} cannot be opened ({_reason(e)}): Milvus Lite serves "
                                  "one process at a time; stop the other one (the app, an ingest) or use a Milvus "
                                  "server (index.milvus_uri: http://host:19530)") from None
        raise IndexStateError(f"Milvus at {where!r} is unreachable ({_reason(e)}); start it or set index.milvus_uri") from None
    except Exception as e:  # noqa: BLE001 - grpc, the Lite launcher and sockets raise many types; all mean "cannot reach"
        raise IndexStateError(f"Milvus at {where!r} is unreachable ({type(e).__name__}: {_reason(e)}); "
                              "start it or set index.milvus_uri") from None


def _reason(e: Exception) -> str:
    """The first line of a pymilvus/grpc message, short."""
    text = str(getattr(e, "message", "") or e).strip().splitlines()
    return (text[0] if text else type(e).__name__)[:200]
