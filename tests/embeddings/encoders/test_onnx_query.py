"""The onnxruntime query path against its oracle, the torch encoder of the same weights."""

from __future__ import annotations

import numpy as np
import pytest

from embeddings.encoders.onnx_query import OnnxQueryModel
from embeddings.errors import ModelError

QUESTIONS = ["工作组关于资产申报提出了什么建议？", "What has UNODC done to protect whistleblowers?", "2019年会议由谁主持？", "x"]


@pytest.fixture(scope="module")
def exported(encoder):
    """Both runtimes where the engine keeps them (exported on a machine's first run, ~30 s, then reused)."""
    d = encoder.cache_dir / "onnx" / encoder.fingerprint[:16]
    return d, {rt: OnnxQueryModel(d, rt).load(encoder._st) for rt in ("onnx", "onnx-int8")}


def _prompted(encoder):
    return [encoder.prompts["query"] + q for q in QUESTIONS]


@pytest.mark.slow
def test_fp32_gives_the_torch_vectors_and_int8_stays_close(encoder, exported):
    _, models = exported
    ref = encoder.encode_queries(QUESTIONS)
    fp32 = models["onnx"].encode(_prompted(encoder), max_length=512)
    int8 = models["onnx-int8"].encode(_prompted(encoder), max_length=512)
    assert fp32.shape == ref.shape and fp32.dtype == np.float32
    assert (fp32 * ref).sum(1).min() > 0.9999
    assert (int8 * ref).sum(1).min() > 0.98  # the eval sets measure what this costs (README: query runtime)
    assert np.allclose(np.linalg.norm(int8, axis=1), 1, atol=1e-5)


@pytest.mark.slow
def test_a_truncated_export_is_exported_again(encoder, exported, tmp_path):
    _, models = exported
    d = tmp_path
    path = d / models["onnx"].path.name
    good = models["onnx"].path.read_bytes()
    path.write_bytes(good[: len(good) // 3])
    (d / "model.v1.onnx.123.onnx.tmp").write_bytes(b"left by a killed export")
    again = OnnxQueryModel(d, "onnx").load(encoder._st)
    assert (again.encode(_prompted(encoder)[:1], max_length=512) * encoder.encode_queries(QUESTIONS[:1])).sum() > 0.9999
    assert not list(d.glob("*.onnx.tmp")) and path.stat().st_size == len(good)


def test_an_unknown_runtime_names_the_allowed_ones(tmp_path):
    with pytest.raises(ModelError, match="'onnx', 'onnx-int8'"):
        OnnxQueryModel(tmp_path, "tensorrt")
