"""``uncac-qa docs``: what the index holds, one line per document; ``docs remove`` drops an added one.

Each line names the document's UN symbol (else its short reference), its doc_id, its language, its
paragraph count and the file it is read from, and where it comes from: ``manifest`` (the built-in
corpus, ``corpus/manifest.yaml``), ``config`` (``corpus.extra_paths``) or ``added`` (``uncac-qa ingest
--add``; a document found in an added folder names that folder too). A document whose paragraphs
changed since the index was built says so (``uncac-qa ingest`` updates it), and a document the index
still holds but the corpus no longer has (its added file was deleted) is listed as ``stale``.
``--json`` prints one object: ``{"index": ..., "documents": [{"doc_id", "symbol", "ref", "language",
"paragraphs", "source", "kind", "added_as", "indexed"}, ...]}``.

``docs remove SYMBOL_OR_DOC_ID`` drops one added document: its path leaves the added paths in the
index manifest and the index is rebuilt without it, incrementally (every other chunk keeps its
vector) and atomically, by the code and under the lock ``ingest`` uses
(:func:`rag.commands.ingest.additions_lock`, :func:`rag.commands.ingest.write_index`): until the new
index is swapped in, questions are answered from the previous one, and a removal that fails leaves
both the index and the added paths as they were. The path given to ``ingest --add`` (a file or a
whole folder) is accepted too.

A document read from an added folder that holds other indexed documents is not removed alone: the
command refuses, saying to remove the folder or to move the file out of it. The folder is what was
added, and the loader reads it as it is now; an exclusion list would be a second record that every
reader of the added paths (the engine, ``ask --doc``, ``paragraphs``, ``ingest``) must apply alike,
or the corpus they parse and the index disagree, and it would have no clear meaning once the file is
edited, renamed or added again. Moving the file out is exact, visible on disk, and what the next
``ingest`` reads. (A folder whose only document it is is dropped with it, and the command says so.)
Manifest and ``corpus.extra_paths`` documents are refused with the file to edit instead.

Examples::

    uncac-qa docs                                   # one line per indexed document
    uncac-qa docs --json
    uncac-qa docs remove CAC/COSP/WG.4/2024/L.9     # or its doc_id, or the path given to --add
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rag.cli import command
from rag.config import ROOT, Settings
from rag.errors import CorpusError, IndexStateError, QueryError

#: Where a document comes from (the ``kind`` column).
KINDS = ("manifest", "config", "added", "stale")


@dataclass(frozen=True)
class DocumentEntry:
    """One line of ``uncac-qa docs``.

    ``added_as`` is the path as recorded (an ``--add`` path or a ``corpus.extra_paths`` entry): the
    document's own file, or the folder it was found in. ``indexed`` is False when the index does not
    hold its paragraphs as they parse now (or, for a ``stale`` entry, when the corpus lacks it).
    """

    doc_id: str
    symbol: str | None
    ref: str
    language: str | None
    paragraphs: int
    source: str | None
    kind: str
    added_as: str | None
    indexed: bool

    def to_json(self) -> dict[str, Any]:
        return {"doc_id": self.doc_id, "symbol": self.symbol, "ref": self.ref, "language": self.language,
                "paragraphs": self.paragraphs, "source": self.source, "kind": self.kind,
                "added_as": self.added_as, "indexed": self.indexed}

    @property
    def from_folder(self) -> bool:
        return self.added_as is not None and self.added_as != self.source


@dataclass
class Indexed:
    """The index's documents: the corpus they parse into now, and one entry per line."""

    corpus: Any  # rag.corpus.loader.Corpus
    added: list[str]  # the added paths that still exist, in order
    entries: list[DocumentEntry]


def _paragraph_ids(chunk_ids: list[str]) -> dict[str, set[str]]:
    """doc_id -> the paragraph ids the index holds. A chunk id is ``<paragraph id>:<part>:<hash>`` and a
    paragraph id ``<doc_id>:<para>:<hash>`` (:class:`rag.corpus.records.Chunk`)."""
    out: dict[str, set[str]] = {}
    for chunk_id in chunk_ids:
        paragraph_id = chunk_id.rsplit(":", 2)[0]
        out.setdefault(paragraph_id.rsplit(":", 2)[0], set()).add(paragraph_id)
    return out


def _origin(file: Path, paths: list[str]) -> str | None:
    """The path of ``paths`` that ``file`` was read from: itself, or the folder holding it."""
    for p in paths:
        if file == Path(p) or Path(p) in file.parents:
            return p
    return None


