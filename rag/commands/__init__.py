"""CLI subcommands beyond ``paragraphs``; each module registers itself with ``rag.cli.command``."""

import importlib
import pkgutil

for _m in pkgutil.iter_modules(__path__):
    importlib.import_module(f"{__name__}.{_m.name}")
