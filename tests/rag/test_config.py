from __future__ import annotations

import pytest

from rag.config import DEFAULT_CONFIG, Settings, load_settings, parse_override
from rag.errors import ConfigError


def test_project_config_is_the_documented_defaults():
    assert load_settings() == Settings()


def test_every_field_is_described():
    def walk(model):
        for name, f in model.model_fields.items():
            assert f.description, f"{model.__name__}.{name} has no description"
            ann = f.annotation
            if isinstance(ann, type) and hasattr(ann, "model_fields"):
                walk(ann)

    walk(Settings)


def test_unknown_key_names_allowed_ones(tmp_path):
    f = tmp_path / "c.yaml"
    f.write_text("retrieval:\n  kk: 3\n")
    with pytest.raises(ConfigError, match=r"unknown key 'retrieval.kk'; allowed here: candidates, crosslingual_weight, .*\bk, .*route, rrf_k"):
        load_settings(f)
    f.write_text("retreival: {}\n")
    with pytest.raises(ConfigError, match=r"unknown key 'retreival'; allowed here: answer, chunking, corpus"):
        load_settings(f)


def test_ill_typed_and_out_of_range_values(tmp_path):
    with pytest.raises(ConfigError, match=r"retrieval.k = 'many'"):
        load_settings(DEFAULT_CONFIG, {"retrieval.k": "many"})
    with pytest.raises(ConfigError, match=r"answer.backend = 'gpt'.*'extractive' or 'llm'"):
        load_settings(DEFAULT_CONFIG, {"answer.backend": "gpt"})
    with pytest.raises(ConfigError, match=r"chunking.max_tokens = 1"):
        load_settings(DEFAULT_CONFIG, {"chunking.max_tokens": 1})


def test_overrides_and_bad_files(tmp_path):
    assert load_settings(None, dict([parse_override("retrieval.k=20")])).retrieval.k == 20
    with pytest.raises(ConfigError, match="must look like section.key=value"):
        parse_override("retrieval.k")
    with pytest.raises(ConfigError, match="config file not found"):
        load_settings(tmp_path / "missing.yaml")
    (tmp_path / "bad.yaml").write_text("a: [1,\n")
    with pytest.raises(ConfigError, match="is not valid YAML"):
        load_settings(tmp_path / "bad.yaml")


def test_environment_layers_between_the_file_and_set(monkeypatch):
    monkeypatch.setenv("UNCAC_QA__RETRIEVAL__K", "9")
    assert load_settings().retrieval.k == 9  # the environment beats the file
    assert load_settings(None, {"retrieval.k": 7}).retrieval.k == 7  # --set beats the environment
    monkeypatch.setenv("UNCAC_QA__RETRIEVAL__KK", "1")
    with pytest.raises(ConfigError, match="unknown key 'retrieval.kk'; allowed here: .*k"):
        load_settings()