def indexed_documents(settings: Settings, *, rebuilding: bool = False) -> Indexed:
    """Parse what the index at ``index.dir`` holds (manifest, ``corpus.extra_paths`` and added
    documents). IndexStateError naming ``uncac-qa ingest`` when there is no index. An added path that
    is gone is named on stderr (``rebuilding``: the index about to be written drops it)."""
    from rag.commands.ingest import existing_additions
    from rag.corpus.loader import load_corpus
    from rag.corpus.manifest import load_manifest
    from rag.index_backend import indexed_chunk_ids, read_manifest, where

    manifest = read_manifest(settings)
    if manifest is None:
        raise IndexStateError(f"no index at {where(settings)!r}; build it with: uncac-qa ingest")
    added = existing_additions(settings, "it is dropped from the index" if rebuilding else
                               "its documents stay in the index until the next `uncac-qa ingest` drops them")
    corpus = load_corpus(settings, extra=added)
    manifest_path = settings.path(settings.corpus.manifest)
    builtin = {m.doc_id for m in load_manifest(manifest_path)}
    configured = [str(settings.path(p)) for p in settings.corpus.extra_paths]
    in_index = _paragraph_ids(indexed_chunk_ids(settings))
    entries = []
    for d in corpus.documents:
        m = d.meta
        if m.doc_id in builtin:
            kind, source, added_as = "manifest", _shown(manifest_path.parent / m.file), None
        else:
            source = m.file
            added_as = _origin(Path(m.file), added)
            kind = "added" if added_as else "config"
            added_as = added_as or _origin(Path(m.file), configured)
        indexed = in_index.get(m.doc_id) == {p.id for p in d.paragraphs}
        entries.append(DocumentEntry(m.doc_id, m.symbol, m.symbol or m.short_ref, m.language, len(d.paragraphs),
                                     source, kind, added_as, indexed))
    parsed = set(corpus.doc_ids)
    for doc_id, ids in in_index.items():  # held by the index, gone from the corpus (a deleted file)
        if doc_id not in parsed:
            entries.append(DocumentEntry(doc_id, None, doc_id, None, len(ids), None, "stale", None, False))
    return Indexed(corpus, added, entries)


def _shown(path: Path) -> str:
    """``path`` relative to the project root when inside it."""
    from embeddings.store import display_path

    return display_path(path, ROOT)


# --- listing ---------------------------------------------------------------------------------------

def _line(e: DocumentEntry, widths: list[int]) -> str:
    if e.kind == "stale":
        where = "(no longer in the corpus; `uncac-qa ingest` drops it from the index)"
    else:
        where = e.source + (f" (in the added folder {e.added_as})" if e.from_folder else "")
        if not e.indexed:
            where += " (changed since the index was built; run: uncac-qa ingest)"
    cells = [e.kind, e.ref, e.doc_id, e.language or "-", f"{e.paragraphs} paragraphs"]
    return "  ".join(c.ljust(w) for c, w in zip(cells, widths)) + "  " + where


def _list(args: argparse.Namespace, settings: Settings) -> int:
    found = indexed_documents(settings)
    if args.json:
        obj = {"index": _shown(settings.path(settings.index.dir)), "documents": [e.to_json() for e in found.entries]}
        sys.stdout.write(json.dumps(obj, ensure_ascii=False) + "\n")
        return 0
    rows = [[e.kind, e.ref, e.doc_id, e.language or "-", f"{e.paragraphs} paragraphs"] for e in found.entries]
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))] if rows else []
    for e in found.entries:
        sys.stdout.write(_line(e, widths) + "\n")
    return 0


# --- remove ----------------------------------------------------------------------------------------

def _name(e: DocumentEntry) -> str:
    """How a message names a document: ``SYMBOL (doc_id)``, or the doc_id of one with no symbol."""
    return f"{e.symbol} ({e.doc_id})" if e.symbol else e.doc_id


def _matches(target: str, entries: list[DocumentEntry]) -> list[DocumentEntry]:
    """The entries ``target`` names: by doc_id, else by symbol or short reference (any case), else as
    the file it was read from."""
    t = target.strip()
    if hits := [e for e in entries if e.doc_id == t]:
        return hits
    if hits := [e for e in entries if e.ref.casefold() == t.casefold() or (e.symbol or "").casefold() == t.casefold()]:
        return hits
    path = str(Path(t).expanduser().resolve())
    return [e for e in entries if e.source is not None and e.kind != "manifest" and str(Path(e.source).resolve()) == path]


def _unknown(target: str, entries: list[DocumentEntry]) -> QueryError:
    listed = ", ".join(_name(e) + (" [added]" if e.kind == "added" else "") for e in entries if e.kind != "stale")
    return QueryError(f"no indexed document is {target!r}; indexed: {listed}", key="unknown_document")


