"""Answerability of a typed question: when it asks for a city, an amount, a year, a person or a count
of something, and no unit of the top paragraphs on its topic holds one, the documents do not answer it.

"On its topic" means: the unit's paragraph (or its document's title, session and date) mentions every
*anchor* of the question — the organisations and places it names, the meeting or session number, the
year, the resolution or article, the quoted names. "缔约国会议第五届会议是在哪个城市举行的？" is asked
about 第五届会议; the one paragraph that mentions it names no city, so the answer is a refusal, not the
nearest sentence that happens to name Vienna.

This generalises the earlier "多少名专家" rule to every strict type of ``rag.answer.question``.

>>> from rag.answer.question import analyze
>>> missing_types(analyze("会议在哪个城市举行？"), [("在维也纳举行了第十一次会议。", "")])
[]
>>> missing_types(analyze("会议在哪个城市举行？"), [("工作组应在第五届会议之前举行两次会议。", "")])
['place']
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rag.answer.question import QuestionAnalysis
from rag.answer.spans import count_matches, find_spans
from rag.retrieval.glossary import entity_names, named_entities
from rag.retrieval.query import parse_refs
from rag.text import normalize_for_match, split_sentences

# The spans that answer each strict type; a person may be named by an office, an organisation or a country
# ("由谁主办" -> "斯里兰卡政府").
_ANSWERS = {
    "count": {"count"}, "money": {"money"}, "percent": {"percent"}, "date": {"date"},
    "person": {"person", "role", "org", "orgx", "place"}, "place": {"place"}, "reference": {"reference", "title"},
}


@dataclass(frozen=True)
class Anchor:
    label: str  # as the question writes it
    forms: tuple[str, ...] = ()  # normalized substrings, any of which counts
    patterns: tuple = ()  # or regexes


def anchors(question: str) -> list[Anchor]:
    """What the question is specifically about, which a paragraph must mention to be on its topic.

    >>> [a.label for a in anchors("2019年工作组第十次会议的报告是在哪一天通过的？")]
    ['meeting 10', '2019']
    """
    refs = parse_refs(question)
    # An entity's English names are forms too: an English language version writes "UNODC".
    out = [Anchor(forms[0], tuple(dict.fromkeys(normalize_for_match(f) for f in entity_names(forms))))
           for forms in named_entities(question)]
    # Several meetings or years ("2017年和2019年…") are alternatives: a paragraph about any one is on topic.
    if refs.meetings:
        out.append(Anchor(" / ".join(f"meeting {n}" for n in refs.meetings), (), tuple(refs.meeting_patterns())))
    if refs.years:
        out.append(Anchor(" / ".join(str(y) for y in refs.years), (), tuple(refs.year_patterns())))
    out += [Anchor(f"resolution {r}", (), (p,)) for r, p in zip(refs.resolutions, refs.resolution_patterns())]
    out += [Anchor(f"article {a}", (), (p,)) for a, p in zip(refs.articles, refs.article_patterns())]
    return out


def _mentions(anchor: Anchor, text: str, normalized: str) -> bool:
    return any(f in normalized for f in anchor.forms) or any(p.search(text) for p in anchor.patterns)


def _holds(kind: str, text: str, quantity) -> bool:
    if kind == "count" and quantity:
        return count_matches(text, *quantity) >= 0.5
    return bool({s.type for s in find_spans(text)} & _ANSWERS[kind])


def missing_types(analysis: QuestionAnalysis, paragraphs: Sequence[tuple[str, str]]) -> list[str]:
    """The strict types of the question's parts that no on-topic unit of ``paragraphs`` holds.

    ``paragraphs``: (text, context) of the top paragraphs, best first; ``context`` is where anchors may
    also be written (document title, session, date).
    """
    qa = anchors(analysis.question)
    on_topic = []
    for text, context in paragraphs:
        norm = normalize_for_match(text + "\n" + context)
        if all(_mentions(a, text + "\n" + context, norm) for a in qa):
            on_topic.append(text)
    missing: list[str] = []
    for part in analysis.parts:
        for kind in sorted(part.strict):
            if kind == "date" and "reference" in part.types:
                continue  # "第几号决议" asks for a number, which the reference check covers
            if not any(_holds(kind, s, part.quantity) for t in on_topic for s in split_sentences(t)):
                missing.append(kind)
    return list(dict.fromkeys(missing))
