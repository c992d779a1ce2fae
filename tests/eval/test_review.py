"""Reading a run's failures: the worst items explain themselves, the refusal review sees every
unanswerable item."""

from __future__ import annotations

import pytest

from eval.review import refusal_review, worst_items


@pytest.mark.slow
def test_worst_items_explain(small_run):
    for info, why in worst_items(small_run, 10):
        assert info["id"] and why and all(isinstance(w, str) and w for w in why)


@pytest.mark.slow
def test_refusal_review_lists_every_unanswerable_item(small_run, items):
    review = refusal_review(small_run)
    assert [u["id"] for u in review["unanswerable"]] == [i.id for i in items if not i.answerable]
    assert set(review["answerable_evidence"]) <= {"en", "zh"}
    for spread in review["answerable_evidence"].values():
        assert spread[0] <= spread[5] <= spread[10] <= spread[50]
