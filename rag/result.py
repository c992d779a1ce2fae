"""The one result schema served everywhere: CLI ``ask --json``, ``POST /api/ask``, the UI and the eval.

Example (abridged)::

    {"question": "…", "answer": "…", "refused": false,
     "citations": [{"doc_id": "wg4-2019-l1-add1", "symbol": "CAC/COSP/WG.4/2019/L.1/Add.1", "para": 5,
                    "sub": null, "label_en": "…, para. 5", "label_zh": "…，第 5 段", "quote": "…",
                    "url": "/source/wg4-2019-l1-add1#p5"}],
     "retrieved": [{"doc_id": "wg4-2019-l1-add1", "para": 5, "score": 0.87}],
     "timings_ms": {"retrieve": 12.0, "answer": 3.1, "total": 15.4}}
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from rag.corpus.records import Citation

REFUSAL = {
    "zh": "未在文件中找到答案。以下是最接近的段落：",
    "en": "Not found in the documents. The nearest paragraphs are:",
}


@dataclass(frozen=True)
class Retrieved:
    """One retrieved paragraph, with what a renderer shows of it (looked up once, by the chain).

    The labels, symbol and text are None when the paragraph is not in the corpus (or the record was
    built without them, as tests do); they take no part in equality and not in ``to_json`` (the
    served schema is ``doc_id``, ``para``, ``score``).

    >>> Retrieved("wg4-2019-l1-add1", 5, 0.87123, label_en="…, para. 5").to_json()
    {'doc_id': 'wg4-2019-l1-add1', 'para': 5, 'score': 0.8712}
    """

    doc_id: str
    para: int
    score: float  # cosine similarity of the best chunk of the paragraph with the question
    label_en: str | None = field(default=None, compare=False)  # "CAC/COSP/WG.4/2019/L.1/Add.1, para. 5"
    label_zh: str | None = field(default=None, compare=False)  # "…，第 5 段"
    symbol: str | None = field(default=None, compare=False)  # the document's UN symbol
    text: str | None = field(default=None, compare=False, repr=False)  # the paragraph's text

    def to_json(self) -> dict[str, Any]:
        return {"doc_id": self.doc_id, "para": self.para, "score": round(float(self.score), 4)}


@dataclass(frozen=True)
class AnswerSentence:
    """One sentence of the answer and the citations (indexes into ``AnswerResult.citations``) backing it."""

    text: str
    citations: tuple[int, ...]
    supported: bool = True


@dataclass(frozen=True)
class AnswerResult:
    question: str
    answer: str
    refused: bool
    citations: tuple[Citation, ...] = ()
    retrieved: tuple[Retrieved, ...] = ()
    timings_ms: dict[str, float] = field(default_factory=dict)
    sentences: tuple[AnswerSentence, ...] = ()  # the answer split into cited sentences (UI rendering)
    lang: str = "zh"  # language of the question, and so of the answer's frame
    backend: str = "extractive"  # which answerer produced it
    notice: str | None = None  # e.g. "LLM endpoint unreachable; extractive answer shown"
    # The notice in each interface language where the chain has it in both ("文件中没有提到…" /
    # "The documents never mention…"): the chat shows it in the reader's language, not the question's.
    notices: tuple[tuple[str, str], ...] = field(default=(), compare=False)

    def notice_in(self, lang: str) -> str | None:
        """The notice in interface language ``lang`` when known, else as the chain wrote it.

        >>> AnswerResult("q", "a", True, notice="x", notices=(("zh", "甲"), ("en", "A"))).notice_in("en")
        'A'
        """
        return dict(self.notices).get(lang) or self.notice

    def to_json(self, *, full: bool = False) -> dict[str, Any]:
        out: dict[str, Any] = {
            "question": self.question,
            "answer": self.answer,
            "refused": self.refused,
            "citations": [c.to_json() for c in self.citations],
            "retrieved": [r.to_json() for r in self.retrieved],
            "timings_ms": {k: round(v, 2) for k, v in self.timings_ms.items()},
        }
        if full:
            out |= {
                "sentences": [{"text": s.text, "citations": list(s.citations), "supported": s.supported} for s in self.sentences],
                "lang": self.lang,
                "backend": self.backend,
                "notice": self.notice,
                "notices": dict(self.notices),
            }
        elif self.notice:
            out["notice"] = self.notice
        return out

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> AnswerResult:
        """The record back from ``to_json(full=True)`` (what a browser keeps of a conversation), checked
        field by field: anything that is not this schema raises ``ValueError`` naming the field.

        >>> r = AnswerResult("q", "a", False, sentences=(AnswerSentence("a", ()),), notices=(("zh", "甲"),))
        >>> AnswerResult.from_json(r.to_json(full=True)) == r
        True
        """

        def need(obj: Any, key: str, kind: type | tuple[type, ...], where: str) -> Any:
            value = obj.get(key) if isinstance(obj, dict) else None
            if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
                raise ValueError(f"{where}{key}: expected {getattr(kind, '__name__', kind)}, got {type(value).__name__}")
            return value

        def optional(obj: dict, key: str, kind: type, where: str) -> Any:
            return None if obj.get(key) is None else need(obj, key, kind, where)

        cites = []
        for i, c in enumerate(need(data, "citations", list, "")):
            w = f"citations.{i}."
            cites.append(Citation(
                need(c, "doc_id", str, w), optional(c, "symbol", str, w), need(c, "para", int, w),
                optional(c, "sub", str, w), need(c, "label_en", str, w), need(c, "label_zh", str, w),
                need(c, "quote", str, w), need(c, "url", str, w),
            ))
        retrieved = []
        for i, r in enumerate(need(data, "retrieved", list, "")):
            w = f"retrieved.{i}."
            score = need(r, "score", (int, float), w)
            retrieved.append(Retrieved(need(r, "doc_id", str, w), need(r, "para", int, w), float(score)))
        sentences = []
        for i, s in enumerate(data.get("sentences") or []):
            w = f"sentences.{i}."
            idx = need(s, "citations", list, w)
            if not all(isinstance(j, int) and not isinstance(j, bool) and 0 <= j < len(cites) for j in idx):
                raise ValueError(f"{w}citations: expected indexes of citations")
            sentences.append(AnswerSentence(need(s, "text", str, w), tuple(idx), bool(s.get("supported", True))))
        notices = data.get("notices") or {}
        if not isinstance(notices, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in notices.items()):
            raise ValueError("notices: expected a mapping of language to text")
        timings = data.get("timings_ms") or {}
        return cls(
            question=need(data, "question", str, ""), answer=need(data, "answer", str, ""),
            refused=need(data, "refused", bool, ""), citations=tuple(cites), retrieved=tuple(retrieved),
            timings_ms={str(k): float(v) for k, v in timings.items() if isinstance(v, (int, float))},
            sentences=tuple(sentences), lang=data.get("lang") if data.get("lang") in ("zh", "en") else "zh",
            backend=str(data.get("backend") or "extractive"), notice=optional(data, "notice", str, ""),
            notices=tuple(notices.items()),
        )
