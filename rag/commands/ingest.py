"""``uncac-qa ingest``: parse the corpus, chunk it, embed it and write the index (FAISS + BM25, or Milvus).

Re-running is cheap: chunks whose text did not change keep their vectors (see ``embeddings.store``).
It is also the repair: a damaged, truncated or half-replaced index or answer-unit cache is rebuilt
(``--rebuild`` re-encodes everything, the unit cache included).
The corpus (manifest documents, ``corpus.extra_paths`` and ``--add`` files) is parsed completely before
anything is written, so a document that fails to parse changes nothing on disk.

Files given with ``--add`` are remembered in the index manifest and included again by later ingests
(``--forget-added`` drops them; ``uncac-qa docs remove`` drops one); for a permanent addition list them
in ``corpus.extra_paths``. Every command that changes that list (``ingest``, ``docs remove``) holds
:func:`additions_lock` from reading it to publishing the index built from it, so two of them never
lose each other's change; the index itself is swapped in atomically (``embeddings.store``).

Examples::

    uncac-qa ingest                      # build or update data/index
    uncac-qa ingest --if-missing         # no-op when the index is valid for this corpus and encoder
    uncac-qa ingest --add my_docs/       # also index a folder of .txt/.md/.pdf/.docx UN documents
    uncac-qa ingest --rebuild            # re-encode everything (after changing the model)
"""

from __future__ import annotations

import argparse
import contextlib
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path

from rag.cli import command
from rag.config import Settings
from rag.errors import IndexStateError


def _args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--if-missing", action="store_true",
                   help="do nothing when a valid index exists for the current corpus and encoder")
    p.add_argument("--rebuild", action="store_true", help="re-encode every chunk instead of reusing unchanged vectors")
    p.add_argument("--add", nargs="+", action="extend", default=[], metavar="FILE_OR_DIR",
                   help="also index these .txt/.md/.pdf/.docx documents, or folders of them (kept by later ingests)")
    p.add_argument("--forget-added", action="store_true", help="drop the documents earlier ingests added with --add")


def _err(msg: str) -> None:
    print(msg, file=sys.stderr)


#: Key of the index manifest's "meta" that lists the paths added with ``--add`` (absolute, as given).
ADDED_FILES = "added_files"


def indexed_additions(settings: Settings) -> list[str]:
    """The files and folders earlier ``--add`` runs recorded in the served index, in order; none when
    there is no readable index (the command that needs one then says so)."""
    from rag.index_backend import read_manifest

    try:
        manifest = read_manifest(settings) or {}
    except IndexStateError:
        return []
    return list((manifest.get("meta") or {}).get(ADDED_FILES) or [])


@contextlib.contextmanager
def additions_lock(directory: Path) -> Iterator[None]:
    """Held by a command that changes the added paths, from reading them to publishing the index that
    records the new list: ``.<dir>.added.lock`` beside the index. It is not the store's build lock,
    which :func:`embeddings.store.build_index` takes inside it (always in that order), so a reader or a
    repair of the index waits only for the swap, never for the parsing."""
    from filelock import Timeout

    from embeddings import fsutil

    lock = fsutil.lock(directory.with_name(f"{directory.name}.added"))
    try:
        lock.acquire(timeout=0)
    except Timeout:
        _err("note: another command is updating this index's documents; waiting for it to finish")
        lock.acquire()
    try:
        yield
    finally:
        lock.release()


def _added_files(args: argparse.Namespace, settings: Settings) -> list[str]:
    """Earlier ``--add`` paths that still exist (unless forgotten), then this run's, as absolute paths."""
    from rag.corpus.loader import check_added

    earlier = [] if args.forget_added else existing_additions(settings)
    return list(dict.fromkeys(earlier + check_added(args.add)))


def existing_additions(settings: Settings, consequence: str = "it is dropped from the index") -> list[str]:
    """:func:`indexed_additions` that still exist; a note on stderr names each one that is gone, and
    what follows (``consequence``: by default that the index written now drops its documents)."""
    out: list[str] = []
    for p in indexed_additions(settings):
        if Path(p).exists():
            out.append(p)
        else:
            _err(f"note: {p!r}, added by an earlier ingest, no longer exists; {consequence}")
    return out


