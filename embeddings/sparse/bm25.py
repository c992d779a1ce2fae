"""BM25 over jieba-segmented Chinese and lower-cased Latin words, scored by ``bm25s``.

Tokenisation (same for chunks and questions): NFKC (full-width letters/digits -> ASCII), jieba's
search-engine mode (the whole word plus its dictionary sub-words: "反腐败" -> "腐败", "反腐败"),
lower-cased Latin words with plural "s" stripped, then punctuation, whitespace and a short list of
function words dropped.

Example::

    bm25 = BM25Index.build(["各国应保护举报人。", "Asset declarations of public officials."])
    bm25.search(["举报人保护", "asset declaration"], k=5)   # [[(0, 1.2)], [(1, 0.9)]]
    bm25.save(path); BM25Index.load(path)
"""

from __future__ import annotations

import json
import logging
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

_DEFAULT_K1 = IndexSettings.model_fields["bm25_k1"].default
_DEFAULT_B = IndexSettings.model_fields["bm25_b"].default

#: Bumped when tokenisation changes: an index built with another version must be rebuilt.
TOKENIZER_VERSION = "jieba-search-nfkc-sstem-1"

# Function words that match almost every paragraph (single characters jieba emits on their own, and
# question words). Kept short on purpose: "不" or "应" carry meaning in a recommendation.
STOPWORDS_ZH = frozenset(
    "的 了 和 与 及 以及 或 或者 在 是 对 于 为 以 其 并 将 由 之 也 而 被 把 这 那 该 此 等 各 所 中 上 下 着 "
    "吗 呢 吧 啊 么 什么 哪些 哪个 怎么 怎样 如何 是否 有 有何 有关 关于 我们 我 你 他们 它 就 都 还 又 即".split()
)
STOPWORDS_EN = frozenset(
    "a an the of and or to in on at by for with from as is are was were be been being that this these those "
    "it its which what who whom how does do did has have had not no can could should would will shall may "
    "about into than then there their they".split()
)
STOPWORDS = STOPWORDS_ZH | STOPWORDS_EN

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


def s_stem(word: str) -> str:
    """Harman's "S" stemmer for English plurals, so "declarations" matches "declaration".

    >>> [s_stem(w) for w in ("declarations", "policies", "measures", "process", "status", "wg.4")]
    ['declaration', 'policy', 'measure', 'process', 'status', 'wg.4']
    """
    if len(word) < 4 or not word.isascii() or not word.isalpha():
        return word
    if word.endswith("ies") and not word.endswith(("eies", "aies")):
        return word[:-3] + "y"
    if word.endswith("es") and not word.endswith(("aes", "ees", "oes")):
        return word[:-1]
    if word.endswith("s") and not word.endswith(("us", "ss")):
        return word[:-1]
    return word


def tokenize(texts: Sequence[str]) -> list[list[str]]:
    """Tokens of each text, for indexing and querying alike.

    >>> tokenize(["保护举报人的措施", "The Working Group"])
    [['保护', '举报', '报人', '举报人', '措施'], ['working', 'group']]
    """
    if isinstance(texts, str):
        raise TypeError("tokenize() takes a list of texts, not a single string: wrap it as [text]")
    return [list(_tokenize_one(text)) for text in texts]


@lru_cache(maxsize=8192)  # re-indexing mostly sees texts it has seen; segmenting is the slow part
def _tokenize_one(text: str) -> tuple[str, ...]:
    norm = unicodedata.normalize("NFKC", text).lower()
    return tuple(s_stem(t) for t in (w.strip() for w in _jieba().cut_for_search(norm)) if _keep(t))


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
    def build(cls, texts: Sequence[str], *, k1: float = _DEFAULT_K1, b: float = _DEFAULT_B) -> "BM25Index":
        """Index ``texts`` (document i gets id i)."""
        model = bm25s.BM25(k1=k1, b=b, method="lucene")
        tokens = tokenize(texts)
        if tokens:
            # bm25s needs a non-empty vocabulary; "" never comes out of tokenize(), so it matches nothing.
            model.index([t or [""] for t in tokens], show_progress=False)
        return cls(model, len(tokens))

    def __len__(self) -> int:
        return self.n_docs

    def search(self, queries: Sequence[str], k: int) -> list[list[tuple[int, float]]]:
        """Best ``k`` documents of each query as ``(id, score)``, best first, score > 0 only.

        A query none of whose tokens occurs in the corpus gets an empty list.
        """
        if isinstance(queries, str):
            raise TypeError("search() takes a list of queries, not a single string: wrap it as [query]")
        if isinstance(k, bool) or not isinstance(k, int) or k < 1:
            raise ValueError(f"k must be a positive integer, got {k!r}")
        return [self._search_one(tokens, k) for tokens in tokenize(queries)]

    def _search_one(self, tokens: list[str], k: int) -> list[tuple[int, float]]:
        if not self.n_docs:
            return []
        ids = self._model.get_tokens_ids([t for t in tokens if t])
        if not ids:
            return []
        scores = np.asarray(self._model.get_scores_from_ids(ids), dtype=np.float32)
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
