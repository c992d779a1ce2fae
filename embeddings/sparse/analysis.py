"""Per-language text analysis for BM25: which of the six UN languages a text is in, and its words.

UN documents exist in Arabic, Chinese, English, French, Russian and Spanish. Chinese is segmented by
jieba (``embeddings.sparse.bm25``); the other five are split into words, lower-cased, stripped of
their function words and reduced by that language's Snowball stemmer (PyStemmer), so "declarations"
and "declaration" meet in ``declar`` and "декларации"/"декларациях" in ``декларац``.

The language of a text is guessed from its script (Han -> zh, Arabic -> ar, Cyrillic -> ru) and, for
Latin script, from how many English, French and Spanish function words it holds. This module is the
lowest layer's guess; ``rag.corpus.language.detect_language`` adds the UN job-number suffix
("V.24-01234 (F)") that a whole document carries.

Example::

    guess_language("Les États parties ont renforcé les déclarations de patrimoine.")   # 'fr'
    words("Las declaraciones de bienes de los funcionarios", "es")   # ['declar', 'bien', 'funcionari']
"""

from __future__ import annotations

import re
import threading
import unicodedata

import Stemmer

#: The six official UN languages, by ISO 639-1 code.
LANGUAGES = ("ar", "en", "es", "fr", "ru", "zh")

_SNOWBALL = {"ar": "arabic", "en": "english", "es": "spanish", "fr": "french", "ru": "russian"}

# Function words dropped before stemming, per language. They are also the evidence for telling the
# Latin-script languages apart, so each list holds the commonest words of its language. English is
# the list BM25 always used (kept as it was), Chinese lives with jieba in bm25.py.
STOPWORDS_EN = frozenset(
    "a an the of and or to in on at by for with from as is are was were be been being that this these those "
    "it its which what who whom how does do did has have had not no can could should would will shall may "
    "about into than then there their they".split()
)
STOPWORDS_FR = frozenset(
    "le la les l un une des de du d et ou en à au aux dans par pour sur avec sans sous entre que qu qui quoi "
    "quel quelle quels quelles dont où est sont été être a ont avait avaient ce cet cette ces il elle ils "
    "elles leur leurs se s sa son ses ne n pas plus ni comme aussi ainsi y lors selon afin".split()
)
STOPWORDS_ES = frozenset(
    "el la los las lo un una unos unas de del al y e o u en a por para con sin sobre entre que qué quien quién "
    "cual cuál cuales cuáles como cómo cuando cuándo donde dónde es son fue fueron ser ha han había se su sus "
    "le les no ni más este esta estos estas ese esa esos esas también así según".split()
)
STOPWORDS_RU = frozenset(
    "и в во не на с со как а то но к ко у по о об обо из за для от до при или ли же бы это этот эта эти этой "
    "этом этого его ее её их им который которая которые которых также был была были было быть является "
    "что чтобы какие какой каким каких как кто где когда ли".split()
)
STOPWORDS_AR = frozenset(
    "في من على إلى الى عن مع أن إن ان و أو او هذا هذه ذلك تلك التي الذي الذين اللذين كما قد لا ما ماذا هو هي "
    "هم ثم بين كل أي تم عند لدى وفي ومن وعلى وإلى كيف هل".split()
)
STOPWORDS = {"ar": STOPWORDS_AR, "en": STOPWORDS_EN, "es": STOPWORDS_ES, "fr": STOPWORDS_FR, "ru": STOPWORDS_RU}

# Words that tell French from Spanish from English: a word in two lists ("la", "que", "en") is weak
# evidence for both, so it counts half.
_LATIN = ("en", "fr", "es")
_WEIGHT: dict[str, dict[str, float]] = {}
for _lang in _LATIN:
    for _w in STOPWORDS[_lang]:
        if len(_w) > 1 or _w in ("a", "y", "à", "e", "o"):
            _WEIGHT.setdefault(_w, {})[_lang] = 1.0
for _w, _by in _WEIGHT.items():
    if len(_by) > 1:
        for _lang in _by:
            _by[_lang] = 0.5
_WEIGHT.pop("a", None)  # English article, Spanish and French preposition/verb: no evidence at all
# Letters only one of the three writes ("ñ", "¿", "ó"; "ç", "è", "œ").
_HINT_CHARS = {"es": "ñ¿¡áíóú", "fr": "çèêëœùûîïâà"}

_HAN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_ARABIC = re.compile(r"[\u0600-\u06ff\u0750-\u077f\ufb50-\ufdff\ufe70-\ufeff]")
_CYRILLIC = re.compile(r"[\u0400-\u04ff]")
_LATIN_LETTER = re.compile(r"[A-Za-z\u00c0-\u024f]")
_WORD = re.compile(r"[^\W_]+(?:\.\d+)*")  # "wg.4" stays one word, as jieba keeps it

