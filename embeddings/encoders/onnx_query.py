"""The query path on onnxruntime: the same e5 weights, exported once to ONNX, ~2x faster per question.

An answer costs ~35 ms of one core, ~30 of them encoding the question with torch. Exported to ONNX and
run by onnxruntime on one thread, the same float32 graph gives the same vectors (cosine 1.0000 on the
dev and held-out questions) in less time; ``onnx-int8`` quantizes the MatMul weights per channel
(onnxruntime's dynamic quantization) for a further gain at cosine ≥ .989 (mean .995). Passages (the
index) are always encoded by torch, so switching the query runtime never invalidates an index.

The export is written once, under ``<cache dir>/onnx/<model fingerprint>/`` (outside the model
directory, whose hash is the index's model fingerprint), atomically and under a file lock, from the
already loaded torch model: nothing is downloaded. (sentence-transformers' own
ONNX backend needs ``optimum``, whose releases pull transformers 4.x; this is the part of it we use.)

Example::

    q = OnnxQueryModel(export_dir, "onnx-int8", threads=1).load(st)  # st: the loaded SentenceTransformer
    vecs = q.encode(["query: 什么是资产申报？"], max_length=512)       # (1, 384) float32, unit rows
"""

from __future__ import annotations

import copy
import logging
import os
import tempfile
import threading
import time
from pathlib import Path
from typing import Any, Literal

import numpy as np

from embeddings.errors import ModelError

log = logging.getLogger(__name__)

Runtime = Literal["torch", "onnx", "onnx-int8"]
RUNTIMES: tuple[str, ...] = ("torch", "onnx", "onnx-int8")
#: Bump when the export changes: older files are re-exported.
EXPORT_VERSION = 1
_FILES = {"onnx": f"model.v{EXPORT_VERSION}.onnx", "onnx-int8": f"model.v{EXPORT_VERSION}.int8.onnx"}


class OnnxQueryModel:
    """An onnxruntime session over the exported transformer, with mean pooling as the model defines."""

    def __init__(self, export_dir: Path, runtime: str, *, threads: int = 1) -> None:
        if runtime not in _FILES:
            raise ModelError(f"ONNX query runtime {runtime!r} is not supported; allowed: {', '.join(map(repr, _FILES))}")
        self.export_dir = Path(export_dir)
        self.runtime = runtime
        self.threads = threads
        self.path = self.export_dir / _FILES[runtime]
        self._session: Any = None
        self._tokenizer: Any = None
        # A fast tokenizer is a Rust object behind a RefCell: two threads calling it at once can fail
        # with "Already borrowed", so each thread gets its own copy (the session itself is thread-safe).
        self._local = threading.local()

    def load(self, st: Any) -> OnnxQueryModel:
        """Export (first use only) and open the session; ``st`` is the loaded SentenceTransformer."""
        pooling = getattr(st[1], "pooling_mode", None) if len(st) > 1 else None
        if pooling not in (None, "mean"):
            raise ModelError(f"the ONNX query runtime supports mean pooling only; this model pools by {pooling!r}")
        if not self.path.is_file():
            self._export(st)
        import onnxruntime as ort

        options = self._options(ort)
        try:
            self._session = ort.InferenceSession(str(self.path), options, providers=["CPUExecutionProvider"])
        except Exception as e:  # a truncated or foreign file: export again once
            log.warning("the ONNX export %s cannot be opened (%s); exporting it again", self.path, e)
            self.path.unlink(missing_ok=True)
            self._export(st)
            self._session = ort.InferenceSession(str(self.path), options, providers=["CPUExecutionProvider"])
        self._tokenizer = st.tokenizer
        return self

    @staticmethod
    def file_name(runtime: str) -> str:
        """The export's file name for ``runtime`` in an export directory."""
        return _FILES[runtime]

    def load_exported(self, tokenizer: FileTokenizer) -> OnnxQueryModel:
        """Open an existing export without torch, with the model's ``tokenizer.json`` read by the
        ``tokenizers`` library (:class:`FileTokenizer`: the ids the transformers fast tokenizer gives,
        without importing transformers). What makes a warm ``ask`` or ``ingest --add`` start in seconds.

        ModelError when the export is missing or unreadable (the caller then loads torch, which exports
        it again)."""
        if not self.path.is_file():
            raise ModelError(f"no ONNX export at {str(self.path)!r}")
        try:
            import onnxruntime as ort

            self._session = ort.InferenceSession(str(self.path), self._options(ort), providers=["CPUExecutionProvider"])
        except Exception as e:  # onnxruntime raises its own types
            raise ModelError(f"cannot open the ONNX export {str(self.path)!r}: {type(e).__name__}: {e}") from e
        self._tokenizer = tokenizer
        return self

    def _options(self, ort: Any) -> Any:
        options = ort.SessionOptions()
        options.intra_op_num_threads = self.threads
        options.inter_op_num_threads = 1
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        return options

    @property
    def tokenizer(self) -> Any:
        """The tokenizer this thread uses (transformers' or a :class:`FileTokenizer`)."""
        return self._tok()

    def encode(self, texts: list[str], *, max_length: int) -> np.ndarray:
        """Prompted texts in, unit-length float32 mean-pooled vectors out.

        One text per session run: onnxruntime's per-call overhead is small, and padding a batch to its
        longest question cost more than it saved (int8: 15 ms/question alone, 21 in batches of 16).
        """
        return np.concatenate([self._one(t, max_length) for t in texts])

    def _tok(self) -> Any:
        tok = getattr(self._local, "tokenizer", None)
        if tok is None:
            tok = self._local.tokenizer = copy.deepcopy(self._tokenizer)
        return tok

    def _one(self, text: str, max_length: int) -> np.ndarray:
        x = self._tok()([text], truncation=True, max_length=max_length, return_tensors="np")
        ids = x["input_ids"].astype(np.int64)
        mask = x["attention_mask"].astype(np.int64)
        hidden = self._session.run(None, {"input_ids": ids, "attention_mask": mask})[0]
        m = mask[..., None].astype(np.float32)
        vecs = (hidden * m).sum(axis=1) / np.maximum(m.sum(axis=1), 1e-9)
        return vecs / np.maximum(np.linalg.norm(vecs, axis=1, keepdims=True), 1e-12)

    # --- export ---

    def _export(self, st: Any) -> None:
        from filelock import FileLock

        self.path.parent.mkdir(parents=True, exist_ok=True)
        with FileLock(str(self.path) + ".lock"):
            if self.path.is_file():  # another process exported it while we waited
                return
            t0 = time.perf_counter()
            for stale in self.path.parent.glob("*.onnx.tmp*"):
                stale.unlink(missing_ok=True)
            try:
                fp32 = self.path.parent / _FILES["onnx"]
                if not fp32.is_file():
                    _atomic(fp32, lambda tmp: _export_fp32(st, tmp))
                if self.runtime == "onnx-int8":
                    _atomic(self.path, lambda tmp: _quantize(fp32, tmp))
            except ModelError:
                raise
            except Exception as e:
                raise ModelError(f"exporting the query encoder to ONNX at {str(self.path)!r} failed: {type(e).__name__}: {e}") from e
            log.info("exported the %s query encoder to %s in %.1f s", self.runtime, self.path, time.perf_counter() - t0)


