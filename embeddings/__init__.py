"""Encoders (text -> normalised vectors) and the indexes built from them (FAISS dense, BM25 sparse)."""
