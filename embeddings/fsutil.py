"""File helpers shared by the model converter, the index store and the caches: checksums, locks, and
writes that a crash cannot leave half done.

A writer puts the new content into a temporary file or directory *beside* its target (the same
filesystem, so the final ``os.replace`` is atomic), fsyncs it and renames it over the target. Readers
therefore see the old content or the new, never a mix, whatever moment the writer dies at.

Writers of one target hold its inter-process :func:`lock` (``filelock``) while they write, so a
temporary name (``.<target>.tmp-…``) found by someone holding the lock belongs to a writer that died:
:func:`remove_stale_temps` deletes those. Without the lock, a temp could be a live writer's.

A directory is replaced the same way by :func:`replace_dir`: the old one waits as ``<dir>.old`` while
the new one is renamed in (a directory cannot be renamed over a non-empty one), so a crash between the
two renames leaves the complete old copy for the next writer (or reader, see
``embeddings.store.recovery``) to move back.

Example::

    with lock(cache):
        remove_stale_temps(cache)
        write_atomic(cache, lambda f: np.savez(f, vectors=v))
"""

from __future__ import annotations

import glob
import hashlib
import os
import secrets
import shutil
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import BinaryIO

from filelock import FileLock


def sha256_file(path: Path) -> str:
    """Hex sha256 of a file's content, read in 1 MiB blocks."""
    h = hashlib.sha256()
    with Path(path).open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def lock(target: str | Path, timeout: float = -1) -> FileLock:
    """The inter-process lock of ``target`` (a file or a directory): ``.<name>.lock`` beside it, not in
    it, so that replacing a directory whole keeps its lock. ``timeout`` < 0 waits for ever; on expiry
    acquiring raises ``filelock.Timeout``."""
    target = Path(target)
    return FileLock(target.with_name(f".{target.name}.lock"), timeout=timeout)


def temp_prefix(target: str | Path) -> str:
    """Name prefix of the temporary files/directories that become ``target``."""
    return f".{Path(target).name}.tmp-"


def stale_temps(target: str | Path, *legacy: str) -> list[Path]:
    """Temporaries of ``target`` in its folder, plus any matching the ``legacy`` glob patterns (names
    older versions used). Stale only if no writer holds the lock: see the module docstring."""
    target = Path(target)
    found = set(target.parent.glob(glob.escape(temp_prefix(target)) + "*"))
    for pattern in legacy:
        found.update(target.parent.glob(pattern))
    return sorted(found)


def remove_stale_temps(target: str | Path, *legacy: str) -> list[Path]:
    """Delete :func:`stale_temps` (files or directories); call with the target's lock held. Returns them."""
    found = stale_temps(target, *legacy)
    remove(found)
    return found


def remove(paths: Iterable[Path]) -> None:
    """Delete files and directory trees, ignoring those already gone."""
    for p in paths:
        if p.is_dir() and not p.is_symlink():
            shutil.rmtree(p, ignore_errors=True)
        else:
            p.unlink(missing_ok=True)


def fsync_path(path: Path) -> None:
    """Flush a file's or a directory's entry to disk (a directory: so a rename in it survives a crash)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_atomic(target: str | Path, write: Callable[[BinaryIO], None]) -> None:
    """Write ``target`` through a temporary file beside it: ``write(f)`` fills an open binary file,
    which is fsynced and renamed over ``target``. An exception (or a crash) leaves the old ``target``
    as it was and no temporary (or, after a crash, one that :func:`remove_stale_temps` deletes).

    The new file gets the usual permissions (0666 less the umask), like one opened with ``open``.
    """
    target = Path(target)
    tmp = target.with_name(temp_prefix(target) + secrets.token_hex(4))
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    fsync_path(target.parent)


def aside(target: str | Path) -> Path:
    """Where :func:`replace_dir` keeps the old ``target`` while it swaps: ``<target>.old`` beside it."""
    target = Path(target)
    return target.with_name(target.name + ".old")


def replace_dir(tmp: str | Path, target: str | Path) -> None:
    """Replace the directory ``target`` by the finished directory ``tmp`` (beside it), with the
    target's :func:`lock` held.

    Two renames, since a directory cannot replace a non-empty one: ``target`` -> ``<target>.old``, then
    ``tmp`` -> ``target``. If the second rename fails the old one is moved back at once; a crash between
    them leaves ``<target>.old`` complete, for the next writer or reader to restore. A ``<target>.old``
    left by an earlier crash is deleted first (the caller restores it before building if it wants it).
    """
    tmp, target = Path(tmp), Path(target)
    old = aside(target)
    if old.exists():
        shutil.rmtree(old)
    if target.exists():
        os.replace(target, old)
    try:
        os.replace(tmp, target)
    except BaseException:
        if old.exists() and not target.exists():
            os.replace(old, target)
        raise
    fsync_path(target.parent)
    shutil.rmtree(old, ignore_errors=True)
