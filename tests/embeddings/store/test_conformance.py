"""One conformance suite for every index backend behind :class:`embeddings.search_index.SearchIndex`:
the FAISS store's kinds (flat, IVF and HNSW, uncompressed and with ``index.compression`` sq8 / pq) and
Milvus (``index.backend: milvus``, Milvus Lite in one shared file: FLAT and HNSW).

Every backend gets the same data (3,000 clustered 384-d unit vectors, fixed seed, plus a planted set:
near-copies of the first queries at known rows; each chunk's text also carries words drawn from a
200-word vocabulary for BM25), the same queries and the same oracles: brute-force exact search with
numpy, and a numpy BM25 (Lucene idf and length normalisation, index.bm25_k1/b) over the whitespace
words. Through the build and load entry points ``uncac-qa ingest`` and the engine call, each must:

- reach its recall@10 floor against exact search, and find every planted row first;
- push document filters into the search: only the allowed documents' rows come back, equal to exact
  search restricted to them for the exact backends (flat, Milvus FLAT), within the floor for ANN;
- score BM25 as the oracle does (up to Lucene's constant factor k1 + 1, which bm25s leaves out and Milvus
  keeps), unfiltered and filtered (filtered = the oracle's ranking of the allowed rows: a filter changes
  which rows compete, never the corpus statistics);
- rebuild incrementally: unchanged vectors not encoded again, removed chunks never returned, added found;
- swap atomically: a build that dies (while encoding; Milvus also half-way through inserting) leaves
  the served index exactly as it was;
- reload after a restart with identical results.

The floors are measured on these data with margin (flat and Milvus FLAT are exact; PQ is lossy by
design: it is here to show the store serves it correctly, not that it is accurate). Milvus Lite's
start-up is slow (~1 s, jieba ~1-3 s), so its backends share one Lite file for the module, each test
in a collection of its own.
"""

from __future__ import annotations

import dataclasses
import math
import shutil
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from embeddings.encoders.base import Encoder, Kind
from embeddings.index.factory import load_dense_index
from embeddings.search_index import SearchIndex
from embeddings.settings import EmbeddingsSettings, IndexSettings
from embeddings.store import DENSE, build_index, load_index, read_manifest
from rag.corpus.records import Chunk
from tests.embeddings.store.support import snapshot

DIM, N, NQ, K, DOCS, PLANTED, VOCAB = 384, 3000, 100, 10, 30, 10, 200

#: name -> (index settings, recall@10 floor against exact search on these data, exact?).
CASES: dict[str, tuple[dict, float, bool]] = {
    "flat": ({"kind": "flat"}, 1.0, True),
    "ivf": ({"kind": "ivf", "ivf_nprobe": 32}, 0.95, False),
    "ivf-sq8": ({"kind": "ivf", "ivf_nprobe": 32, "compression": "sq8"}, 0.93, False),
    "ivf-pq": ({"kind": "ivf", "ivf_nprobe": 32, "compression": "pq", "pq_m": 24}, 0.35, False),
    "hnsw": ({"kind": "hnsw", "hnsw_m": 16, "hnsw_ef_search": 128}, 0.95, False),
    "hnsw-sq8": ({"kind": "hnsw", "hnsw_m": 16, "hnsw_ef_search": 128, "compression": "sq8"}, 0.93, False),
    "milvus-flat": ({"backend": "milvus", "milvus_index_type": "FLAT"}, 1.0, True),
    "milvus-hnsw": ({"backend": "milvus", "milvus_index_type": "HNSW", "hnsw_m": 16, "hnsw_ef_search": 128}, 0.95, False),
}
#: Milvus builds take ~10 s per 3,000 rows in Milvus Lite (row packing and jieba analysis): the build-path
#: tests (incremental, a build that dies) run on one Milvus index type; the build code is the same for both.
SLOW_BUILDS = {"milvus-hnsw"}
EMB = EmbeddingsSettings(batch_size=1024, index_threads=2, query_threads=1)


def clustered(n: int, seed: int) -> np.ndarray:
    """Unit vectors in 40 clusters, each a Gaussian blob in its own 16-d subspace (deterministic)."""
    rs = np.random.default_rng(seed)
    centres = rs.standard_normal((40, DIM))
    bases = rs.standard_normal((40, 16, DIM)) * (0.35 / np.sqrt(DIM))
    j = rs.integers(40, size=n)
    x = centres[j] / np.sqrt(DIM) + np.einsum("ni,nid->nd", rs.standard_normal((n, 16)), bases[j])
    x += 0.01 * rs.standard_normal((n, DIM))
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


