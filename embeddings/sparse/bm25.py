"""BM25 per language, scored by ``bm25s``: jieba for Chinese, Snowball stems for ar/en/es/fr/ru.

Tokenisation (same for chunks and questions) follows the text's language, given by the caller (a
chunk: its document's language) or guessed from the text (``analysis.guess_language``: script, then
function words). Chinese text: NFKC (full-width letters/digits -> ASCII), jieba's search-engine mode
(the whole word plus its dictionary sub-words: "反腐败" -> "腐败", "反腐败"), punctuation, whitespace
and a short list of function words dropped; the Latin words in Chinese UN text (names, acronyms,
English titles) get the English Snowball stem, as the same words in an English document or question
do. Arabic, English, French, Russian and Spanish text: words lower-cased, that language's function
words dropped, the rest reduced by its Snowball stemmer (``analysis.words``); a Han run inside such
text is still segmented by jieba.

Example::

    bm25 = BM25Index.build(["各国应保护举报人。", "Asset declarations of public officials."])
    bm25.search(["举报人保护", "asset declaration"], k=5)   # [[(0, 1.2)], [(1, 0.9)]]
    BM25Index.build(texts, languages=["fr", "fr", "ru"])    # when the documents' languages are known
    bm25.save(path); BM25Index.load(path)
"""

from __future__ import annotations

import json
import logging
import re
import threading
import unicodedata
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

import bm25s
import jieba
import numpy as np

from embeddings.errors import IndexStateError
from embeddings.settings import IndexSettings
from embeddings.sparse.analysis import LANGUAGES, STOPWORDS_EN, guess_language, stemmer
from embeddings.sparse.analysis import words as _words

_DEFAULT_K1 = IndexSettings.model_fields["bm25_k1"].default
_DEFAULT_B = IndexSettings.model_fields["bm25_b"].default

#: Bumped when tokenisation changes: an index built with another version must be rebuilt.
TOKENIZER_VERSION = "jieba-search-nfkc+snowball-ar-en-es-fr-ru-2"

# Function words that match almost every paragraph (single characters jieba emits on their own, and
# question words). Kept short on purpose: "不" or "应" carry meaning in a recommendation.
STOPWORDS_ZH = frozenset(
    "的 了 和 与 及 以及 或 或者 在 是 对 于 为 以 其 并 将 由 之 也 而 被 把 这 那 该 此 等 各 所 中 上 下 着 "
    "吗 呢 吧 啊 么 什么 哪些 哪个 怎么 怎样 如何 是否 有 有何 有关 关于 我们 我 你 他们 它 就 都 还 又 即".split()
)
STOPWORDS = STOPWORDS_ZH | STOPWORDS_EN  # what Chinese text (and the Latin words in it) drops
_HAN_RUN = re.compile(r"([\u3400-\u9fff\uf900-\ufaff]+)")

_jieba_lock = threading.Lock()
_jieba_ready = False


def _jieba() -> jieba.Tokenizer:
    """jieba's default tokenizer, initialised once, quietly (its dictionary ships in the package; the
    parsed-dictionary cache goes to the system temp dir, no network)."""
    global _jieba_ready
    if not _jieba_ready:
        with _jieba_lock:
            if not _jieba_ready:
                jieba.setLogLevel(logging.WARNING)
                jieba.initialize()
                _jieba_ready = True
    return jieba.dt


def _keep(token: str) -> bool:
    # A token is kept when it holds a letter, digit or CJK character ("WG.4" yes, "，" or " " no).
    return token not in STOPWORDS and any(ch.isalnum() for ch in token)


