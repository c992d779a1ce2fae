"""When to say "not found in the documents" instead of answering.

Two signals, both tuned on the unanswerable items of the evaluation set:

1. **A named reference the documents never mention.** A question about "resolution 9/6", "article 33",
   "the twelfth meeting" or "2021" cannot be answered by documents that never write it, however
   similar its other words are. The check searches paragraph text, section headings and document
   metadata of the documents in scope (filters apply).
2. **Weak evidence.** The best cosine between the question and a retrieved chunk is below the
   language's threshold. Cross-language similarities (English question, Chinese text) run lower than
   same-language ones, hence one threshold per language.

On-topic questions whose answer is simply absent ("What was Nigeria's CPI score?") pass both checks
when their words are all in the documents; the extractive answer then quotes the nearest facts with
their citations, which a reader can judge. The evaluation report counts these cases.
"""

from __future__ import annotations

from dataclasses import dataclass

from rag.config import AnswerSettings
from rag.corpus.loader import Corpus
from rag.retrieval.query import QueryRefs, parse_refs


@dataclass(frozen=True)
class Decision:
    refused: bool
    reason: str | None = None


class RefusalPolicy:
    def __init__(self, corpus: Corpus, settings: AnswerSettings) -> None:
        self.settings = settings
        self._text: dict[str, str] = {}
        self._paras: dict[str, set[int]] = {}
        self._symbols: dict[str, str | None] = {}
        for d in corpus.documents:
            m = d.meta
            parts = [p.text + "\n" + p.section_path for p in d.paragraphs]
            parts += [str(x) for x in (m.title_zh, m.title_en, m.session, m.short_ref, m.short_ref_zh, m.date, m.symbol) if x]
            parts += list(d.front_matter)
            self._text[d.doc_id] = "\n".join(parts)
            self._paras[d.doc_id] = {p.para for p in d.paragraphs}
            self._symbols[d.doc_id] = m.symbol

    def missing(self, refs: QueryRefs, allowed: set[str] | None) -> list[str]:
        """The references in ``refs`` that no document in scope mentions (human-readable)."""
        docs = [d for d in self._text if allowed is None or d in allowed]
        text = "\n".join(self._text[d] for d in docs)
        named = [
            *zip((f"resolution {r}" for r in refs.resolutions), refs.resolution_patterns()),
            *zip((f"article {a}" for a in refs.articles), refs.article_patterns()),
            *zip((f"meeting/session no. {n}" for n in refs.meetings), refs.meeting_patterns()),
            *zip((str(y) for y in refs.years), refs.year_patterns()),
        ]
        out = [name for name, pat in named if not pat.search(text)]
        for s in refs.symbols:
            owner = next((d for d in docs if self._symbols[d] == s), None)
            if owner is None and s not in text:
                out.append(s)
            elif owner is not None:
                out += [f"{s}, para. {n}" for n, _ in refs.paras if n not in self._paras[owner]]
        return out

    def decide(self, question: str, lang: str, evidence: float, allowed: set[str] | None) -> Decision:
        gaps = self.missing(parse_refs(question), allowed)
        if gaps:
            return Decision(True, f"the documents never mention {', '.join(gaps)}")
        threshold = self.settings.refusal_threshold_zh if lang == "zh" else self.settings.refusal_threshold_en
        if evidence < threshold:
            return Decision(True, f"the best evidence ({evidence:.3f}) is below the {lang} threshold {threshold}")
        return Decision(False)
