"""``python -m rag`` is the same as the ``uncac-qa`` console script."""

from rag.cli import main

raise SystemExit(main())