def tokenize(texts: Sequence[str], languages: Sequence[str | None] | None = None) -> list[list[str]]:
    """Tokens of each text, for indexing and querying alike, in each text's language.

    ``languages`` gives each text's language (one of ``analysis.LANGUAGES``, or None to guess it from
    the text); without it every language is guessed.

    >>> tokenize(["保护举报人的措施", "The Working Group", "国际奥委会 (IOC) 和 Olympic Movement"])
    [['保护', '举报', '报人', '举报人', '措施'], ['work', 'group'], ['国际', '委会', '奥委会', '国际奥委会', 'ioc', 'olymp', 'movement']]
    >>> tokenize(["Les déclarations de patrimoine", "Декларации об имуществе"], ["fr", None])
    [['déclar', 'patrimoin'], ['декларац', 'имуществ']]
    """
    if isinstance(texts, str):
        raise TypeError("tokenize() takes a list of texts, not a single string: wrap it as [text]")
    return [list(_tokenize_one(text, lang)) for text, lang in zip(texts, _languages(texts, languages))]


def _languages(texts: Sequence[str], languages: Sequence[str | None] | None) -> list[str]:
    if languages is None:
        return [guess_language(t) for t in texts]
    if isinstance(languages, str) or len(languages) != len(texts):
        raise ValueError(f"languages must be a list with one entry per text ({len(texts)}), got {languages!r}")
    out = []
    for t, lang in zip(texts, languages):
        if lang is not None and lang not in LANGUAGES:
            raise ValueError(f"language {lang!r} is not supported, must be one of {list(LANGUAGES)} or None")
        out.append(lang or guess_language(t))
    return out


@lru_cache(maxsize=8192)  # re-indexing mostly sees texts it has seen; segmenting is the slow part
def _tokenize_one(text: str, lang: str) -> tuple[str, ...]:
    if lang == "zh":
        return _chinese(text)
    out: list[str] = []
    for i, piece in enumerate(_HAN_RUN.split(text)):
        out.extend(_chinese(piece) if i % 2 else _words(piece, lang))
    return tuple(out)


def _chinese(text: str) -> tuple[str, ...]:
    norm = unicodedata.normalize("NFKC", text).lower()
    stem = stemmer("en").stemWord
    return tuple(stem(t) if t.isascii() and t.isalpha() else t
                 for t in (w.strip() for w in _jieba().cut_for_search(norm)) if _keep(t))


