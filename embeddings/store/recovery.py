"""Repairs after a build that died, and the lock that keeps two builds of one index apart.

A build holds the index's lock (``.<dir>.lock`` beside it, ``filelock``) from start to end, so two
builds never interleave, and swaps the new directory in with two renames
(:func:`embeddings.fsutil.replace_dir`). A crash between the renames leaves no index but the previous
one as ``<dir>.old``; a crash before them leaves a temporary directory. Whoever comes next repairs
both: :func:`recover_index` (every load) or the next build (:func:`clean_leftovers`).

Example::

    recover_index(Path("data/index"))      # False: nothing to repair (a stat and a listing)
    with build_lock(directory):
        clean_leftovers(directory)
        ...                                  # write a temporary directory, then replace_dir()
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Iterator
from pathlib import Path

from filelock import Timeout

from embeddings import fsutil
from embeddings.store.layout import display_path, interrupted

logger = logging.getLogger("embeddings.store")

#: How long a load waits for a running build's lock before leaving the recovery to that build.
RECOVER_WAIT_S = 10.0


def recover_index(directory: str | Path, *, timeout: float = RECOVER_WAIT_S, root: Path | None = None) -> bool:
    """Repair what a killed build left beside ``directory``; True when it restored the index.

    A build killed between its two renames leaves no ``directory`` but the previous index as
    ``<dir>.old``: that is moved back (one atomic rename, under the index lock, one warning line). The
    temporary directories of builds that died are deleted when no build holds the lock. Costs a
    ``stat`` and a listing of the parent folder when there is nothing to repair, so every load calls
    it (``Engine.load`` before it checks that the index exists). Messages name the index relative to
    ``root``.

    A running build holds the lock and will restore or replace the index itself: after ``timeout``
    seconds of waiting this gives up and returns False (``load_index`` then serves ``<dir>.old``).
    """
    directory = Path(directory)
    was_interrupted = interrupted(directory)
    if not was_interrupted and not fsutil.stale_temps(directory):
        return False
    try:
        with fsutil.lock(directory, timeout=timeout if was_interrupted else 0):
            restored = interrupted(directory)
            if restored:
                os.replace(fsutil.aside(directory), directory)
                fsutil.fsync_path(directory.parent)
            fsutil.remove_stale_temps(directory)
    except (Timeout, OSError) as e:  # a build is running, or the folder is read-only: serve as it is
        logger.info("index at %s not repaired now (%s)", display_path(directory, root), e)
        return False
    if restored:
        where = display_path(directory, root)
        logger.warning("index at %r was missing after a build stopped between its two renames; "
                       "restored the previous index from %r", where, where + ".old")
    return restored


def clean_leftovers(directory: Path, root: Path | None = None) -> None:
    """Restore ``<dir>.old`` after a crash mid-swap; remove temp dirs of builds that died (with the
    index lock held, so none of them is a live build's)."""
    if interrupted(directory):
        os.replace(fsutil.aside(directory), directory)
        logger.warning("restored the index at %r from %r, left by a build that stopped",
                       display_path(directory, root), display_path(fsutil.aside(directory), root))
    fsutil.remove_stale_temps(directory)


@contextlib.contextmanager
def build_lock(directory: Path, root: Path | None = None) -> Iterator[None]:
    """Hold the index lock for a whole build; say so when another build holds it and this one waits."""
    lock = fsutil.lock(directory)
    try:
        lock.acquire(timeout=0)
    except Timeout:
        logger.warning("another build of the index at %r is running; waiting for it to finish",
                       display_path(directory, root))
        lock.acquire()
    try:
        yield
    finally:
        lock.release()