class TableEncoder(Encoder):
    """Passages are looked up by text in a table of precomputed vectors: the store is tested on
    known vectors with an exact oracle. ``fail_after`` simulates a crash mid-encoding."""

    model_id = "test/vector-table"

    def __init__(self, table: dict[str, np.ndarray], fail_after: int | None = None) -> None:
        super().__init__()
        self.table, self.fail_after, self.calls = table, fail_after, 0

    @property
    def dim(self) -> int:
        return DIM

    @property
    def fingerprint(self) -> str:
        return "vector-table-v1"

    def _encode(self, texts: list[str], kind: Kind, batch_size: int, progress: bool) -> np.ndarray:
        if kind == "passage":
            if self.fail_after is not None and self.calls + len(texts) > self.fail_after:
                raise RuntimeError("simulated crash while encoding")
            self.calls += len(texts)
        return np.stack([self.table[t] for t in texts])


def words_of(i: int, tag: str) -> str:
    """3-12 words of a 200-word vocabulary, Zipf-like, deterministic in (tag, i): BM25 has common and
    rare terms and varied lengths to score."""
    rs = np.random.default_rng([i, sum(map(ord, tag))])
    n = int(rs.integers(3, 13))
    ranks = np.minimum(rs.zipf(1.3, size=n), VOCAB) - 1
    return " ".join(f"t{r}" for r in ranks)


def chunk(i: int, doc: int, tag: str = "v") -> Chunk:
    text = f"{tag}{i} {words_of(i, tag)}"
    return Chunk(paragraph_id=f"d{doc}:{i}", doc_id=f"d{doc}", para=i, part=0, n_parts=1, text=text,
                 embed_text=text, label_en=f"d{doc}, para. {i}", label_zh=f"d{doc}，第{i}段")


@dataclasses.dataclass
class Data:
    chunks: list[Chunk]
    queries: np.ndarray
    table: dict[str, np.ndarray]
    planted: list[int] = dataclasses.field(default_factory=list)

    @property
    def vectors(self) -> np.ndarray:
        return np.stack([self.table[c.embed_text] for c in self.chunks])


def exact(vectors: np.ndarray, queries: np.ndarray, k: int = K) -> np.ndarray:
    return np.argsort(-(queries @ vectors.T), axis=1, kind="stable")[:, :k]


def recall(ids: list[list[int]], truth: np.ndarray) -> float:
    return float(np.mean([len(set(a) & set(np.asarray(b).tolist())) / truth.shape[1] for a, b in zip(ids, truth)]))


def bm25_oracle(texts: list[str], queries: list[str], k1: float, b: float) -> np.ndarray:
    """(len(queries), len(texts)) BM25 scores over whitespace words: idf log(1 + (N - df + .5)/(df + .5)),
    tf (k1 + 1) / (tf + k1 (1 - b + b dl/avgdl)). Queries repeat no word: Milvus counts a repeated
    query word once per occurrence, our BM25 once."""
    docs = [Counter(t.split()) for t in texts]
    lengths = np.array([sum(d.values()) for d in docs], dtype=np.float64)
    avgdl = lengths.mean()
    df = Counter(w for d in docs for w in d)
    out = np.zeros((len(queries), len(texts)))
    for qi, q in enumerate(queries):
        for w in set(q.split()):
            if w not in df:
                continue
            idf = math.log(1 + (len(texts) - df[w] + 0.5) / (df[w] + 0.5))
            tf = np.array([d.get(w, 0) for d in docs], dtype=np.float64)
            out[qi] += idf * tf * (k1 + 1) / (tf + k1 * (1 - b + b * lengths / avgdl))
    return out


BM25_QUERIES = ["t0 t3", "t7", "t12 t40 t41", "t1 t2 t5 t150", "t199", "t9 t30", "t2"]


@pytest.fixture(scope="module")
def data() -> Data:
    x = clustered(N + NQ, seed=20240)
    base, queries = x[:N].copy(), x[N:]
    rs = np.random.default_rng(7)
    planted = rs.choice(N, PLANTED, replace=False)  # row planted[i] is a near-copy of query i
    noisy = queries[:PLANTED] + 0.01 * rs.standard_normal((PLANTED, DIM)).astype(np.float32)
    base[planted] = noisy / np.linalg.norm(noisy, axis=1, keepdims=True)
    chunks = [chunk(i, i % DOCS) for i in range(N)]
    return Data(chunks, queries, {c.embed_text: v for c, v in zip(chunks, base)}, [int(p) for p in planted])


# --- backends: how each is built, loaded and observed ---------------------------------------------


