"""Encoders (text -> normalised vectors) and the indexes built from them (FAISS dense, BM25 sparse),
with the index store that keeps them on disk.

The lowest layer: it imports nothing of ``rag``, ``ui`` or ``eval`` (``lint-imports`` checks it). Its
errors (:mod:`embeddings.errors`), settings (:mod:`embeddings.settings`), record protocol
(:mod:`embeddings.records`) and file helpers (:mod:`embeddings.fsutil`) live here for that reason.
"""
