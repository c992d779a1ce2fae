"""The answer as plain text: what ``AnswerResult.answer`` holds and what ``uncac-qa ask`` prints.

A UN-style citation follows every sentence ("…（…，第 5 段）" / "… (…, para. 5)"). An English question
answered by the extractive reader quotes the Chinese sentences under a frame saying so, with the
figures, names and dates stated in English first. A refusal lists the nearest paragraphs. (HTML for the
web interface is ``ui.render``; this module has no markup.)

>>> from rag.result import AnswerSentence, Retrieved
>>> print(answer_text([], [], True, (Retrieved("d", 5, 0.8, label_en="Doc, para. 5", label_zh="文件，第 5 段"),), "zh", "extractive"))
未在文件中找到答案。以下是最接近的段落：
- 文件，第 5 段
"""

from __future__ import annotations

from collections.abc import Sequence

from rag.answer.english import english_facts
from rag.answer.question import analyze
from rag.corpus.records import Citation
from rag.result import REFUSAL, AnswerSentence, Retrieved
from rag.text import script_of

EN_FRAME = ("The documents state (names, numbers and dates in English; each sentence quoted in the original Chinese, "
            "which this offline assistant does not translate):")
UNSUPPORTED_MARK = {"zh": "（无出处，未经文件证实）", "en": " (unsupported: no source found)"}


def answer_text(sentences: Sequence[AnswerSentence], citations: Sequence[Citation], refused: bool,
                retrieved: Sequence[Retrieved], lang: str, backend: str, question: str = "", *, nearest: int = 3) -> str:
    """Plain-text answer with a UN-style citation after every sentence, or the refusal and the labels
    of the ``nearest`` first retrieved paragraphs (``answer.refusal_nearest``)."""
    if refused:
        lines = [REFUSAL[lang]]
        for r in retrieved[:nearest]:
            label = r.label_zh if lang == "zh" else r.label_en
            if label is not None:  # None: the paragraph is not in the corpus
                lines.append(f"- {label}")
        return "\n".join(lines)
    # An English question answered from Chinese sentences: framed, quoted, the facts in English first.
    # From an English version's own paragraphs the sentences are simply the answer.
    quote = lang == "en" and backend == "extractive" and any(script_of(x.text) == "zh" for x in sentences)
    lines = [EN_FRAME] if quote else []
    types = analyze(question).types if quote and question else frozenset()
    for x in sentences:
        labels = list(dict.fromkeys(citations[i].label_zh if lang == "zh" else citations[i].label_en for i in x.citations))
        body = f"“{x.text}”" if quote else x.text
        if quote and (facts := english_facts(x.text, types)):
            body = f"{'; '.join(facts)} — {body}"  # the fact in English first, then the Chinese that proves it
        if not x.supported:
            lines.append(f"{body}{UNSUPPORTED_MARK[lang]}")
        elif lang == "zh":
            lines.append(f"{body}（{'；'.join(labels)}）")
        else:
            lines.append(f"{'- ' if quote else ''}{body} ({'; '.join(labels)})")
    return "\n".join(lines)


def format_text(result) -> str:
    """The plain-text form of a whole result (``uncac-qa ask``): the answer (citations inline), then
    the cited sources with their links."""
    lines = [result.answer]
    if result.citations:
        zh = result.lang == "zh"
        lines += ["", "出处：" if zh else "Sources:"]
        seen: set[str] = set()
        for c in result.citations:
            label = c.label_zh if zh else c.label_en
            if label not in seen:
                seen.add(label)
                lines.append(f"- {label}  {c.url}")
    return "\n".join(lines)