@dataclasses.dataclass(frozen=True)
class Backend:
    """One backend under test: ``where`` is a FAISS directory, or a Milvus (Lite file, collection) pair."""

    name: str
    settings: IndexSettings
    lite: Path | None  # the module's shared Milvus Lite file

    @property
    def milvus(self) -> bool:
        return self.settings.backend == "milvus"

    def place(self, base: Path, label: str) -> IndexSettings | Path:
        """Somewhere fresh to build: a directory under ``base``, or a collection of the shared Lite file."""
        if self.milvus:
            safe = f"{self.name}_{label}".replace("-", "_")
            return self.settings.model_copy(update={"milvus_uri": str(self.lite), "milvus_collection": safe})
        return base / label / "index"

    def build(self, chunks, encoder, where, **kw):
        if self.milvus:
            from embeddings.milvus import build_milvus

            return build_milvus(chunks, encoder, where, EMB, vectors=self.lite.with_name("vectors"), **kw)
        return build_index(chunks, encoder, self.settings, EMB, directory=where, **kw)

    def load(self, where, encoder) -> SearchIndex:
        if self.milvus:
            from embeddings.milvus import load_milvus

            index = load_milvus(where, encoder, EMB, record_type=Chunk)
        else:
            index = load_index(where, encoder, self.settings, EMB, record_type=Chunk)
        assert isinstance(index, SearchIndex)
        return index

    def state(self, where):
        """What a build that dies must leave unchanged: the directory's bytes, or what Milvus serves."""
        if not self.milvus:
            return snapshot(where)
        from embeddings.milvus import meta
        from embeddings.milvus.connection import connect

        client = connect(where)
        live = meta.read_live(client, where)
        ours = sorted(c for c in client.list_collections()
                      if c.startswith(where.milvus_collection + "_") and c != meta.meta_name(where))
        return live, ours, meta.read_manifest(client, where, live)


