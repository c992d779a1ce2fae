"""What is served and how it was built, kept IN Milvus (the ``<milvus_collection>_meta`` collection), so a
server deployment needs no local file: the ``live`` entry names the data collection being served and
``manifest:<collection>`` holds that build's manifest (encoder, settings, counts, ``meta``).

The switch is one upsert of the ``live`` row (and, where Milvus has aliases, the alias
``<milvus_collection>`` moved to the new collection for other tools): a reader sees the old collection
or the new one, never a half-built one. Chunk ids and text hashes are not in the manifest: they are
columns of the data collection, read in row order when a stale check needs them.

Example::

    live = read_live(client, settings.index)                 # 'uncac_qa_20261201T161500123456' or None
    manifest = read_manifest(client, settings.index, live)   # {'encoder': {...}, 'meta': {...}, ...}
"""

from __future__ import annotations

import logging
from typing import Any

from embeddings.milvus.schema import (
    LIVE,
    META_KEY,
    META_PAD,
    META_VALUE,
    manifest_key,
    meta_index_params,
    meta_name,
    meta_schema,
)
from embeddings.settings import IndexSettings

logger = logging.getLogger("embeddings.milvus")


def ensure_meta(client, index: IndexSettings) -> str:
    """The metadata collection's name, created and loaded when missing."""
    name = meta_name(index)
    if not client.has_collection(name):
        client.create_collection(name, schema=meta_schema(), index_params=meta_index_params(client),
                                 consistency_level="Strong")
    client.load_collection(name)
    return name


def _get(client, index: IndexSettings, key: str) -> Any:
    name = meta_name(index)
    if not client.has_collection(name):
        return None
    client.load_collection(name)
    rows = client.query(name, ids=[key], output_fields=[META_VALUE])
    return rows[0][META_VALUE] if rows else None


def _put(client, index: IndexSettings, key: str, value: Any) -> None:
    client.upsert(ensure_meta(client, index), [{META_KEY: key, META_VALUE: value, META_PAD: [0.0, 0.0]}])


def read_live(client, index: IndexSettings) -> str | None:
    """The data collection being served, or None when no build has completed."""
    value = _get(client, index, LIVE)
    return value.get("collection") if isinstance(value, dict) else None


def read_manifest(client, index: IndexSettings, collection: str) -> dict[str, Any] | None:
    value = _get(client, index, manifest_key(collection))
    return value if isinstance(value, dict) else None


def write_manifest(client, index: IndexSettings, collection: str, manifest: dict[str, Any]) -> None:
    _put(client, index, manifest_key(collection), manifest)


def switch_live(client, index: IndexSettings, collection: str) -> None:
    """Serve ``collection`` from now on: the ``live`` row, then the alias ``<milvus_collection>`` (for other
    tools; the ``live`` row is what this project reads, so an alias that cannot move is only logged)."""
    previous = read_live(client, index)
    _put(client, index, LIVE, {"collection": collection})
    alias = index.milvus_collection
    try:
        held = previous is not None and client.has_collection(previous) and \
            alias in client.list_aliases(previous).get("aliases", [])
        if held:
            client.alter_alias(collection, alias)
        else:
            client.create_alias(collection, alias)
    except Exception as e:  # noqa: BLE001 - the alias is a convenience; a failure must not undo a finished build
        logger.info("could not point the Milvus alias %r at %s (%s)", alias, collection, e)


def drop_others(client, index: IndexSettings, keep: str) -> list[str]:
    """Drop every data collection of this index but ``keep`` (old builds and ones that died), with their
    manifests; returns their names."""
    prefix = f"{index.milvus_collection}_"
    gone = []
    for name in client.list_collections():
        if name.startswith(prefix) and name not in (keep, meta_name(index)) and name[len(prefix):][:1].isdigit():
            client.drop_collection(name)
            client.delete(meta_name(index), ids=[manifest_key(name)])
            gone.append(name)
    return gone
