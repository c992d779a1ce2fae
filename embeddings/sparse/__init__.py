"""Sparse (lexical) retrieval: BM25 over jieba-segmented Chinese and lower-cased Latin words."""
