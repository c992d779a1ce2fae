"""eval.bench_scale's Milvus Lite measurement on a tiny corpus: the figures come from the real build/load/search
path (FLAT is exact, so its recall against the benchmark's own ground truth must be 1), and the report
renders FAISS and Milvus rows side by side without figures Milvus does not have (mmap)."""

from __future__ import annotations

from eval import bench_scale as bs


def test_milvus_flat_is_exact_and_renders_beside_faiss(tmp_path):
    gen = bs.ClusteredVectors(dim=bs.DIM, clusters=50)
    xb, xq = gen.rows(0, 400), gen.queries(20)
    gt = bs.ground_truth(xb, xq)
    r = bs.measure_milvus("milvus-flat", xb, xq, gt, tmp_path, sweep_queries=5)
    assert r["recall"] == 1.0 and r["n"] == 400 and r["bytes_per_vector"] > 4 * bs.DIM  # float32 + record + text
    assert r["build_s"] > 0 and r["p50_ms"] > 0 and not (tmp_path / "milvus-flat-400").exists()
    faiss_row = bs.measure("flat", xb, xq, gt, tmp_path, sweep_queries=5)
    result = {"machine": bs.machine(), "k": bs.K, "dim": bs.DIM, "recall_floor": bs.RECALL_FLOOR,
              "targets": bs.TARGETS, "queries": 20, "sweep_queries": 5, "runs": [faiss_row, r]}
    text = bs.render(result, tmp_path)
    assert "| 400 | milvus-flat |" in text and "| 400 | flat |" in text
    assert (tmp_path / "latency_vs_size.png").stat().st_size > 0
