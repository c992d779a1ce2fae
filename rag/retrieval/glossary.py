"""English -> Chinese terminology for cross-language search, and the named entities a question names.

An English question shares no words with a Chinese document, so BM25 alone is noise for it (MRR .15
measured) and the multilingual encoder carries it alone (.53). Translating the question's UNCAC terms,
organisations and place names with a hand-made glossary (``glossary_en_zh.yaml``, the official Chinese
forms) gives BM25 real Chinese words to match; numbers (years, resolution numbers) are kept as they are.

>>> sorted(translate_terms("What did the Working Group recommend on whistleblowers in 2017?"))
['2017', '举报人', '工作组', '建议']
>>> named_entities("How does Brazil's Transparency Portal work?"), named_entities("新加坡贪污调查局有哪些做法？")
([('巴西',)], [('新加坡',)])
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

from rag.text import script_of

GLOSSARY_FILE = Path(__file__).with_name("glossary_en_zh.yaml")
ENTITY_SECTIONS = ("organizations", "places")


@dataclass(frozen=True)
class Glossary:
    pattern: re.Pattern[str]  # every English key, longest first, optional plural ending
    zh: dict[str, tuple[str, ...]]  # English key -> Chinese forms
    entities: frozenset[str]  # English keys that name an organisation or a place
    zh_entities: tuple[tuple[str, ...], ...]  # Chinese forms of each entity, for Chinese questions
    places: frozenset[str] = frozenset()  # English keys of the "places" section (the rest of entities are organisations)


@lru_cache(maxsize=4)
def load_glossary(path: Path = GLOSSARY_FILE) -> Glossary:
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    zh: dict[str, tuple[str, ...]] = {}
    entities: set[str] = set()
    places: set[str] = set()
    for section, entries in data.items():
        for k, v in (entries or {}).items():
            key = str(k).lower().replace("’", "'")
            zh[key] = tuple(v if isinstance(v, list) else [v])
            if section in ENTITY_SECTIONS:
                entities.add(key)
            if section == "places":
                places.add(key)
    alts = sorted(zh, key=len, reverse=True)  # "working group on prevention" before "working group"
    pattern = re.compile(r"(?<![\w-])(" + "|".join(re.escape(a) for a in alts) + r")(?:s|es)?(?![\w-])")
    zh_entities = tuple(dict.fromkeys(zh[k] for k in entities))
    return Glossary(pattern, zh, frozenset(entities), zh_entities, frozenset(places))


def _matches(text: str) -> list[str]:
    g = load_glossary()
    return [m.group(1) for m in g.pattern.finditer(text.lower().replace("’", "'"))]


def translate_terms(text: str) -> list[str]:
    """Chinese search terms for the glossary phrases in ``text``, plus its numbers, without duplicates."""
    g = load_glossary()
    out: list[str] = [t for key in _matches(text) for t in g.zh[key]]
    out += re.findall(r"\d+(?:/\d+)?", text)
    return list(dict.fromkeys(out))


def named_entities(question: str) -> list[tuple[str, ...]]:
    """The organisations and places a question names, each as its accepted Chinese forms.

    English questions are matched on the glossary's English keys; Chinese ones on the Chinese forms
    (longest first, so "阿拉伯联合酋长国" is one entity, not also "阿拉伯"). Cached per question: the
    chain, the refusal policy and the reader all ask.
    """
    return list(_named_entities(question))


def entity_names(forms: tuple[str, ...]) -> tuple[str, ...]:
    """An entity's accepted forms plus its English glossary names, for matching paragraphs written in
    English (an English language version: "UNODC" is the "毒品和犯罪问题办公室" of the Chinese text).

    >>> "unodc" in entity_names(("毒品和犯罪问题办公室",))
    True
    """
    g = load_glossary()
    return forms + tuple(k for k, v in g.zh.items() if v == forms and k in g.entities)


def mentions_entity(forms: tuple[str, ...], text: str) -> bool:
    """Whether ``text`` names the entity: a Chinese text by its accepted Chinese forms, any other text
    (an English language version) by its names in any case ("UNODC").

    >>> mentions_entity(("毒品和犯罪问题办公室",), "UNODC assisted 10 States"), mentions_entity(("欧洲联盟",), "UNODC")
    (True, False)
    """
    if script_of(text) == "zh":
        return any(f in text for f in forms)
    low = text.lower()
    return any(n.lower() in low for n in entity_names(forms))


@lru_cache(maxsize=4096)
def _named_entities(question: str) -> tuple[tuple[str, ...], ...]:
    g = load_glossary()
    if re.search(r"[\u4e00-\u9fff]", question):
        found: list[tuple[str, ...]] = []
        rest = question
        for forms in sorted(g.zh_entities, key=lambda f: -max(map(len, f))):
            hit = next((f for f in sorted(forms, key=len, reverse=True) if f in rest), None)
            if hit:
                found.append(forms)
                rest = rest.replace(hit, "\x00")
        return tuple(found)
    return tuple(dict.fromkeys(g.zh[k] for k in _matches(question) if k in g.entities))
