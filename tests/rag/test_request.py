"""Question validation reports which rule failed, for interfaces that speak other languages."""

from __future__ import annotations

import pytest

from rag.errors import QueryError
from rag.request import clean_question


@pytest.mark.parametrize("q, key, params", [
    ("  ", "empty", {}),
    (None, "empty", {}),
    ("x" * 11, "too_long", {"n": 11, "limit": 10}),
    ("资产\x07申报", "control_char", {"code": "U+0007"}),
])
def test_rule_key_and_params(q, key, params):
    with pytest.raises(QueryError) as e:
        clean_question(q, 10)
    assert (e.value.key, e.value.params) == (key, params)


def test_clean_question_normalises_whitespace():
    assert clean_question("  资产\n申报  ", 10) == "资产 申报"