def write_index(settings: Settings, chunks: Sequence, encoder, added: list[str], *, reuse: bool = True):
    """Build the index of ``chunks`` (unchanged vectors reused unless ``reuse`` is False), recording
    ``added`` as the added paths, and swap it in atomically; returns the
    :class:`embeddings.store.BuildReport`. Call it holding :func:`additions_lock`, then
    :func:`answer_units`."""
    from embeddings.encoders.sentence_transformer import get_threads, set_threads
    from rag.index_backend import build

    threads = get_threads()
    set_threads(settings.embeddings.index_threads)
    try:
        report = build(settings, chunks, encoder, reuse=reuse, progress=True, meta={ADDED_FILES: list(added)})
    finally:
        if threads is not None:
            set_threads(threads)
    return report


@command("ingest", "build or update the search index (FAISS + BM25) from the corpus")(_args)
def _ingest(args: argparse.Namespace, settings: Settings) -> int:
    directory = settings.path(settings.index.dir)
    with additions_lock(directory):
        return _update(args, settings, directory)


def _update(args: argparse.Namespace, settings: Settings, directory: Path) -> int:
    from rag.corpus.chunker import chunk_corpus
    from rag.corpus.loader import load_corpus
    from rag.index_backend import open_index, where

    clock = _Clock()
    added = _added_files(args, settings)
    corpus = load_corpus(settings, extra=added)  # parse errors surface here, before anything is written
    clock.lap("corpus")
    chunks = chunk_corpus(corpus, settings)
    clock.lap("chunks")

    from embeddings.encoders.factory import create_encoder

    encoder = create_encoder(settings.embeddings)
    if args.if_missing and not args.rebuild:
        try:
            index = open_index(settings, encoder)
        except IndexStateError as e:
            _err(f"building the index: {e}")
        else:
            reasons = index.stale_reasons(chunks, settings.index)
            if not reasons:
                print(f"index up to date: {len(chunks)} chunks, {index.kind} index at {where(settings)}")
                answer_units(corpus, encoder, settings, reuse=True)
                return 0
            clock.lap("checking the index")
            _err(f"updating the index: {'; '.join(reasons)}")

    report = write_index(settings, chunks, encoder, added, reuse=not args.rebuild)
    clock.lap(f"index (encoding {report.encode_seconds:.1f} s)")
    print(report.summary())
    answer_units(corpus, encoder, settings, reuse=not args.rebuild)
    clock.lap("answer units")
    _err(clock.summary())  # stderr: where the time went (stdout keeps the one summary line scripts read)
    return 0


class _Clock:
    """Wall time per step of an ingest, for the one line ``took 41.2 s: corpus 4.6 s, ...`` on stderr."""

    def __init__(self) -> None:
        import time

        self._now = time.perf_counter
        self.start = self.last = self._now()
        self.steps: list[tuple[str, float]] = []

    def lap(self, step: str) -> None:
        now = self._now()
        self.steps.append((step, now - self.last))
        self.last = now

    def summary(self) -> str:
        return (f"took {self.last - self.start:.1f} s: "
                + ", ".join(f"{step} {seconds:.1f} s" for step, seconds in self.steps))


def answer_units(corpus, encoder, settings: Settings, reuse: bool) -> None:
    """Encode the quotable sentences/sub-items the answer chain scores (cached: only new ones, unless
    ``reuse`` is False; a damaged cache file is re-encoded and rewritten, see ``rag.answer.unit_index``)."""
    from rag.answer.unit_index import UnitIndex, units_dir

    units = UnitIndex(corpus, encoder, units_dir(settings)).load(progress=True, reuse=reuse)
    if units.encoded:  # stderr: stdout is the index summary that scripts read
        _err(f"answer units: {len(units.vectors)} sentences and sub-items ({units.encoded} encoded)")
