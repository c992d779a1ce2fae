"""``config.yaml`` written from the settings models: every key with its default, commented with its field
description, so the file and the code cannot drift apart (a test compares them).

Regenerate after adding or changing a setting::

    .venv/bin/python -m rag.config_yaml > config.yaml

Example::

    >>> text = render()
    >>> "retrieval:" in text and "  # Chunks returned to the answer chain." in text
    True
"""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel

HEADER = """\
# uncac-qa configuration. Every key is validated at start-up (unknown keys are errors).
# Override any field from the CLI: uncac-qa --set retrieval.k=20 ...
# or the environment: UNCAC_QA__RETRIEVAL__K=20 (--set wins over the environment, which wins over this file).
# Written by `python -m rag.config_yaml` from the field descriptions in rag/config.py and embeddings/.
"""
WIDTH = 110


def _scalar(value: Any) -> str:
    if isinstance(value, Path):
        value = str(value)
    text = yaml.safe_dump(value, default_flow_style=True, allow_unicode=True, width=10_000).strip()
    return text.removesuffix("\n...").removesuffix("...").strip()


def _comment(text: str, indent: str) -> list[str]:
    return textwrap.wrap(" ".join(text.split()), WIDTH - len(indent) - 2, initial_indent=f"{indent}# ",
                         subsequent_indent=f"{indent}# ", break_on_hyphens=False, break_long_words=False)


def _section(model: BaseModel, indent: str) -> list[str]:
    lines: list[str] = []
    for name, field in type(model).model_fields.items():
        value = getattr(model, name)
        lines += _comment(field.description or "", indent)
        if isinstance(value, BaseModel):
            lines.append(f"{indent}{name}:")
            lines += _section(value, indent + "  ")
        elif isinstance(value, dict) and value:
            lines.append(f"{indent}{name}:")
            for k, v in value.items():
                lines.append(f"{indent}  {_scalar(k)}: {_scalar(v)}")
        elif isinstance(value, (list, tuple)) and value:
            lines.append(f"{indent}{name}:")
            lines += [f"{indent}  - {_scalar(v)}" for v in value]
        else:
            lines.append(f"{indent}{name}: {_scalar(list(value) if isinstance(value, tuple) else value)}")
    return lines


def render(settings_cls: type[BaseModel] | None = None) -> str:
    """The commented YAML of the defaults of ``settings_cls`` (default :class:`rag.config.Settings`).

    Each section is built from its own class's defaults, so no environment variable leaks in.
    """
    if settings_cls is None:
        from rag.config import Settings

        settings_cls = Settings
    lines: list[str] = []
    for name, field in settings_cls.model_fields.items():
        lines += _comment(field.description or "", "")
        lines.append(f"{name}:")
        lines += _section(field.default_factory(), "  ")
    return HEADER + "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(render(), end="")
