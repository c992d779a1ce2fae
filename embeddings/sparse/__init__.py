"""Sparse (lexical) retrieval: BM25 over jieba-segmented Chinese and Snowball-stemmed words of the other
five UN languages (``analysis`` tells the language and splits the words)."""
