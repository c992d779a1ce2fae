"""One conformance suite for every dense index kind the store builds: flat, IVF and HNSW, uncompressed
and with ``index.compression`` sq8 / pq.

Every kind gets the same data (3,000 clustered 384-d unit vectors, fixed seed, plus a planted set:
near-copies of the first queries at known rows), the same queries and the same oracle, brute-force
exact search with numpy. Through the store as ``uncac-qa ingest`` and the engine call it
(``build_index`` / ``load_index``), each kind must:

- reach its recall@10 floor against exact search, and find every planted row first;
- serve document filters the way the searcher does (widened search, then the allowed documents'
  rows; exact search among them when too few pass);
- rebuild incrementally: unchanged vectors reused, removed chunks never returned, added ones found;
- swap atomically: a build that dies leaves the served index byte for byte as it was;
- reload after a restart with identical results, memory-mapped or not, and survive its own dense
  file's save/load round trip unchanged.

The floors are measured on these data with margin (flat is exact; PQ is lossy by design: it is here to
show the store serves it correctly, not that it is accurate).
"""

from __future__ import annotations

import dataclasses
import shutil

import numpy as np
import pytest

from embeddings.encoders.base import Encoder, Kind
from embeddings.index.factory import load_dense_index
from embeddings.settings import EmbeddingsSettings, IndexSettings
from embeddings.store import DENSE, build_index, load_index, read_manifest
from rag.corpus.records import Chunk
from tests.embeddings.store.support import snapshot

DIM, N, NQ, K, DOCS, PLANTED = 384, 3000, 100, 10, 30, 10

#: name -> (index settings, recall@10 floor against exact search on these data).
CASES: dict[str, tuple[dict, float]] = {
    "flat": ({"kind": "flat"}, 1.0),
    "ivf": ({"kind": "ivf", "ivf_nprobe": 32}, 0.95),
    "ivf-sq8": ({"kind": "ivf", "ivf_nprobe": 32, "compression": "sq8"}, 0.93),
    "ivf-pq": ({"kind": "ivf", "ivf_nprobe": 32, "compression": "pq", "pq_m": 24}, 0.35),
    "hnsw": ({"kind": "hnsw", "hnsw_m": 16, "hnsw_ef_search": 128}, 0.95),
    "hnsw-sq8": ({"kind": "hnsw", "hnsw_m": 16, "hnsw_ef_search": 128, "compression": "sq8"}, 0.93),
}
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


def chunk(i: int, doc: int, tag: str = "v") -> Chunk:
    text = f"{tag}{i}"
    return Chunk(paragraph_id=f"d{doc}:{i}", doc_id=f"d{doc}", para=i, part=0, n_parts=1, text=text,
                 embed_text=text, label_en=f"d{doc}, para. {i}", label_zh=f"d{doc}，第{i}段")


@dataclasses.dataclass
class Data:
    chunks: list[Chunk]
    queries: np.ndarray
    table: dict[str, np.ndarray]

    @property
    def vectors(self) -> np.ndarray:
        return np.stack([self.table[c.embed_text] for c in self.chunks])


def exact(vectors: np.ndarray, queries: np.ndarray, k: int = K) -> np.ndarray:
    return np.argsort(-(queries @ vectors.T), axis=1, kind="stable")[:, :k]


def recall(ids: list[list[int]], truth: np.ndarray) -> float:
    return float(np.mean([len(set(a) & set(b.tolist())) / truth.shape[1] for a, b in zip(ids, truth)]))


@pytest.fixture(scope="module")
def data() -> Data:
    x = clustered(N + NQ, seed=20240)
    base, queries = x[:N].copy(), x[N:]
    rs = np.random.default_rng(7)
    planted = rs.choice(N, PLANTED, replace=False)  # row planted[i] is a near-copy of query i
    noisy = queries[:PLANTED] + 0.01 * rs.standard_normal((PLANTED, DIM)).astype(np.float32)
    base[planted] = noisy / np.linalg.norm(noisy, axis=1, keepdims=True)
    chunks = [chunk(i, i % DOCS) for i in range(N)]
    data = Data(chunks, queries, {c.embed_text: v for c, v in zip(chunks, base)})
    data.planted = [int(p) for p in planted]
    return data