#: Bidirectional control marks (LRM, RLM, ALM, embeddings, isolates): they steer display of Arabic
#: text with Latin symbols in it and are never part of a word.
BIDI_MARKS = "\u200e\u200f\u061c\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
_BIDI = re.compile(f"[{BIDI_MARKS}]")
_AR_MARKS = re.compile(r"[\u064b-\u065f\u0670\u0640]")  # short vowels, shadda, sukun, tatweel
_AR_DIGITS = str.maketrans("٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹", "01234567890123456789")


def strip_bidi(text: str) -> str:
    """``text`` without bidirectional control marks (for matching; the stored text keeps them).

    >>> strip_bidi("\u200fالوثيقة \u200eCAC/COSP/1\u200f")
    'الوثيقة CAC/COSP/1'
    """
    return _BIDI.sub("", text)


def script_counts(text: str) -> dict[str, int]:
    """Letters of each script in ``text``: han, arabic, cyrillic, latin."""
    return {
        "han": len(_HAN.findall(text)),
        "arabic": len(_ARABIC.findall(text)),
        "cyrillic": len(_CYRILLIC.findall(text)),
        "latin": len(_LATIN_LETTER.findall(text)),
    }


def guess_language(text: str, default: str = "en") -> str:
    """The UN language ``text`` is written in, from its script and function words.

    The script with the most letters wins; a Han character counts as four letters, since a Chinese
    word is one or two characters where an English one is about six letters (so "What is 第 5 段?"
    is Chinese, as ``rag.text.script_of`` routes it). Latin text is English, French or Spanish by its
    function words, with "ñ"/"ç"-type letters as tie-breakers; ``default`` when there is no evidence.

    >>> [guess_language(t) for t in ("资产申报", "إقرارات الذمة المالية", "декларации об имуществе")]
    ['zh', 'ar', 'ru']
    >>> [guess_language(t) for t in ("the declaration of assets", "la déclaration de patrimoine",
    ...                              "la declaración de bienes", "declarations")]
    ['en', 'fr', 'es', 'en']
    """
    counts = script_counts(text)
    scores = {"zh": 4 * counts["han"], "ar": counts["arabic"], "ru": counts["cyrillic"], "latin": counts["latin"]}
    best = max(scores, key=lambda s: scores[s])
    if not scores[best]:
        return default
    if best != "latin":
        return best
    return _latin_language(text, default)


def _latin_language(text: str, default: str) -> str:
    votes = dict.fromkeys(_LATIN, 0.0)
    low = unicodedata.normalize("NFC", text).lower()
    for w in re.findall(r"[^\W\d_]+", low):
        for lang, weight in _WEIGHT.get(w, {}).items():
            votes[lang] += weight
    for lang, chars in _HINT_CHARS.items():
        votes[lang] += 0.5 * sum(low.count(c) for c in chars)
    best = max(_LATIN, key=lambda lang: votes[lang])
    return best if votes[best] > 0 else default


_local = threading.local()  # a PyStemmer object is not safe to share between threads


def stemmer(lang: str) -> Stemmer.Stemmer:
    """This thread's Snowball stemmer for ``lang`` (one of ar, en, es, fr, ru)."""
    cache = _local.__dict__.setdefault("stemmers", {})
    if lang not in cache:
        try:
            cache[lang] = Stemmer.Stemmer(_SNOWBALL[lang])
        except KeyError:
            raise ValueError(f"no stemmer for language {lang!r}, must be one of {sorted(_SNOWBALL)}") from None
    return cache[lang]


def normalize(text: str, lang: str) -> str:
    """NFKC, lower case, no bidi marks; Arabic without short vowels or tatweel and with Western digits,
    Russian "ё" as "е" (how UN Russian text mostly writes it)."""
    s = strip_bidi(unicodedata.normalize("NFKC", text)).lower()
    if lang == "ar":
        s = _AR_MARKS.sub("", s).translate(_AR_DIGITS)
    elif lang == "ru":
        s = s.replace("ё", "е")
    return s


def _arabic_light(word: str) -> str:
    # Snowball's Arabic stemmer drops the conjunction only before "ب/ك/ل" + article and the plural
    # "ات" only after the article: "والإقرارات" -> "والاقرارا", "إقرارات" -> "اقرارا" but
    # "الإقرارات" -> "اقرار". Doing both here first gives every form of the word one stem.
    if len(word) > 4 and word[0] in "وف" and word[1:3] == "ال":
        word = word[1:]
    if len(word) >= 6 and word.endswith("ات"):
        word = word[:-2]
    return word


def words(text: str, lang: str) -> list[str]:
    """Stems of the words of ``text`` in ``lang`` (ar, en, es, fr, ru), function words dropped.

    Digits and symbol parts are kept as they are ("2024", "wg.4").

    >>> words("Asset declarations of public officials", "en")
    ['asset', 'declar', 'public', 'offici']
    >>> words("l'application des déclarations", "fr")
    ['appliqu', 'déclar']
    """
    stem = stemmer(lang).stemWord
    stops = STOPWORDS[lang]
    out = []
    for w in _WORD.findall(normalize(text, lang)):
        if w in stops:
            continue
        if not w.isalpha():
            out.append(w)
            continue
        out.append(stem(_arabic_light(w) if lang == "ar" else w))
    return out