class FileTokenizer:
    """A ``tokenizers.Tokenizer`` called the way the transformers fast tokenizer is (``tok([text],
    truncation=True, max_length=n, return_tensors="np")``, ``tok(text)["input_ids"]``), giving the same
    ids: the fast tokenizer is this ``tokenizer.json`` underneath. One per thread (it is copied, and its
    truncation is set per call)."""

    def __init__(self, tokenizer: Any) -> None:
        self._t = tokenizer

    def __call__(self, texts: Any, *, truncation: bool = False, max_length: int | None = None,
                 return_tensors: str | None = None, add_special_tokens: bool = True) -> dict[str, Any]:
        if truncation and max_length:
            self._t.enable_truncation(max_length)
        else:
            self._t.no_truncation()
        one = isinstance(texts, str)
        encs = self._t.encode_batch([texts] if one else list(texts), add_special_tokens=add_special_tokens)
        ids = [e.ids for e in encs]
        if return_tensors == "np":
            if len({len(i) for i in ids}) > 1:
                raise ModelError("FileTokenizer returns arrays for texts of one length only (it does not pad)")
            return {"input_ids": np.array(ids, dtype=np.int64), "attention_mask": np.ones((len(ids), len(ids[0])), np.int64)}
        return {"input_ids": ids[0] if one else ids}

    def __deepcopy__(self, memo: dict) -> FileTokenizer:
        return FileTokenizer(copy.deepcopy(self._t, memo))


def _atomic(target: Path, write: Any) -> None:
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=target.name + ".", suffix=".onnx.tmp")
    os.close(fd)
    try:
        write(Path(tmp))
        os.replace(tmp, target)
    finally:
        Path(tmp).unlink(missing_ok=True)


def _export_fp32(st: Any, out: Path) -> None:
    import torch

    model = st[0].auto_model.eval()

    class _Hidden(torch.nn.Module):
        def __init__(self, m: Any) -> None:
            super().__init__()
            self.m = m

        def forward(self, input_ids: Any, attention_mask: Any) -> Any:
            return self.m(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state

    x = st.tokenizer(["query: 资产申报", "query: asset declarations of public officials"], padding=True, return_tensors="pt")
    axes = {"input_ids": {0: "batch", 1: "tokens"}, "attention_mask": {0: "batch", 1: "tokens"},
            "last_hidden_state": {0: "batch", 1: "tokens"}}
    with torch.no_grad():
        torch.onnx.export(
            _Hidden(model), (x["input_ids"], x["attention_mask"]), str(out), input_names=["input_ids", "attention_mask"],
            output_names=["last_hidden_state"], dynamic_axes=axes, opset_version=17, dynamo=False,
        )


def _quantize(fp32: Path, out: Path) -> None:
    from onnxruntime.quantization import QuantType, quantize_dynamic

    # MatMul weights only, per channel: quantizing the 250k-row embedding table too (118 MB instead of
    # 407) cost cosine .988 -> too far from fp32 on the eval questions.
    quantize_dynamic(str(fp32), str(out), weight_type=QuantType.QInt8, per_channel=True, op_types_to_quantize=["MatMul"])