@pytest.fixture(scope="module", params=list(CASES))
def case(request, data, tmp_path_factory):
    """The kind's index built once through the store; tests copy it or only read it."""
    name = request.param
    settings = IndexSettings(**CASES[name][0])
    directory = tmp_path_factory.mktemp(name) / "index"
    report = build_index(data.chunks, TableEncoder(data.table), settings, EMB, directory=directory)
    return name, settings, directory, report


def load(directory, data, settings, **kw):
    return load_index(directory, TableEncoder(data.table), settings, EMB, record_type=Chunk, **kw)


def ids_of(hits: list[list[tuple[int, float]]]) -> list[list[int]]:
    return [[i for i, _ in row] for row in hits]


def test_builds_the_kind_and_compression_asked_for(case, data):
    name, settings, directory, report = case
    assert report.kind == settings.kind and report.chunks == N
    manifest = read_manifest(directory)
    expected = "none" if settings.kind == "flat" else settings.compression
    assert manifest["index"]["kind"] == settings.kind and manifest["index"]["compression"] == expected
    index = load(directory, data, settings)
    assert index.dense.ntotal == N and index.dense.compression == expected
    assert index.stale_reasons(data.chunks, settings) == []
    other = "sq8" if settings.compression != "sq8" else "none"
    reasons = index.stale_reasons(data.chunks, settings.model_copy(update={"compression": other}))
    assert reasons == ([] if settings.kind == "flat" else [f"compression changed from {expected!r} to {other!r}"])


def test_recall_against_exact_search_and_planted_rows_first(case, data):
    name, settings, directory, _ = case
    index = load(directory, data, settings)
    hits = index.search_dense(data.queries, K)
    got = recall(ids_of(hits), exact(data.vectors, data.queries))
    assert got >= CASES[name][1], f"{name}: recall@10 {got:.3f} below its floor {CASES[name][1]}"
    assert [row[0][0] for row in hits[:PLANTED]] == data.planted
    for row in hits:  # scores best first and close to the true inner products (compressed: approximately)
        scores = [s for _, s in row]
        assert scores == sorted(scores, reverse=True)
    q0 = [(i, s) for i, s in hits[0]]
    true = data.vectors[[i for i, _ in q0]] @ data.queries[0]
    assert np.allclose([s for _, s in q0], true, atol=0.2 if settings.compression == "pq" else 0.01)  # PQ: lossy codes


def filtered(index, qvecs: np.ndarray, allowed: set[str], k: int, widen: int = 20) -> list[list[int]]:
    """Dense hits of the allowed documents only, the way ``rag.retrieval.searcher`` gets them: a
    widened search filtered by document, or exact search over the allowed rows when too few pass."""
    out = []
    for q, row in zip(qvecs, index.search_dense(qvecs, k * widen)):
        keep = [i for i, _ in row if index.chunks[i].doc_id in allowed][:k]
        if len(keep) < k:
            rows = np.array([i for i, c in enumerate(index.chunks) if c.doc_id in allowed])
            keep = rows[np.argsort(-(index.vectors[rows] @ q), kind="stable")[:k]].tolist()
        out.append(keep)
    return out