def _plan(target: str, found: Indexed, settings: Settings) -> tuple[str, list[DocumentEntry], str]:
    """(the added path to drop, the documents that leave with it, what to say); an error for any other
    target."""
    as_path = str(Path(target.strip()).expanduser().resolve()) if target.strip() else ""
    if as_path in found.added:  # the very path given to --add: a file, or a whole folder
        leaving = [e for e in found.entries if e.added_as == as_path]
        return as_path, leaving, f"removed the added {'folder' if Path(as_path).is_dir() else 'file'} {as_path!r}"
    hits = _matches(target, found.entries)
    if not hits:
        raise _unknown(target, found.entries)
    if all(e.kind == "stale" for e in hits):
        raise CorpusError(f"{target!r} is still in the index, but its file is gone from the corpus; "
                          f"`uncac-qa ingest` drops it")
    if len(hits) > 1:
        raise QueryError(f"{target!r} names {len(hits)} documents ({', '.join(e.doc_id for e in hits)}); "
                         f"give the doc_id of the one to remove", key="ambiguous_document")
    e = hits[0]
    if e.kind == "manifest":
        raise CorpusError(
            f"{_name(e)} is a document of the built-in corpus ({_shown(settings.path(settings.corpus.manifest))}), "
            f"not one added with `uncac-qa ingest --add`: it is not removed; to drop it, delete its entry from "
            f"that manifest and run: uncac-qa ingest")
    if e.kind == "config":
        raise CorpusError(
            f"{_name(e)} comes from corpus.extra_paths ({e.added_as!r}) in the config, not from `uncac-qa ingest "
            f"--add`: it is not removed; take it out of corpus.extra_paths and run: uncac-qa ingest")
    if not e.from_folder:
        return e.added_as, [e], f"removed {_name(e)}"
    others = [o for o in found.entries if o.added_as == e.added_as and o is not e]
    if others:
        raise CorpusError(
            f"{_name(e)} was added with the folder {e.added_as!r}, which holds {len(others)} other indexed "
            f"document{'s' if len(others) > 1 else ''} ({', '.join(o.doc_id for o in others)}): it is not removed "
            f"alone; remove the whole folder (uncac-qa docs remove {shlex.quote(e.added_as)}) or move {e.source!r} out of it "
            f"and run: uncac-qa ingest")
    return e.added_as, [e], f"removed {_name(e)}, the only document of the added folder {e.added_as!r} (no longer added)"


def _remove(args: argparse.Namespace, settings: Settings) -> int:
    from embeddings.encoders.factory import create_encoder
    from rag.commands.ingest import additions_lock, answer_units, write_index
    from rag.corpus.chunker import chunk_corpus
    from rag.corpus.loader import Corpus

    directory = settings.path(settings.index.dir)
    with additions_lock(directory):  # from reading the added paths to publishing the index without one
        found = indexed_documents(settings, rebuilding=True)
        path, leaving, said = _plan(args.target, found, settings)
        gone = {e.doc_id for e in leaving}
        corpus = Corpus([d for d in found.corpus.documents if d.doc_id not in gone])
        chunks = chunk_corpus(corpus, settings)
        encoder = create_encoder(settings.embeddings)
        report = write_index(settings, chunks, encoder, [p for p in found.added if p != path])
    n = sum(e.paragraphs for e in leaving)
    print(f"{said}: {len(leaving)} document{'s' if len(leaving) != 1 else ''}, {n} paragraphs out of the index")
    print(report.summary())
    answer_units(corpus, encoder, settings, reuse=True)
    return 0


# --- the command ------------------------------------------------------------------------------------

def _args(p: argparse.ArgumentParser) -> None:
    p.usage = "%(prog)s [-h] [--json] [remove SYMBOL_OR_DOC_ID]"
    p.add_argument("--json", action="store_true", help="print one JSON object listing the documents")
    sub = p.add_subparsers(dest="action", metavar="ACTION")
    r = sub.add_parser(
        "remove", help="remove one document added with `ingest --add` from the index",
        description="Remove one document added with `uncac-qa ingest --add` from the index (atomically; the "
                    "built-in corpus is never changed). A document of an added folder that holds others is "
                    "refused: remove the folder, or move the file out of it and run `uncac-qa ingest`.")
    r.add_argument("target", metavar="SYMBOL_OR_DOC_ID",
                   help="its UN symbol or short reference, its doc_id (see `uncac-qa docs`), or the path given to --add")


@command("docs", "list the indexed documents (manifest and added ones); `docs remove` drops an added one")(_args)
def _docs(args: argparse.Namespace, settings: Settings) -> int:
    if args.action == "remove":
        return _remove(args, settings)
    return _list(args, settings)
