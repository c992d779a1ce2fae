"""Passage vectors of every quotable unit (sentence or sub-item) of the corpus, and of every paragraph's
own text, in one memory-mapped file per encoder.

The extractive answerer ranks units by cosine with the question and the citation guard compares
answer sentences with them; encoding ~1,000 units per question would take seconds, a dot product
takes microseconds. The retriever's "text" list ranks paragraphs by their own text (without the
chunk's title/section prefix): :meth:`UnitIndex.search_text`.

Built to hold a million paragraphs (~3M units) on one machine:

* **Encoding** goes through the shared :class:`embeddings.store.vector_cache.VectorCache`
  (``<index dir>.vectors``, the directory the index build uses): vectors are written one shard per
  batch, so a killed ingest resumes, and a text is never encoded twice.
* **Storage** is one uncompressed ``.npz`` per encoder fingerprint (``<index dir>.units/units-<fp>.npz``):
  ``vectors`` (one row per unit, in paragraph order; int8 with a per-row ``scales`` by default, see
  ``PRECISIONS``), ``offsets`` (paragraph *i*'s units are rows ``offsets[i]:offsets[i+1]``),
  ``text_vectors`` (one float32 row per paragraph: :meth:`UnitIndex.search_text` scans them all for
  every question, and BLAS reads float32 in place where a float16 or int8 copy would have to be
  converted first: numpy's float16 cast measured 25x slower than the float32 product itself), ``keys``/``text_keys`` (each row's text hash, to
  reuse rows when the corpus changes), the encoder ``fingerprint`` and a ``signature`` of the corpus
  state the rows describe. The matrices are memory-mapped, not read (those under
  ``map_min_bytes`` are read): load costs no more than the corpus' own key lists, and the operating
  system keeps only the pages that questions touch.
* **Units** (text spans) are computed from their paragraph when first asked for (``paragraph_units``,
  67 µs a paragraph) and kept in a small LRU cache; no per-unit Python object exists at load.
* **IDF** counts document frequency over all units up to ``idf_sample`` units, and over an evenly
  spaced, fixed sample of paragraphs beyond (the count scaled to all units): the same values as an
  exact count on a corpus that size, a bounded cost per new term at any size.

When the stored signature matches the corpus (the same paragraph ids, the same unit splitter), load
only maps the file. Otherwise it splits every paragraph, takes each row's vector from the previous
file (same text hash), the pre-v3 cache (``keys``/float32 ``vectors`` by sha1 text hash, read once
and migrated), or the vector cache — encoding only what none has — and writes the file again.

The file is only a cache: one that is damaged, unreadable or another encoder's is logged in one
warning line and treated as missing, never an error. (A truncated or foreign file is caught; the
checksums of the mapped members are not verified, which would read gigabytes at every load.) It is written through a temporary file and
``os.replace`` under a lock (``embeddings.fsutil``), so a killed save leaves the previous file, and a
process that has the old file mapped keeps reading it; temporary files of saves that died are deleted.

Measured at 1M synthetic paragraphs (3M units, 384-d, 2 busy cores): a 2.66 GiB file (408 bytes a
unit: int8 row, scale, key; 1,564 a paragraph), load 6.3 s and +212 MB RSS (all of it the per-paragraph key lists and maps;
the corpus itself took 53 s and 590 MB), ``search_text`` 1.2 s for a query over all paragraphs and
25 ms scoped to two documents, a paragraph's units and vectors 0.2 ms, the first ``idf`` 1.25 s
(the sample), a new term after it 11 ms.

Example::

    units = UnitIndex(corpus, encoder, units_dir(settings), vectors_dir=vectors_dir(settings)).load()
    units.units(("wg4-2019-l1-add1", 5))          # [Unit(...), ...] of that paragraph
    units.unit_vectors(("wg4-2019-l1-add1", 5))   # (its units, dim) float32
    units.search_text(qvecs, k=50, docs=[None])   # [[(("doc", 12), 0.83), ...]]
"""

from __future__ import annotations

import hashlib
import logging
import math
import struct
import zipfile
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from filelock import Timeout