class BM25Index:
    """A BM25 (Lucene variant) index of a list of texts; ids are list positions.

    Build with ``BM25Index.build(texts, k1=..., b=...)`` (the store passes ``IndexSettings.bm25_k1`` and
    ``bm25_b``, whose defaults 1.5 and 0.75 are also the defaults here) or read with
    ``BM25Index.load(path)`` (the parameters are saved with the index).
    """

    def __init__(self, model: bm25s.BM25, n_docs: int) -> None:
        self._model = model
        self.n_docs = n_docs

    @classmethod
    def build(cls, texts: Sequence[str], *, k1: float = _DEFAULT_K1, b: float = _DEFAULT_B,
              languages: Sequence[str | None] | None = None) -> "BM25Index":
        """Index ``texts`` (document i gets id i); ``languages``: each text's language where known
        (its document's), else guessed from the text (see ``tokenize``)."""
        return cls.from_tokens(tokenize(texts, languages), k1=k1, b=b)

    @classmethod
    def from_tokens(cls, tokens: Sequence[Sequence[str]], *, k1: float = _DEFAULT_K1, b: float = _DEFAULT_B) -> "BM25Index":
        """Index texts already tokenised by :func:`tokenize` (e.g. read from a
        :class:`embeddings.sparse.token_cache.TokenCache`)."""
        model = bm25s.BM25(k1=k1, b=b, method="lucene")
        tokens = [list(t) for t in tokens]
        if tokens:
            # bm25s needs a non-empty vocabulary; "" never comes out of tokenize(), so it matches nothing.
            model.index([t or [""] for t in tokens], show_progress=False)
        return cls(model, len(tokens))

    def __len__(self) -> int:
        return self.n_docs

    def search(self, queries: Sequence[str], k: int,
               languages: Sequence[str | None] | None = None,
               masks: Sequence[np.ndarray | None] | None = None) -> list[list[tuple[int, float]]]:
        """Best ``k`` documents of each query as ``(id, score)``, best first, score > 0 only.

        Each query is tokenised in its language (``languages``, else guessed from its text), so a French
        question meets French paragraphs' stems. A query none of whose tokens occurs in the corpus gets
        an empty list. ``masks``: per query a boolean array over the documents (None = all), applied to
        the scores before the top-k is taken (bm25s' ``weight_mask``), so a filter never empties the list
        while allowed matches exist.
        """
        if isinstance(queries, str):
            raise TypeError("search() takes a list of queries, not a single string: wrap it as [query]")
        if isinstance(k, bool) or not isinstance(k, int) or k < 1:
            raise ValueError(f"k must be a positive integer, got {k!r}")
        if masks is None:
            masks = [None] * len(queries)
        elif len(masks) != len(queries):
            raise ValueError(f"{len(masks)} masks for {len(queries)} queries")
        for m in masks:
            if m is not None and (np.shape(m) != (self.n_docs,) or np.asarray(m).dtype != bool):
                raise ValueError(f"a mask must be a boolean array of {self.n_docs} entries, got {np.asarray(m).dtype} {np.shape(m)}")
        return [self._search_one(tokens, k, m) for tokens, m in zip(tokenize(queries, languages), masks)]

    def _search_one(self, tokens: list[str], k: int, mask: np.ndarray | None = None) -> list[tuple[int, float]]:
        if not self.n_docs:
            return []
        ids = self._model.get_tokens_ids([t for t in tokens if t])
        if not ids:
            return []
        scores = np.asarray(self._model.get_scores_from_ids(ids), dtype=np.float32)
        if mask is not None:
            scores = np.where(mask, scores, 0.0)
        hits = np.flatnonzero(scores > 0)
        if len(hits) > k:
            hits = hits[np.argpartition(-scores[hits], k - 1)[:k]]
        hits = hits[np.lexsort((hits, -scores[hits]))]  # best first; ties by id for determinism
        return [(int(i), float(scores[i])) for i in hits]

    def save(self, directory: str | Path) -> None:
        """Write the index into ``directory`` (created)."""
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        if self.n_docs:
            self._model.save(directory, show_progress=False)
        meta = {"tokenizer": TOKENIZER_VERSION, "n_docs": self.n_docs, "bm25s": bm25s.__version__}
        (directory / "tokenizer.json").write_text(json.dumps(meta), encoding="utf-8")

    @classmethod
    def load(cls, directory: str | Path) -> "BM25Index":
        """Read an index written by ``save``; IndexStateError when it is missing, unreadable or was
        tokenised differently."""
        directory = Path(directory)
        try:
            meta = json.loads((directory / "tokenizer.json").read_text(encoding="utf-8"))
            n_docs = int(meta["n_docs"])
        except (OSError, ValueError, KeyError, TypeError) as e:
            raise IndexStateError(f"BM25 index in {str(directory)!r} is missing or unreadable ({e})") from None
        if meta.get("tokenizer") != TOKENIZER_VERSION:
            raise IndexStateError(
                f"BM25 index in {str(directory)!r} was tokenised with {meta.get('tokenizer')!r}, "
                f"this version uses {TOKENIZER_VERSION!r}"
            )
        if not n_docs:
            return cls(bm25s.BM25(method="lucene"), 0)
        try:
            model = bm25s.BM25.load(directory, show_progress=False)
        except Exception as e:  # bm25s raises whatever numpy/json raise on a damaged file
            raise IndexStateError(f"BM25 index in {str(directory)!r} is unreadable ({type(e).__name__}: {e})") from None
        if model.scores.get("num_docs") != n_docs:
            raise IndexStateError(f"BM25 index in {str(directory)!r} holds {model.scores.get('num_docs')} documents, expected {n_docs}")
        return cls(model, n_docs)
