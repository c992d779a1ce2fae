"""Sentence encoders behind one small interface; backends are sibling files chosen by ``factory``."""

from embeddings.encoders.base import Encoder

__all__ = ["Encoder"]
