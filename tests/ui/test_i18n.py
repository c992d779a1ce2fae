"""Every interface string exists in Chinese and English, with the same placeholders, and every key the
UI uses is defined."""

from __future__ import annotations

import re
import string
from pathlib import Path

import pytest

from rag.errors import UncacQAError
from ui.i18n import LANGS, STRINGS, t

UI = Path(__file__).resolve().parents[2] / "ui"


def _fields(s: str) -> set[str]:
    return {f for _, f, _, _ in string.Formatter().parse(s) if f}


@pytest.mark.parametrize("key", sorted(STRINGS))
def test_every_key_has_zh_and_en_with_same_placeholders(key):
    entry = STRINGS[key]
    assert set(entry) == set(LANGS)
    assert all(entry[lang].strip() for lang in LANGS)
    assert _fields(entry["zh"]) == _fields(entry["en"])


def test_every_key_used_in_the_ui_is_defined():
    used = set()
    for f in UI.rglob("*.py"):
        used |= set(re.findall(r"""\bt\(\s*["']([a-z_]+)["']""", f.read_text(encoding="utf-8")))
        used |= set(re.findall(r"""\(\s*"([a-z_]+)",\s*\{""", f.read_text(encoding="utf-8")))  # Turn errors
    assert used and used <= set(STRINGS), sorted(used - set(STRINGS))


def test_unknown_key_or_language_is_a_clear_error():
    assert t("too_long", "en", n=2001, limit=2000).startswith("The question is too long (2001")
    with pytest.raises(UncacQAError, match="unknown interface string 'nope'"):
        t("nope", "zh")
    with pytest.raises(UncacQAError, match="'fr'; allowed: 'zh', 'en'"):
        t("send", "fr")
