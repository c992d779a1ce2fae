"""Dense vector indexes (inner product on unit vectors = cosine); backends are sibling files chosen by
``factory``."""

from embeddings.index.base import DenseIndex

__all__ = ["DenseIndex"]
