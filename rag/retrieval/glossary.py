"""English -> Chinese terminology for cross-language search.

An English question shares no words with a Chinese document, so BM25 alone is noise for it (MRR .15
measured) and the multilingual encoder carries it alone (.53). Translating the question's UNCAC terms,
organisations and place names with a hand-made glossary (``glossary_en_zh.yaml``, the official Chinese
forms) gives BM25 real Chinese words to match; numbers (years, resolution numbers) are kept as they are.

>>> sorted(translate_terms("What did the Working Group recommend on whistleblowers in 2017?"))
['2017', '举报人', '工作组', '建议']
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

import yaml

GLOSSARY_FILE = Path(__file__).with_name("glossary_en_zh.yaml")


@lru_cache(maxsize=4)
def load_glossary(path: Path = GLOSSARY_FILE) -> tuple[re.Pattern[str], dict[str, tuple[str, ...]]]:
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    terms = {str(k).lower().replace("’", "'"): tuple(v if isinstance(v, list) else [v]) for k, v in data.items()}
    # Longest first so "working group on prevention" wins over "working group"; optional plural ending.
    alts = sorted(terms, key=len, reverse=True)
    pattern = re.compile(r"(?<![\w-])(" + "|".join(re.escape(a) for a in alts) + r")(?:s|es)?(?![\w-])")
    return pattern, terms


def translate_terms(text: str) -> list[str]:
    """Chinese search terms for the glossary phrases in ``text``, plus its numbers, without duplicates."""
    pattern, terms = load_glossary()
    low = text.lower().replace("’", "'")
    out: list[str] = []
    for m in pattern.finditer(low):
        out += terms[m.group(1)]
    out += re.findall(r"\d+(?:/\d+)?", text)
    return list(dict.fromkeys(out))