from embeddings import fsutil
from embeddings.search_index import DocScope, scopes
from embeddings.store.vector_cache import VectorCache, text_key
from rag.answer import units as units_module
from rag.answer.units import Unit, paragraph_units
from rag.corpus.loader import Corpus
from rag.corpus.records import content_hash

log = logging.getLogger(__name__)

#: Temporary files of saves before they were named by the shared fsutil helpers (``tempfile.mkstemp`` defaults).
_LEGACY_TEMPS = "tmp*.npz.tmp"
#: Layout of the file; earlier caches (no ``format`` member: keys by sha1, float32 rows) are migrated.
FORMAT = 3
#: How unit rows are stored (paragraph rows are float32, see above). int8 with a per-row scale is the
#: default: 388 bytes a unit instead of 1,536, and on the five-document corpus all 181 dev/held-out/test
#: answers, citations and retrieved lists are the same as with float32 (float16: the same metrics).
PRECISIONS = ("float32", "float16", "int8")


def units_dir(settings) -> Path:
    """Where the unit file lives: beside the index (``data/index.units``), not inside it, because a
    rebuild swaps the index directory whole while most units stay unchanged."""
    d = settings.path(settings.index.dir)
    return d.with_name(d.name + ".units")


def vectors_dir(settings) -> Path:
    """The vector cache the index build shares (``data/index.vectors``)."""
    from embeddings.store.layout import vector_cache_dir

    return vector_cache_dir(settings.path(settings.index.dir))


def _splitter_version() -> str:
    """Hash of the code that splits paragraphs into units (``rag.answer.units`` and the sentence
    splitter it calls): stored row offsets are only valid for the splitter that made them."""
    from rag import text as text_module

    h = hashlib.sha256()
    for mod in (units_module, text_module):
        h.update(Path(mod.__file__).read_bytes())
    return h.hexdigest()[:16]


def _map_member(path: Path, zf: zipfile.ZipFile, name: str, min_map_bytes: int = 0) -> np.ndarray:
    """Memory-map one array of an uncompressed ``.npz`` (``np.load(mmap_mode=...)`` maps ``.npy``
    files only, and reading it would copy gigabytes at 1M paragraphs); an array under ``min_map_bytes``
    is read into memory instead."""
    info = zf.getinfo(name + ".npy")
    if info.compress_type != zipfile.ZIP_STORED:
        raise ValueError(f"member {name!r} is compressed ({info.compress_type}); only stored members can be mapped")
    with open(path, "rb") as f:
        f.seek(info.header_offset)
        local = f.read(30)
        if len(local) < 30 or local[:4] != b"PK\x03\x04":
            raise ValueError(f"no local header for member {name!r}")
        name_len, extra_len = struct.unpack("<HH", local[26:30])
        f.seek(info.header_offset + 30 + name_len + extra_len)
        version = np.lib.format.read_magic(f)
        read_header = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
        shape, fortran, dtype = read_header(f)
        offset = f.tell()
    if dtype.hasobject:
        raise ValueError(f"member {name!r} holds Python objects")
    if offset + int(np.prod(shape)) * dtype.itemsize > path.stat().st_size:
        raise ValueError(f"member {name!r} runs past the end of the file")
    if int(np.prod(shape)) == 0:
        return np.zeros(shape, dtype=dtype)
    mapped = np.memmap(path, dtype=dtype, mode="r", offset=offset, shape=shape, order="F" if fortran else "C")
    return mapped if mapped.nbytes >= min_map_bytes else np.array(mapped)


def _quantize(vecs: np.ndarray, precision: str) -> tuple[np.ndarray, np.ndarray | None]:
    """Rows in the stored precision, plus per-row scales for int8 (row = int8 * scale)."""
    vecs = np.asarray(vecs, dtype=np.float32)
    if precision == "float32":
        return vecs, None
    if precision == "float16":
        return vecs.astype(np.float16), None
    peak = np.abs(vecs).max(axis=1) if len(vecs) else np.zeros(0, np.float32)
    scales = np.where(peak > 0, peak / 127.0, 1.0).astype(np.float32)
    return np.clip(np.rint(vecs / scales[:, None]), -127, 127).astype(np.int8), scales