@pytest.fixture(scope="module")
def lite(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("milvus") / "milvus.db"


@pytest.fixture(scope="module", params=list(CASES))
def case(request, data, tmp_path_factory, lite):
    """The backend's index built once; tests only read it, or build their own elsewhere."""
    name = request.param
    settings = IndexSettings(**CASES[name][0])
    backend = Backend(name, settings, lite)
    where = backend.place(tmp_path_factory.mktemp(name), "base")
    report = backend.build(data.chunks, TableEncoder(data.table), where)
    return backend, where, report


def ids_of(hits: list[list[tuple[int, float]]]) -> list[list[int]]:
    return [[i for i, _ in row] for row in hits]


def test_builds_what_was_asked_for(case, data):
    backend, where, report = case
    index = backend.load(where, TableEncoder(data.table))
    assert report.chunks == N and len(index.chunks) == N
    assert index.chunks[17] == data.chunks[17] and index.position(data.chunks[17].id) == 17
    assert index.position("no such chunk") is None
    assert np.allclose(index.vectors_of([5, 3]), data.vectors[[5, 3]], atol=1e-6)
    assert index.stale_reasons(data.chunks, backend.settings) == []
    assert index.stale_reasons(data.chunks[:-1], backend.settings) == ["the corpus changed (0 new or edited chunks, 1 removed)"]
    assert index.stale_reasons(data.chunks, backend.settings.model_copy(update={"bm25_k1": 1.2})) == ["bm25_k1 changed to 1.2"]
    if backend.milvus:
        assert report.kind == index.kind == "milvus"
        assert index.manifest["index"]["index_type"] == backend.settings.milvus_index_type
        return
    settings = backend.settings
    assert report.kind == settings.kind
    manifest = read_manifest(where)
    expected = "none" if settings.kind == "flat" else settings.compression
    assert manifest["index"]["kind"] == settings.kind and manifest["index"]["compression"] == expected
    assert index.dense.ntotal == N and index.dense.compression == expected
    other = "sq8" if settings.compression != "sq8" else "none"
    reasons = index.stale_reasons(data.chunks, settings.model_copy(update={"compression": other}))
    assert reasons == ([] if settings.kind == "flat" else [f"compression changed from {expected!r} to {other!r}"])


def test_recall_against_exact_search_and_planted_rows_first(case, data):
    backend, where, _ = case
    index = backend.load(where, TableEncoder(data.table))
    hits = index.search_dense(data.queries, K)
    got = recall(ids_of(hits), exact(data.vectors, data.queries))
    floor = CASES[backend.name][1]
    assert got >= floor, f"{backend.name}: recall@10 {got:.3f} below its floor {floor}"
    assert [row[0][0] for row in hits[:PLANTED]] == data.planted
    for row in hits:  # scores best first and close to the true inner products (compressed: approximately)
        scores = [s for _, s in row]
        assert scores == sorted(scores, reverse=True)
    true = data.vectors[[i for i, _ in hits[0]]] @ data.queries[0]
    assert np.allclose([s for _, s in hits[0]], true, atol=0.2 if backend.settings.compression == "pq" else 0.01)


@pytest.mark.parametrize("n_docs", [DOCS // 2, 1])
def test_filters_are_pushed_into_the_dense_search(case, data, n_docs):
    backend, where, _ = case
    index = backend.load(where, TableEncoder(data.table))
    allowed = frozenset(f"d{d}" for d in range(0, DOCS, DOCS // n_docs))
    rows = np.array([i for i, c in enumerate(data.chunks) if c.doc_id in allowed])
    truth = rows[exact(data.vectors[rows], data.queries)]
    # every other query filtered, the rest not: scopes are per query
    scopes = [allowed if q % 2 == 0 else None for q in range(NQ)]
    hits = ids_of(index.search_dense(data.queries, K, docs=scopes))
    got = hits[::2]
    assert all(len(row) == K for row in got)
    assert all(data.chunks[i].doc_id in allowed for row in got for i in row)
    name, floor, is_exact = backend.name, CASES[backend.name][1], CASES[backend.name][2]
    if is_exact:
        assert got == truth[::2].tolist()
    else:
        assert recall(got, truth[::2]) >= floor - 0.05
    assert recall(hits[1::2], exact(data.vectors, data.queries[1::2])) >= floor, name
    assert index.search_dense(data.queries[:2], K, docs=[frozenset(), frozenset({"no such doc"})]) == [[], []]


def test_bm25_scores_as_the_oracle_with_and_without_filters(case, data):
    backend, where, _ = case
    index = backend.load(where, TableEncoder(data.table))
    texts = [c.embed_text for c in data.chunks]
    k1 = backend.settings.bm25_k1
    oracle = bm25_oracle(texts, BM25_QUERIES, k1, backend.settings.bm25_b)
    allowed = frozenset({"d3", "d11", "d29"})
    mask = np.array([c.doc_id in allowed for c in data.chunks])
    for scopes in (None, [allowed] * len(BM25_QUERIES)):
        hits = index.search_bm25(BM25_QUERIES, K, docs=scopes)
        for q, row in enumerate(hits):
            want = np.where(mask, oracle[q], 0.0) if scopes else oracle[q]
            top = np.sort(want[want > 0])[::-1][:K]
            got = np.array([s for _, s in row])
            assert len(got) == len(top) and len(got) > 0
            # Lucene's scores up to the constant (k1 + 1): Milvus keeps it, bm25s drops it (same ranking)
            scale = got[0] / top[0]
            assert min(abs(scale - 1), abs(scale * (k1 + 1) - 1)) < 1e-3, (backend.name, BM25_QUERIES[q], scale)
            assert np.allclose(got, top * scale, rtol=1e-3), (backend.name, BM25_QUERIES[q], got[:3], top[:3])
            assert np.allclose(want[[i for i, _ in row]] * scale, got, rtol=1e-3)  # each row its own oracle score
            if scopes:
                assert all(data.chunks[i].doc_id in allowed for i, _ in row)
    assert index.search_bm25(["zzz-not-a-word", ""], K) == [[], []]


def test_incremental_rebuild_reuses_removes_and_adds(case, data, tmp_path):
    backend, base, _ = case
    if backend.name in SLOW_BUILDS:
        pytest.skip("the Milvus build path is covered by milvus-flat")
    if backend.milvus:
        work = backend.place(tmp_path, "inc")
    else:
        work = tmp_path / "index"
        shutil.copytree(base, work)
    removed = set(range(0, N, 10)) - set(data.planted)  # 300 chunks gone, among them no planted row
    fresh = clustered(200, seed=99)
    added = [chunk(N + j, j % DOCS, tag="w") for j in range(200)]
    table = {**data.table, **{c.embed_text: v for c, v in zip(added, fresh)}}
    chunks = [c for i, c in enumerate(data.chunks) if i not in removed] + added
    encoder = TableEncoder(table)
    if backend.milvus:  # the base again, in a collection of its own, with a vector cache that holds only it
        shutil.rmtree(backend.lite.with_name("vectors") / encoder.fingerprint[:16], ignore_errors=True)
        backend.build(data.chunks, TableEncoder(data.table), work)
    report = backend.build(chunks, encoder, work)
    assert (report.reused, report.encoded, report.removed) == (N - len(removed), 200, len(removed))
    assert encoder.calls == 200
    index = backend.load(work, encoder)
    assert index.stale_reasons(chunks, backend.settings) == []
    gone = {data.chunks[i].id for i in removed}
    vectors = np.stack([table[c.embed_text] for c in chunks])
    queries = np.concatenate([data.queries, fresh[:20]])  # 20 queries that are added vectors themselves
    hits = ids_of(index.search_dense(queries, K))
    assert not {index.chunks[i].id for row in hits for i in row} & gone
    assert recall(hits, exact(vectors, queries)) >= CASES[backend.name][1] - 0.02
    assert [index.chunks[row[0]].id for row in hits[NQ:]] == [c.id for c in added[:20]]
    bm = index.search_bm25([c.embed_text.split()[0] for c in added[:5]], 1)  # an added chunk's own tag word
    assert [index.chunks[row[0][0]].id for row in bm] == [c.id for c in added[:5]]


def test_a_build_that_dies_leaves_the_served_index_as_it_was(case, data, tmp_path, monkeypatch):
    backend, base, _ = case
    if backend.name in SLOW_BUILDS:
        pytest.skip("the Milvus build path is covered by milvus-flat")
    if backend.milvus:
        work = backend.place(tmp_path, "dies")
        backend.build(data.chunks, TableEncoder(data.table), work)
    else:
        work = tmp_path / "index"
        shutil.copytree(base, work)
    before = backend.state(work)
    served = backend.load(work, TableEncoder(data.table)).search_dense(data.queries, K)
    table = {**data.table, **{f"x{N + i} {words_of(N + i, 'x')}": v for i, v in enumerate(clustered(50, seed=5))}}
    chunks = data.chunks[:-50] + [chunk(N + i, 0, tag="x") for i in range(50)]
    with pytest.raises(RuntimeError, match="simulated crash"):
        backend.build(chunks, TableEncoder(table, fail_after=10), work)
    assert backend.state(work) == before
    if backend.milvus:  # also half-way through inserting the new collection's rows
        import pymilvus

        from embeddings.milvus import building

        real, calls = pymilvus.MilvusClient.insert, []

        def dying_insert(self, name, rows, **kw):
            calls.append(len(rows))
            if len(calls) == 2:
                raise RuntimeError("simulated crash while inserting")
            return real(self, name, rows, **kw)

        monkeypatch.setattr(building, "INSERT_BATCH", 500)
        monkeypatch.setattr(pymilvus.MilvusClient, "insert", dying_insert)
        with pytest.raises(RuntimeError, match="simulated crash while inserting"):
            backend.build(chunks, TableEncoder(table), work)
        monkeypatch.undo()
        assert calls == [500, 500] and backend.state(work) == before  # the half-filled collection is gone
    else:
        assert {p.name for p in tmp_path.iterdir()} <= {"index", ".index.lock"}  # no temporary directory left
    again = backend.load(work, TableEncoder(data.table))
    assert again.search_dense(data.queries, K) == served
    backend.build(chunks, TableEncoder(table), work)  # this one completes: swapped in
    swapped = backend.load(work, TableEncoder(table))
    assert [c.id for c in swapped.chunks] == [c.id for c in chunks]
    if backend.milvus:
        live, ours, _ = backend.state(work)
        assert ours == [live] and live != before[0]  # the old collection was dropped after the switch


def test_reload_after_restart_gives_identical_results(case, data):
    backend, where, _ = case
    first = backend.load(where, TableEncoder(data.table))
    hits = first.search_dense(data.queries, K), first.search_bm25(BM25_QUERIES, K)
    del first  # a restart: nothing of the first load is shared with the next
    second = backend.load(where, TableEncoder(data.table))
    assert (second.search_dense(data.queries, K), second.search_bm25(BM25_QUERIES, K)) == hits


def test_faiss_mmap_and_dense_file_round_trip(case, data, tmp_path):
    backend, directory, _ = case
    if backend.milvus:
        pytest.skip("FAISS files only")
    settings = backend.settings
    heap = load_index(directory, TableEncoder(data.table), settings, EMB, record_type=Chunk)
    hits = heap.search_dense(data.queries, K)
    mapped = load_index(directory, TableEncoder(data.table), settings.model_copy(update={"mmap": True}), EMB,
                        record_type=Chunk)
    assert mapped.search_dense(data.queries, K) == hits
    heap.dense.save(tmp_path / DENSE)  # the dense file's own round trip
    again = load_dense_index(tmp_path / DENSE, settings.kind, settings)
    assert (tmp_path / DENSE).read_bytes() == (directory / DENSE).read_bytes()
    _, ids = again.search(data.queries, K)
    assert ids.tolist() == ids_of(hits)
