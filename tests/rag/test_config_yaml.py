"""config.yaml is what rag.config_yaml writes from the settings models (their defaults and descriptions)."""

from __future__ import annotations

import yaml

from rag.config import DEFAULT_CONFIG, Settings
from rag.config_yaml import render


def test_the_project_file_is_the_rendered_defaults():
    # when this fails after adding a setting: .venv/bin/python -m rag.config_yaml > config.yaml
    assert DEFAULT_CONFIG.read_text(encoding="utf-8") == render()


def test_the_rendering_reads_back_as_the_defaults_and_describes_every_key():
    text = render()
    assert Settings.model_validate(yaml.safe_load(text)) == Settings.model_validate({})
    flat = " ".join(line.strip().removeprefix("# ") for line in text.splitlines() if line.lstrip().startswith("#"))

    def walk(model):
        for name, field in model.model_fields.items():
            assert " ".join(field.description.split()) in flat, f"{model.__name__}.{name}"
            if isinstance(field.annotation, type) and hasattr(field.annotation, "model_fields"):
                walk(field.annotation)

    walk(Settings)
