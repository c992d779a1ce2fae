"""The answerer interface: a question and numbered sources in, a draft answer out.

Answerers never produce final citations: they return sentences with the source numbers they claim, and
the citation guard verifies each claim against the paragraphs and attaches the real labels. So a model
that writes ``[7]`` with five sources, or cites the wrong paragraph, cannot put a false citation in front
of a delegate.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass

import numpy as np

from rag.answer.context import Source
from rag.answer.unit_index import UnitIndex


@dataclass(frozen=True)
class DraftSentence:
    text: str  # the sentence without citation markers
    cites: tuple[int, ...]  # source numbers the answerer claims support it
    lead: str | None = None  # for a quoted list item: the sentence introducing the list (display only)


@dataclass(frozen=True)
class Draft:
    sentences: tuple[DraftSentence, ...]
    backend: str
    refused: bool = False  # the answerer itself said the sources hold no answer
    notice: str | None = None


@dataclass(frozen=True)
class AnswerInput:
    question: str
    lang: str  # "zh" | "en": the question's language, and so the answer's
    qvec: np.ndarray  # the question's query vector (already computed by retrieval)
    sources: list[Source]
    units: UnitIndex


class Answerer(ABC):
    """Subclasses implement ``_answer``; ``answer`` validates the input first."""

    name: str = "answerer"

    def answer(self, inp: AnswerInput) -> Draft:
        if not inp.sources:
            return Draft((), self.name, refused=True)
        return self._answer(inp)

    @abstractmethod
    def _answer(self, inp: AnswerInput) -> Draft:
        """Draft an answer from ``inp.sources`` (non-empty)."""
