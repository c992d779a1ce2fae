"""Hybrid retrieval: dense (FAISS) + sparse (BM25) fused by reciprocal rank, routed by the query's
script, with an exact-reference path for symbols, paragraph numbers, resolutions and articles."""