@pytest.mark.parametrize("n_docs", [DOCS // 2, 1])
def test_filters_keep_to_the_allowed_documents(case, data, n_docs):
    name, settings, directory, _ = case
    index = load(directory, data, settings)
    allowed = {f"d{d}" for d in range(0, DOCS, DOCS // n_docs)}
    rows = np.array([i for i, c in enumerate(data.chunks) if c.doc_id in allowed])
    truth = rows[exact(data.vectors[rows], data.queries)]
    got = filtered(index, data.queries, allowed, K)
    assert all(data.chunks[i].doc_id in allowed for row in got for i in row)
    assert recall(got, truth) >= CASES[name][1] - 0.05


def test_incremental_rebuild_reuses_removes_and_adds(case, data, tmp_path):
    name, settings, directory, _ = case
    work = tmp_path / "index"
    shutil.copytree(directory, work)
    removed = set(range(0, N, 10))  # 300 chunks gone, among them no planted row
    removed -= set(data.planted)
    fresh = clustered(200, seed=99)
    added = [chunk(N + j, j % DOCS, tag="w") for j in range(200)]
    table = {**data.table, **{c.embed_text: v for c, v in zip(added, fresh)}}
    chunks = [c for i, c in enumerate(data.chunks) if i not in removed] + added
    encoder = TableEncoder(table)
    report = build_index(chunks, encoder, settings, EMB, directory=work)
    assert (report.reused, report.encoded, report.removed) == (N - len(removed), 200, len(removed))
    assert encoder.calls == 200
    index = load_index(work, encoder, settings, EMB, record_type=Chunk)
    assert index.stale_reasons(chunks, settings) == []
    gone = {data.chunks[i].id for i in removed}
    vectors = np.stack([table[c.embed_text] for c in chunks])
    queries = np.concatenate([data.queries, fresh[:20]])  # 20 queries that are added vectors themselves
    hits = ids_of(index.search_dense(queries, K))
    assert not {index.chunks[i].id for row in hits for i in row} & gone
    assert recall(hits, exact(vectors, queries)) >= CASES[name][1] - 0.02
    assert [index.chunks[row[0]].id for row in hits[NQ:]] == [c.id for c in added[:20]]


def test_a_build_that_dies_leaves_the_served_index_as_it_was(case, data, tmp_path):
    name, settings, directory, _ = case
    work = tmp_path / "index"
    shutil.copytree(directory, work)
    before = snapshot(work)
    served = load_index(work, TableEncoder(data.table), settings, EMB, record_type=Chunk).search_dense(data.queries, K)
    table = {**data.table, **{f"x{N + i}": v for i, v in enumerate(clustered(50, seed=5))}}
    chunks = data.chunks[:-50] + [chunk(N + i, 0, tag="x") for i in range(50)]
    with pytest.raises(RuntimeError, match="simulated crash"):
        build_index(chunks, TableEncoder(table, fail_after=10), settings, EMB, directory=work)
    assert snapshot(work) == before
    assert {p.name for p in tmp_path.iterdir()} <= {"index", ".index.lock"}  # no temporary directory left
    again = load_index(work, TableEncoder(data.table), settings, EMB, record_type=Chunk)
    assert again.search_dense(data.queries, K) == served
    build_index(chunks, TableEncoder(table), settings, EMB, directory=work)  # this one completes: swapped in
    swapped = load_index(work, TableEncoder(table), settings, EMB, record_type=Chunk)
    assert [c.id for c in swapped.chunks] == [c.id for c in chunks]


def test_reload_after_restart_gives_identical_results(case, data, tmp_path):
    name, settings, directory, _ = case
    first = load(directory, data, settings)
    hits = first.search_dense(data.queries, K)
    del first  # a restart: nothing of the first load is shared with the next
    second = load(directory, data, settings)
    assert second.search_dense(data.queries, K) == hits
    mapped = load(directory, data, settings.model_copy(update={"mmap": True}))
    assert mapped.search_dense(data.queries, K) == hits
    second.dense.save(tmp_path / DENSE)  # the dense file's own round trip
    again = load_dense_index(tmp_path / DENSE, settings.kind, settings)
    assert (tmp_path / DENSE).read_bytes() == (directory / DENSE).read_bytes()
    scores, ids = again.search(data.queries, K)
    assert ids.tolist() == ids_of(hits)