def _top(scores: np.ndarray, rows: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` best (score, row) by score, ties by lower row: the order ``argsort(-s, kind="stable")``
    gives. Ties at the k-th score are all kept before the final cut, so none is dropped unfairly."""
    if len(scores) > k:
        kth = np.partition(scores, len(scores) - k)[len(scores) - k]
        keep = scores >= kth
        scores, rows = scores[keep], rows[keep]
    order = np.lexsort((rows, -scores))[:k]
    return scores[order], rows[order]


class _Rows:
    """One matrix being built: each text's row, taken from an earlier file where its hash is there."""

    def __init__(self, texts: list[str], precision: str, dim: int) -> None:
        self.texts, self.precision = texts, precision
        self.keys = np.array([text_key(t) for t in texts], dtype="S20")
        self.rows = np.zeros((len(texts), dim), dtype=np.dtype(precision))
        self.scales = np.ones(len(texts), dtype=np.float32) if precision == "int8" else None
        self.have = np.zeros(len(texts), dtype=bool)

    def take(self, old_keys: np.ndarray, old_rows: np.ndarray, old_scales: np.ndarray | None) -> None:
        """Copy the rows, as stored (no requantizing), of the texts ``old_keys`` has."""
        old = np.asarray(old_keys)
        if not len(old) or not len(self.keys):
            return
        sorter = np.argsort(old, kind="stable")
        src = sorter[np.minimum(np.searchsorted(old, self.keys, sorter=sorter), len(old) - 1)]
        idx = np.flatnonzero(old[src] == self.keys)
        self.rows[idx] = old_rows[src[idx]]
        if self.scales is not None and old_scales is not None:
            self.scales[idx] = old_scales[src[idx]]
        self.have[idx] = True

    def take_legacy(self, legacy: dict[str, np.ndarray]) -> None:
        """The float32 vectors of a pre-v3 cache, keyed by the sha1 text hash it used."""
        found = [(i, v) for i, t in enumerate(self.texts) if (v := legacy.get(content_hash(t, length=16))) is not None]
        if found:
            idx = np.array([i for i, _ in found])
            self._set(idx, np.stack([v for _, v in found]))

    def missing(self) -> np.ndarray:
        return np.flatnonzero(~self.have)

    def put(self, vecs: np.ndarray) -> None:
        """Fill the missing rows, in order, from float32 vectors."""
        self._set(self.missing(), vecs)

    def _set(self, idx: np.ndarray, vecs: np.ndarray) -> None:
        self.rows[idx], scales = _quantize(vecs, self.precision)
        if self.scales is not None:
            self.scales[idx] = scales
        self.have[idx] = True


class UnitIndex:
    """Units per paragraph and their unit-length vectors. Cheap constructor; ``load()`` maps or builds.

    ``vectors_dir``: the shared vector cache (default: ``<cache_dir without .units>.vectors`` beside
    ``cache_dir``). ``precision``: how rows are stored, one of ``PRECISIONS``. ``idf_sample``: units
    counted exactly by :meth:`idf` before it samples. ``search_block``: paragraph rows :meth:`search_text`
    multiplies at a time (a scoped search copies that many rows; memory ~ block x dim x 4 bytes). ``unit_cache``: paragraphs whose
    split units are kept. ``map_min_bytes``: arrays at least this big are memory-mapped, smaller ones
    read: a copy of a few megabytes costs nothing, and unlike a mapping it does not change under a
    process that has it loaded if someone copies another file *over* it in place (``cp``; a save
    never does: it renames a new file into place).
    """

    def __init__(self, corpus: Corpus, encoder, cache_dir: Path, batch_size: int = 64, *,
                 vectors_dir: Path | None = None, precision: str = "int8", idf_sample: int = 50_000,
                 search_block: int = 32_768, unit_cache: int = 4096,
                 map_min_bytes: int = 64 << 20) -> None:
        if precision not in PRECISIONS:
            raise ValueError(f"unit vector precision {precision!r} is not supported, must be one of {PRECISIONS}")
        for name, value, low in (("idf_sample", idf_sample, 1), ("search_block", search_block, 1),
                                 ("unit_cache", unit_cache, 1), ("map_min_bytes", map_min_bytes, 0)):
            if value < low:
                raise ValueError(f"{name} must be at least {low}, got {value!r}")
        self.corpus = corpus
        self.encoder = encoder
        self.cache_dir = Path(cache_dir)
        self.vectors_dir = (Path(vectors_dir) if vectors_dir is not None else
                            self.cache_dir.with_name(self.cache_dir.name.removesuffix(".units") + ".vectors"))
        self.batch_size = batch_size
        self.precision = precision
        self.idf_sample = idf_sample
        self.search_block = search_block
        self.unit_cache = unit_cache
        self.map_min_bytes = map_min_bytes
        self.encoded = 0  # how many texts the last load() had to encode (0 = all from the file or the vector cache)
        # Each paragraph's own text, encoded without the title/section prefix its chunk carries: the
        # retriever's second dense signal (retrieval.text_weight_*), measured to help English questions.
        self.paragraph_keys: list[tuple[str, int]] = []
        self._paragraphs: list = []
        self._row_of: dict[tuple[str, int], int] = {}  # paragraph key -> its row among paragraphs
        self._doc_rows: dict[str, np.ndarray] = {}
        self._matrix = np.zeros((0, 0), dtype=np.float32)  # one row per unit, in paragraph order
        self._text_matrix = np.zeros((0, 0), dtype=np.float32)  # one float32 row per paragraph
        self._scales: np.ndarray | None = None
        self._offsets = np.zeros(1, dtype=np.int64)
        self._n_units = 0
        self._units: OrderedDict[tuple[str, int], list[Unit]] = OrderedDict()
        self._idf: dict[str, float] = {}
        self._idf_texts: list[str] | None = None
        self._idf_n = 0

    @property
    def cache_file(self) -> Path:
        return self.cache_dir / f"units-{self.encoder.fingerprint[:16]}.npz"

    # --- loading ---

    def load(self, progress: bool = False, reuse: bool = True) -> UnitIndex:
        """Map the stored vectors if they describe this corpus; else split the corpus into units and
        build them (from the previous file, the vector cache, or the encoder) and store them.

        ``reuse=False`` ignores every stored vector and encodes everything (``uncac-qa ingest --rebuild``).
        """
        paragraphs = list(self.corpus.paragraphs)
        self._paragraphs = paragraphs
        self.paragraph_keys = [p.key for p in paragraphs]
        self._row_of = {k: i for i, k in enumerate(self.paragraph_keys)}
        doc_rows: dict[str, list[int]] = {}
        for i, p in enumerate(paragraphs):
            doc_rows.setdefault(p.doc_id, []).append(i)
        self._doc_rows = {d: np.asarray(r, dtype=np.int64) for d, r in doc_rows.items()}
        self._units.clear()
        self._idf.clear()
        self._idf_texts = None
        signature = self._signature(paragraphs)
        stored = self._read() if reuse else None
        self.encoded = 0
        if stored is None or str(stored["signature"]) != signature or str(stored["precision"]) != self.precision:
            self._build(paragraphs, signature, stored, progress=progress, reuse=reuse)
            stored = self._read()
            if stored is None:  # written a moment ago: unreadable now means the disk failed
                raise OSError(f"could not read back the answer-unit file {str(self.cache_file)!r}")
        self._matrix, self._scales, self._offsets = stored["vectors"], stored["scales"], stored["offsets"]
        self._text_matrix = stored["text_vectors"]
        self._n_units = len(self._matrix)
        return self

    def _signature(self, paragraphs) -> str:
        """What the stored rows describe: the paragraphs in order (their ids hash their text), the
        unit splitter, the encoder and the storage precision."""
        h = hashlib.sha256(f"{FORMAT}\n{_splitter_version()}\n{self.encoder.fingerprint}\n{self.precision}\n".encode())
        h.update("\n".join(p.id for p in paragraphs).encode("utf-8"))
        return h.hexdigest()[:32]

    def _read(self) -> dict | None:
        """The stored arrays (vectors, scales, offsets, keys mapped), or None when absent or the file
        cannot be trusted (then one warning). A pre-v3 file comes back as ``{"legacy": {key: vector}}``."""
        self._remove_stale_temps()
        path = self.cache_file
        if not path.is_file():
            return None
        try:
            with zipfile.ZipFile(path) as zf:
                names = {n.removesuffix(".npy") for n in zf.namelist()}
                if "format" not in names:  # the cache before v3: keys by sha1, float32 rows
                    return self._read_legacy(path)
                small = {n: np.load(zf.open(n + ".npy"), allow_pickle=False)
                         for n in ("format", "fingerprint", "signature", "precision", "offsets")}
                arrays = {n: _map_member(path, zf, n, self.map_min_bytes)
                          for n in ("keys", "vectors", "text_keys", "text_vectors") + (("scales",) if "scales" in names else ())}
        # zipfile, zlib and numpy's header parser raise many types on a damaged file; for a cache any
        # of them means the same: build it again.
        except Exception as e:  # noqa: BLE001
            self._warn_unreadable(path, e)
            return None
        fingerprint = str(small["fingerprint"])
        if fingerprint != self.encoder.fingerprint:
            log.warning("answer-unit cache %r was written by another encoder (%s); encoding its units again",
                        str(path), fingerprint)
            return None
        keys, vectors, offsets = arrays["keys"], arrays["vectors"], small["offsets"]
        text_keys, text_vectors, scales = arrays["text_keys"], arrays["text_vectors"], arrays.get("scales")
        dim = self.encoder.dim
        ok = (int(small["format"]) == FORMAT and keys.ndim == 1 and vectors.shape == (len(keys), dim)
              and text_keys.ndim == 1 and text_vectors.shape == (len(text_keys), dim) and text_vectors.dtype == np.float32
              and offsets.shape == (len(text_keys) + 1,) and offsets[0] == 0 and int(offsets[-1]) == len(keys)
              and bool(np.all(np.diff(offsets) >= 0)) and (scales is None or scales.shape == (len(keys),)))
        if not ok:
            log.warning("answer-unit cache %r holds %s keys with %s %s vectors and %s paragraph keys with %s vectors "
                        "and %s offsets, not one %d-d row per key and one offset per paragraph; encoding its units again",
                        str(path), keys.shape, vectors.shape, vectors.dtype, text_keys.shape, text_vectors.shape,
                        offsets.shape, dim)
            return None
        return {"keys": keys, "vectors": vectors, "scales": scales, "offsets": offsets, "text_keys": text_keys,
                "text_vectors": text_vectors, "signature": small["signature"], "precision": small["precision"]}

    def _read_legacy(self, path: Path) -> dict | None:
        with np.load(path, allow_pickle=False) as z:
            keys, vectors = z["keys"], z["vectors"]
            fingerprint = str(z["fingerprint"]) if "fingerprint" in z.files else None  # absent before v2
        if fingerprint is not None and fingerprint != self.encoder.fingerprint:
            log.warning("answer-unit cache %r was written by another encoder (%s); encoding its units again",
                        str(path), fingerprint)
            return None
        if not (keys.ndim == 1 and vectors.ndim == 2 and len(keys) == len(vectors)
                and vectors.shape[1] == self.encoder.dim and vectors.dtype == np.float32):
            log.warning("answer-unit cache %r holds %s keys and %s %s vectors, not one %d-d vector per key; "
                        "encoding its units again", str(path), keys.shape, vectors.shape, vectors.dtype, self.encoder.dim)
            return None
        return {"legacy": dict(zip(keys.tolist(), vectors)), "signature": "", "precision": ""}

    @staticmethod
    def _warn_unreadable(path: Path, e: Exception) -> None:
        reason = f"{e.strerror or e}" if isinstance(e, OSError) else f"{type(e).__name__}: {e}"
        log.warning("answer-unit cache %r is unreadable (%s); encoding its units again", str(path), " ".join(reason.split()))

    def _build(self, paragraphs, signature: str, stored: dict | None, *, progress: bool, reuse: bool) -> None:
        """Split every paragraph, fill every row from the best source, write the file."""
        unit_texts: list[str] = []
        offsets = np.zeros(len(paragraphs) + 1, dtype=np.int64)
        for i, p in enumerate(paragraphs):
            unit_texts += [u.text for u in paragraph_units(p)]
            offsets[i + 1] = len(unit_texts)
        para_texts = [p.text for p in paragraphs]
        units = _Rows(unit_texts, self.precision, self.encoder.dim)
        texts = _Rows(para_texts, "float32", self.encoder.dim)
        if stored is not None and "legacy" in stored:  # the cache before v3: float32 rows by sha1 text hash
            units.take_legacy(stored["legacy"])
            texts.take_legacy(stored["legacy"])
        elif stored is not None and str(stored["precision"]) == self.precision:  # rows as stored: no requantizing
            units.take(stored["keys"], stored["vectors"], stored["scales"])
            texts.take(stored["text_keys"], stored["text_vectors"], None)
        need = [units.texts[i] for i in units.missing()] + [texts.texts[i] for i in texts.missing()]
        if need:
            # --rebuild (reuse False) trusts nothing stored, not even the vector cache: everything is
            # encoded again, still shard by shard through the cache, so a killed rebuild resumes.
            cache = VectorCache(self.vectors_dir, self.encoder)
            vecs = cache.encode(need, batch_size=self.batch_size, progress=progress, reuse=reuse)
            self.encoded = cache.encoded_last
            n = len(units.missing())
            units.put(vecs[:n])
            texts.put(vecs[n:])
        self._save(units, texts, offsets, signature)

    def _save(self, units: _Rows, texts: _Rows, offsets: np.ndarray, signature: str) -> None:
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        extra = {"scales": units.scales} if units.scales is not None else {}
        with fsutil.lock(self.cache_dir):  # one writer at a time (`serve` and `ingest` may both save)
            fsutil.remove_stale_temps(self.cache_file, _LEGACY_TEMPS)
            # np.savez stores members uncompressed: that is what lets load() map them.
            fsutil.write_atomic(self.cache_file, lambda f: np.savez(
                f, format=np.array(FORMAT), fingerprint=np.array(self.encoder.fingerprint),
                signature=np.array(signature), precision=np.array(self.precision), offsets=offsets,
                keys=units.keys, vectors=units.rows, text_keys=texts.keys, text_vectors=texts.rows, **extra))

    def _remove_stale_temps(self) -> None:
        """Delete temporaries of saves that died, if no save is running now (then it does it)."""
        if not fsutil.stale_temps(self.cache_file, _LEGACY_TEMPS):
            return
        try:
            with fsutil.lock(self.cache_dir, timeout=0):
                fsutil.remove_stale_temps(self.cache_file, _LEGACY_TEMPS)
        except (Timeout, OSError):  # a save is running, or the folder is read-only: leave them
            pass

    # --- what the answerer and the guard read ---

    @property
    def vectors(self) -> np.ndarray:
        """Every unit's row as stored (memory-mapped; ``precision``), in paragraph order."""
        return self._matrix

    @property
    def n_units(self) -> int:
        return self._n_units

    def _rows(self, rows: np.ndarray | slice) -> np.ndarray:
        """Stored rows as float32 unit vectors."""
        out = np.asarray(self._matrix[rows], dtype=np.float32)
        if self._scales is not None:
            out *= np.asarray(self._scales[rows], dtype=np.float32)[:, None]
        return out

    @property
    def paragraph_vectors(self) -> np.ndarray:
        """Every paragraph's own-text vector, (paragraphs, dim) float32, memory-mapped; row i is
        ``paragraph_keys[i]``. Searched by :meth:`search_text`."""
        return self._text_matrix

    def units(self, key: tuple[str, int]) -> list[Unit]:
        """The paragraph's units in reading order (split on first use, the last ``unit_cache`` kept)."""
        if key in self._units:
            self._units.move_to_end(key)
            return self._units[key]
        i = self._row_of.get(key)
        if i is None:
            return []
        us = paragraph_units(self._paragraphs[i])
        self._units[key] = us
        if len(self._units) > self.unit_cache:
            self._units.popitem(last=False)
        return us

    def unit_vectors(self, key: tuple[str, int]) -> np.ndarray:
        """(units of the paragraph, dim) float32, in the order of :meth:`units`."""
        i = self._row_of.get(key)
        if i is None:
            return np.zeros((0, self._matrix.shape[1]), np.float32)
        return self._rows(slice(int(self._offsets[i]), int(self._offsets[i + 1])))

    def idf(self, term: str) -> float:
        """Inverse document frequency of ``term`` over all units, ln(N / (1 + df)), floored at 0 (cached).

        ``df`` is counted over every unit while the corpus has at most ``idf_sample`` of them; beyond,
        over the units of every s-th paragraph (s fixed by the size, so the sample never changes for
        one corpus), scaled by N / (units in the sample): a new term costs ~``idf_sample`` substring
        checks, not N. E.g. over the units "资产申报", "举报人保护", "资产追回" and "国际合作",
        idf("资产") = ln(4 / 3) = 0.29 and idf("举报人") = ln(4 / 2) = 0.69.
        """
        if term not in self._idf:
            n = self._n_units
            if not n:
                self._idf[term] = 0.0
                return 0.0
            texts = self._sample_texts()
            hits = sum(term in t for t in texts)
            df = hits * n / self._idf_n if self._idf_n != n else hits
            self._idf[term] = max(0.0, math.log(n / (1 + df)))
        return self._idf[term]

    def _sample_texts(self) -> list[str]:
        if self._idf_texts is None:
            step = max(1, math.ceil(self._n_units / self.idf_sample))
            chosen = range(0, len(self._paragraphs), step)
            self._idf_texts = [u.text for i in chosen for u in paragraph_units(self._paragraphs[i])]
            self._idf_n = len(self._idf_texts) if step > 1 else self._n_units
        return self._idf_texts

    # --- the retriever's own-text list ---

    def search_text(self, qvecs: np.ndarray, k: int, docs: Sequence[DocScope] | None = None
                    ) -> list[list[tuple[tuple[str, int], float]]]:
        """Top-``k`` paragraphs by own-text cosine for each query vector, exact, only from its ``docs``
        (a frozenset of document ids, None = all; a scope is searched over its rows alone, never by
        filtering a wider list). Ties go to the paragraph earlier in the corpus.

        Returns per query ``[(paragraph key, cosine), ...]``, best first. The mapped rows are read
        ``search_block`` at a time as float32, so memory stays bounded whatever the corpus size.

        Example::

            units.search_text(encoder.encode_queries(["asset declarations"]), k=3,
                              docs=[frozenset({"wg4-2019-l1-add1"})])
            # [[(("wg4-2019-l1-add1", 5), 0.86), (("wg4-2019-l1-add1", 7), 0.84), ...]]
        """
        qvecs = np.atleast_2d(np.asarray(qvecs, dtype=np.float32))
        if k < 1:
            raise ValueError(f"k must be at least 1, got {k!r}")
        per_query = scopes(docs, len(qvecs))
        out: list[list[tuple[tuple[str, int], float]]] = [[] for _ in range(len(qvecs))]
        groups: dict[DocScope, list[int]] = {}
        for i, scope in enumerate(per_query):
            groups.setdefault(scope, []).append(i)
        n_par = len(self.paragraph_keys)
        for scope, qs in groups.items():
            if scope is None:
                rows = None
            else:
                parts = [self._doc_rows[d] for d in sorted(scope) if d in self._doc_rows]
                rows = np.concatenate(parts) if parts else np.zeros(0, np.int64)
            total = n_par if rows is None else len(rows)
            best = [(np.zeros(0, np.float32), np.zeros(0, np.int64)) for _ in qs]
            q = qvecs[qs].T
            for start in range(0, total, self.search_block):
                block = (np.arange(start, min(total, start + self.search_block)) if rows is None
                         else rows[start : start + self.search_block])
                # float32 rows straight from the mapping: BLAS reads them in place, no conversion per question
                sims = (self._text_matrix[start : start + len(block)] if rows is None else self._text_matrix[block]) @ q
                for j in range(len(qs)):
                    s, r = best[j]
                    best[j] = _top(np.concatenate([s, sims[:, j]]), np.concatenate([r, block]), k)
            for j, qi in enumerate(qs):
                s, r = best[j]
                out[qi] = [(self.paragraph_keys[int(row)], float(score)) for score, row in zip(s, r)]
        return out
