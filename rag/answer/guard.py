"""The citation guard: no citation reaches a delegate unless the cited paragraph supports the sentence.

For every sentence of a draft (from any answerer):

1. claimed source numbers that point at no source (``[7]`` with five sources) are removed;
2. support is looked for, first as a quoted span (the sentence contains a unit of a source, or lies
   inside one; whitespace-insensitive), then by encoder similarity between the sentence and the
   source's units, at least the sentence language's ``support_threshold_*`` — or, for Chinese, within
   ``guard_lexical_slack`` of it when ``guard_lexical_share`` of the sentence's character bigrams
   are in that unit;
3. a claimed source that supports the sentence is kept; if none does but another source does, the
   citation moves to that paragraph (a model citing the wrong paragraph is corrected, not trusted);
4. a sentence nothing supports is dropped or kept marked unsupported (``answer.unsupported``).

Units that look like instructions to a model are never support (see ``units.looks_like_injection``).
The result's citation labels come from the corpus, never from the answerer's text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from rag.answer.base import Draft, DraftSentence
from rag.answer.extractive import overlap
from rag.answer.context import Source
from rag.answer.unit_index import UnitIndex
from rag.answer.units import Unit, looks_like_injection
from rag.config import AnswerSettings
from rag.corpus.records import Citation, source_url
from rag.corpus.loader import Corpus
from rag.result import AnswerSentence
from rag.text import normalize_for_match, script_of, split_sentences

_MARKER = re.compile(r"\s*[\[【]\s*(\d{1,3}(?:\s*[,，、]\s*\d{1,3})*)\s*[\]】]")


def _plain(text: str) -> str:
    """Whitespace-insensitive, quote marks removed — on both sides, so a unit with “…” in it still
    matches itself (an LLM may drop or change the quote marks)."""
    return normalize_for_match(re.sub(r"[“”\"'‘’「」『』]", "", text))


def split_draft_text(text: str) -> tuple[DraftSentence, ...]:
    """Split free answer text into sentences and their ``[n]`` markers (a marker after the end mark
    belongs to the sentence before it).

    >>> split_draft_text("甲方案已实施。[1] 乙计划[2][3]。")
    (DraftSentence(text='甲方案已实施。', cites=(1,), lead=None), DraftSentence(text='乙计划。', cites=(2, 3), lead=None))
    """
    # Move markers that follow an end mark in front of it, so sentence splitting keeps them together.
    text = re.sub(r"([。！？.!?；;])((?:\s*[\[【][\d,，、\s]+[\]】])+)", r"\2\1", text)
    out: list[DraftSentence] = []
    for s in split_sentences(text):
        cites = tuple(int(n) for m in _MARKER.finditer(s) for n in re.split(r"[,，、]", m.group(1)))
        clean = _MARKER.sub("", s).strip()
        if clean and re.search(r"\w", clean):
            out.append(DraftSentence(clean, tuple(dict.fromkeys(cites))))
    return tuple(out)


def support_thresholds(settings) -> dict[str, float]:
    """Per-language support thresholds from ``AnswerSettings``."""
    return {"zh": settings.support_threshold_zh, "en": settings.support_threshold_en}


@dataclass(frozen=True)
class Support:
    n: int  # source number
    unit: Unit
    how: str  # "span" | "encoder"
    strength: float


class CitationGuard:
    def __init__(self, corpus: Corpus, units: UnitIndex, encoder, *, thresholds: dict[str, float], unsupported: str = "drop",
                 settings: AnswerSettings | None = None) -> None:
        """``settings``: where the guard's other tuned numbers come from (``answer.guard_*``; default
        the defaults); ``thresholds`` and ``unsupported`` as given."""
        settings = settings or AnswerSettings()
        self.corpus = corpus
        self.units = units
        self.encoder = encoder
        self.thresholds = thresholds  # per language of the answer sentence: {"zh": 0.92, "en": 0.84}
        self.unsupported = unsupported
        self.min_span = settings.guard_min_span
        self.lexical_slack = settings.guard_lexical_slack
        self.lexical_share = settings.guard_lexical_share
        self.units_per_source = settings.guard_units_per_source

    def check(self, draft: Draft, sources: list[Source]) -> tuple[list[AnswerSentence], list[Citation]]:
        by_n = {s.n: s for s in sources}
        citations: list[Citation] = []
        index: dict[tuple[str, int, str | None, str], int] = {}
        out: list[AnswerSentence] = []
        pending = [s for s in draft.sentences if s.text.strip()]
        spans = [self._span_support(s.text, sources) for s in pending]
        # Encode only sentences with no quoted span, in one batch (LLM paraphrases; extractive never).
        need = [i for i, sp in enumerate(spans) if not sp]
        enc_support: dict[int, list[Support]] = {}
        if need and self.encoder is not None:
            vecs = self.encoder.encode_queries([pending[i].text for i in need])
            for i, v in zip(need, vecs):
                enc_support[i] = self._encoder_support(pending[i].text, v, sources)
        for i, s in enumerate(pending):
            supports = spans[i] or enc_support.get(i, [])
            claimed = [n for n in s.cites if n in by_n]
            chosen = [sp for sp in supports if sp.n in claimed] or supports[:1]
            if not chosen:
                if self.unsupported == "mark":
                    out.append(AnswerSentence(s.text, (), supported=False))
                continue
            ids = []
            for sp in chosen:
                p = by_n[sp.n].paragraph
                # One citation per quoted unit: two sentences of one paragraph are two quotes, and the
                # sources panel and viewer highlight both (the label is the same).
                key = (p.doc_id, p.para, sp.unit.sub, sp.unit.text)
                if key not in index:
                    meta = self.corpus.meta(p.doc_id)
                    sub = sp.unit.sub
                    en = p.label_en + (f" ({sub})" if sub else "")
                    zh = p.label_zh + (f" ({sub})" if sub else "")
                    index[key] = len(citations)
                    citations.append(Citation(p.doc_id, meta.symbol, p.para, sub, en, zh, sp.unit.text, source_url(p.doc_id, p.para, sub)))
                ids.append(index[key])
            text = f"{s.lead}……{s.text}" if s.lead else s.text
            out.append(AnswerSentence(text, tuple(dict.fromkeys(ids)), supported=True))
        return out, citations

    def _span_support(self, text: str, sources: list[Source]) -> list[Support]:
        body = _plain(text)
        if len(body) < 2 or looks_like_injection(text):
            return []
        found: list[Support] = []
        for src in sources:
            for u in self.units.units(src.key):
                ut = _plain(u.text)
                # A whole unit quoted exactly is support at any length ("内部信息。", a sub-item); a shorter
                # fragment ("工作组") proves nothing, so partial matches need min_span characters.
                if ut == body or (len(ut) >= self.min_span and len(body) >= self.min_span and (ut in body or body in ut)):
                    found.append(Support(src.n, u, "span", min(len(ut), len(body)) / max(len(ut), len(body))))
        found.sort(key=lambda sp: -sp.strength)
        return found

    def _encoder_support(self, text: str, vec: np.ndarray, sources: list[Source]) -> list[Support]:
        lang = script_of(text)
        t = self.thresholds[lang]
        found: list[Support] = []
        for src in sources:
            units = self.units.units(src.key)
            if not units:
                continue
            sims = self.units.unit_vectors(src.key) @ vec
            for j in np.argsort(-sims)[: self.units_per_source]:
                sim = float(sims[j])
                lexical = lang == "zh" and sim >= t - self.lexical_slack and overlap(text, units[j].text) >= self.lexical_share
                if sim >= t or lexical:
                    found.append(Support(src.n, units[j], "encoder", sim))
                    break
        found.sort(key=lambda sp: -sp.strength)
        return found
