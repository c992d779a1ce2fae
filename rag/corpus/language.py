"""Which of the six UN languages a document or a question is written in.

A UN document's job number ends with its language: "V.19-08845 (C)" is the Chinese version,
"(E)" English, "(F)" French, "(S)" Spanish, "(R)" Russian, "(A)" Arabic. Where a text carries one,
that suffix decides: it is the UN's own statement, and a Chinese version quoting an English title, or
a French one quoting Spanish names, keeps its language. Without one (a question, a user's note), the
text's script decides (Han -> zh, Arabic -> ar, Cyrillic -> ru) and Latin text is English, French or
Spanish by its function words (``embeddings.sparse.analysis.guess_language``, which BM25 uses too,
so a question is tokenised as the language it is detected as here).

Example::

    detect_language(document_text)          # 'fr' for a text whose job number is "V.24-01234 (F)"
    detect_language("¿Qué se recomendó sobre las declaraciones de bienes?")   # 'es'
"""

from __future__ import annotations

import re

from embeddings.sparse.analysis import BIDI_MARKS, LANGUAGES, guess_language, strip_bidi

__all__ = ["BIDI_MARKS", "JOB_SUFFIX", "LANGUAGES", "detect_language", "job_number_language", "strip_bidi"]

#: The language letter of a UN job number ("V.24-01234 (E)") -> ISO 639-1 code.
JOB_SUFFIX = {"A": "ar", "C": "zh", "E": "en", "F": "fr", "R": "ru", "S": "es"}

# "V.19-08845 (C)", "GE.24-01234(E)", New York's "24-01234 (F)", alone on a line or before the dates.
_JOB = re.compile(r"^\s*(?:[A-Z]{1,2}\.)?\d{2}-\d{5}\s*\(([ACEFRS])\)(?!\w)", re.MULTILINE)


def job_number_language(text: str) -> str | None:
    """The language named by the first UN job number in ``text``, or None when it has none.

    >>> job_number_language("Distr.: General\\nV.24-01234 (R)    020524\\n*2401234*")
    'ru'
    >>> job_number_language("1. The Working Group met in Vienna.") is None
    True
    """
    m = _JOB.search(strip_bidi(text))
    return JOB_SUFFIX[m.group(1)] if m else None


def detect_language(text: str, default: str = "en") -> str:
    """The language of ``text``: its job-number suffix where present, else its script and words.

    ``default`` is returned for a text with no letters at all.

    >>> detect_language("V.19-08845 (C)\\n1. The Secretariat reported on resolution 7/5.")
    'zh'
    >>> [detect_language(q) for q in ("工作组提出了什么建议？", "What did the Working Group recommend?",
    ...  "Qu'a recommandé le Groupe de travail ?", "¿Qué recomendó el Grupo de Trabajo?",
    ...  "Что рекомендовала Рабочая группа?", "ماذا أوصى الفريق العامل؟")]
    ['zh', 'en', 'fr', 'es', 'ru', 'ar']
    """
    return job_number_language(text) or guess_language(text, default=default)
