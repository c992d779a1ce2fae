"""``uncac-qa ingest``: parse the corpus, chunk it, embed it and write the FAISS + BM25 index.

Re-running is cheap: chunks whose text did not change keep their vectors (see ``embeddings.store``).
It is also the repair: a damaged, truncated or half-replaced index or answer-unit cache is rebuilt
(``--rebuild`` re-encodes everything, the unit cache included).
The corpus (manifest documents, ``corpus.extra_paths`` and ``--add`` files) is parsed completely before
anything is written, so a document that fails to parse changes nothing on disk.

Files given with ``--add`` are remembered in the index manifest and included again by later ingests
(``--forget-added`` drops them); for a permanent addition list them in ``corpus.extra_paths``.

Examples::

    uncac-qa ingest                      # build or update data/index
    uncac-qa ingest --if-missing         # no-op when the index is valid for this corpus and encoder
    uncac-qa ingest --add my_docs/       # also index a folder of .txt/.md UN documents
    uncac-qa ingest --rebuild            # re-encode everything (after changing the model)
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from rag.cli import command
from rag.config import ROOT, Settings
from rag.errors import IndexStateError


def _args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--if-missing", action="store_true",
                   help="do nothing when a valid index exists for the current corpus and encoder")
    p.add_argument("--rebuild", action="store_true", help="re-encode every chunk instead of reusing unchanged vectors")
    p.add_argument("--add", nargs="+", action="extend", default=[], metavar="FILE_OR_DIR",
                   help="also index these .txt/.md documents or folders (kept by later ingests)")
    p.add_argument("--forget-added", action="store_true", help="drop the documents earlier ingests added with --add")


def _err(msg: str) -> None:
    print(msg, file=sys.stderr)


def _added_files(args: argparse.Namespace, directory: Path) -> list[str]:
    """Earlier ``--add`` paths that still exist (unless forgotten), then this run's, as absolute paths."""
    from embeddings.store import read_manifest
    from rag.corpus.loader import check_added

    earlier: list[str] = []
    if not args.forget_added:
        try:
            earlier = list(((read_manifest(directory, root=ROOT) or {}).get("meta") or {}).get("added_files") or [])
        except IndexStateError:
            earlier = []
    out: list[str] = []
    for p in earlier:
        if Path(p).exists():
            out.append(p)
        else:
            _err(f"note: {p!r}, added by an earlier ingest, no longer exists; it is dropped from the index")
    out += check_added(args.add)
    return list(dict.fromkeys(out))


@command("ingest", "build or update the search index (FAISS + BM25) from the corpus")(_args)
def _ingest(args: argparse.Namespace, settings: Settings) -> int:
    from embeddings.store import build_index, display_path, load_index
    from rag.corpus.chunker import chunk_corpus
    from rag.corpus.loader import load_corpus
    from rag.corpus.records import Chunk

    directory = settings.path(settings.index.dir)
    added = _added_files(args, directory)
    corpus = load_corpus(settings, extra=added)  # parse errors surface here, before anything is written
    chunks = chunk_corpus(corpus, settings)

    from embeddings.encoders.factory import create_encoder

    encoder = create_encoder(settings.embeddings)
    if args.if_missing and not args.rebuild:
        try:
            index = load_index(directory, encoder, settings.index, settings.embeddings, record_type=Chunk, root=ROOT)
        except IndexStateError as e:
            _err(f"building the index: {e}")
        else:
            reasons = index.stale_reasons(chunks, settings.index)
            if not reasons:
                print(f"index up to date: {len(chunks)} chunks, {index.kind} index at {display_path(directory, ROOT)}")
                _answer_units(corpus, encoder, settings, reuse=True)
                return 0
            _err(f"updating the index: {'; '.join(reasons)}")

    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(settings.embeddings.index_threads)
    try:
        report = build_index(
            chunks, encoder, settings.index, settings.embeddings, directory=directory,
            chunking=settings.chunking.model_dump(mode="json"), root=ROOT, progress=True, reuse=not args.rebuild,
            meta={"added_files": added},
        )
    finally:
        torch.set_num_threads(threads)
    print(report.summary())
    _answer_units(corpus, encoder, settings, reuse=not args.rebuild)
    return 0


def _answer_units(corpus, encoder, settings: Settings, reuse: bool) -> None:
    """Encode the quotable sentences/sub-items the answer chain scores (cached: only new ones, unless
    ``reuse`` is False; a damaged cache file is re-encoded and rewritten, see ``rag.answer.unit_index``)."""
    from rag.answer.unit_index import UnitIndex, units_dir

    units = UnitIndex(corpus, encoder, units_dir(settings)).load(progress=True, reuse=reuse)
    if units.encoded:  # stderr: stdout is the index summary that scripts read
        _err(f"answer units: {len(units.vectors)} sentences and sub-items ({units.encoded} encoded)")
