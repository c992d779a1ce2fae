"""The regression gate: ``check_thresholds`` on hand-made summaries, the thresholds file's shape, and
the whole dataset through the real engine once, failing with every metric below its threshold."""

from __future__ import annotations

import json

import pytest

from eval.dataset import load_dataset
from eval.gate import (
    GATED_OVERALL,
    GATED_PER_LANG,
    check_thresholds,
    floor2,
    load_thresholds,
    measured_thresholds,
    write_thresholds,
)
from eval.metrics import aggregate
from eval.runner import run_eval
from eval.scoring import ROW_METRICS
from rag.errors import ConfigError


def _summary(**overall):
    rows = [{"id": "a", "lang": "zh", "type": "fact", **overall}]
    return aggregate(rows, by=("lang", "type"), metrics=list(overall))


def test_passes_at_and_above_threshold():
    s = _summary(**{"recall@5": 0.8, "mrr": 0.61})
    assert check_thresholds(s, {"_doc": "note", "overall": {"recall@5": 0.8, "mrr": 0.6}}) == []


def test_lists_every_metric_below():
    s = _summary(**{"recall@5": 0.5, "mrr": 0.4, "false_refusal": 0.3})
    problems = check_thresholds(s, {
        "overall": {"recall@5": 0.9, "mrr": 0.4, "1-false_refusal": 0.8},
        "lang": {"zh": {"recall@5": 0.6}},
    })
    assert problems == [
        "overall recall@5 = 0.5000 < 0.90",
        "overall 1-false_refusal = 0.7000 < 0.80",
        "lang=zh recall@5 = 0.5000 < 0.60",
    ]


def test_missing_and_unknown_metrics_fail():
    s = _summary(**{"recall@5": 1.0})
    problems = check_thresholds(s, {"overall": {"recal@5": 0.5}, "lang": {"en": {"recall@5": 0.5}}, "bogus": {}})
    assert any("recal@5: unknown metric" in p for p in problems)
    assert any(p.startswith("lang=en recall@5: not measured") for p in problems)
    assert any("section 'bogus' is unknown" in p for p in problems)


def test_floor2_never_rounds_up():
    assert floor2(0.8699999999999999) == 0.87
    assert floor2(0.879) == 0.87
    assert floor2(0.0) == 0.0 and floor2(1.0) == 1.0
    assert floor2(2 / 3) == 0.66


def test_measured_thresholds_pass_their_own_summary():
    rows = [
        {"id": "a", "lang": "zh", "type": "fact", "recall@5": 2 / 3, "mrr": 0.5, "false_refusal": 0.0},
        {"id": "b", "lang": "en", "type": "fact", "recall@5": 1.0, "mrr": 1 / 3, "false_refusal": 1.0},
    ]
    s = aggregate(rows, by=("lang", "type"), metrics=ROW_METRICS)
    t = measured_thresholds(s)
    assert t["overall"]["recall@5"] == 0.83 and t["overall"]["1-false_refusal"] == 0.5
    assert t["lang"] == {"en": {"recall@5": 1.0}, "zh": {"recall@5": 0.66}}
    assert check_thresholds(s, t) == []


def test_thresholds_file_shape(settings):
    t = load_thresholds(settings.path(settings.eval.thresholds))
    assert "never lowered silently" in t["_doc"]
    assert set(t["overall"]) == set(GATED_OVERALL)
    assert set(t["lang"]) == {"zh", "en"} and all(set(v) == set(GATED_PER_LANG) for v in t["lang"].values())
    for v in [*t["overall"].values(), *(x for g in t["lang"].values() for x in g.values())]:
        assert 0.0 <= v <= 1.0 and v == floor2(v)


def test_write_thresholds_round_trip(tmp_path):
    rows = [{"id": "a", "lang": "zh", "type": "fact", "recall@5": 0.875, "mrr": 0.5}]
    s = aggregate(rows, by=("lang", "type"), metrics=ROW_METRICS)
    written = write_thresholds(tmp_path / "t.json", s)
    assert load_thresholds(tmp_path / "t.json") == written == measured_thresholds(s)
    assert written["overall"]["recall@5"] == 0.87 and check_thresholds(s, written) == []


def test_load_thresholds_errors(tmp_path):
    with pytest.raises(ConfigError, match="--write-thresholds"):
        load_thresholds(tmp_path / "none.json")
    (tmp_path / "bad.json").write_text("{", encoding="utf-8")
    with pytest.raises(ConfigError, match="not valid JSON"):
        load_thresholds(tmp_path / "bad.json")


@pytest.mark.slow
def test_gate_full_dataset(engine, settings):
    """The whole dataset through the real engine; fails listing every metric below its threshold."""
    items = load_dataset(settings.path(settings.eval.dataset))
    run = run_eval(engine, items, label="gate")
    assert not run.errors(), run.errors()
    thresholds = load_thresholds(settings.path(settings.eval.thresholds))
    failures = check_thresholds(run.summary, thresholds)
    measured = json.dumps(measured_thresholds(run.summary)["overall"])
    assert not failures, (
        f"{len(failures)} metrics below eval/thresholds.json:\n  " + "\n  ".join(failures)
        + f"\nmeasured now (floored): {measured}"
    )
