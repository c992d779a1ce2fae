"""The regression gate: the least acceptable value of each gated metric (``eval/thresholds.json``),
written from a run and checked against one (``uncac-qa eval --write-thresholds`` /
``--check-thresholds``, tests/eval/test_gate.py).

Example::

    failures = check_thresholds(run.summary, load_thresholds("eval/thresholds.json"))   # [] = passes
    write_thresholds("eval/thresholds.json", run.summary)      # raise the bar after an improvement
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from eval.scoring import ROW_METRICS
from rag.errors import ConfigError

#: The thresholds file's note; JSON has no comments, so it lives under this key.
THRESHOLDS_DOC = (
    "Regression gate (tests/eval/test_gate.py, `uncac-qa eval --check-thresholds`): the least acceptable "
    "value of each metric over eval/data/qa.jsonl. Set from measured values floored to 2 decimals "
    "(`uncac-qa eval --write-thresholds`; the system is deterministic, so no noise margin). Thresholds are "
    "RAISED as the system improves, never lowered silently: a lowered threshold must be explained in the "
    "commit message. '1-false_refusal' is 1 minus the false-refusal rate, so every entry is 'higher is better'."
)

#: What the gate checks: overall headline metrics, and recall@5 per language.
GATED_OVERALL: tuple[str, ...] = (
    "recall@5", "mrr", "ndcg@10", "kf_recall", "cit_precision", "cit_recall", "refusal_correct", "1-false_refusal",
)
GATED_PER_LANG: tuple[str, ...] = ("recall@5",)


def _metric(group: Mapping[str, Any], name: str) -> float | None:
    metrics = group["metrics"]
    if name.startswith("1-"):
        v = metrics.get(name[2:])
        return None if v is None else 1.0 - v
    return metrics.get(name)


def floor2(x: float) -> float:
    """``x`` rounded DOWN to 2 decimals, robust to binary noise (0.87 stored as 0.8699999… stays 0.87).

    >>> floor2(0.8699999999999999), floor2(0.879), floor2(1.0)
    (0.87, 0.87, 1.0)
    """
    return math.floor(round(x * 100, 6)) / 100


def measured_thresholds(summary: Mapping[str, Any]) -> dict[str, Any]:
    """The thresholds file content for ``summary``: each gated metric floored to 2 decimals."""
    out: dict[str, Any] = {"_doc": THRESHOLDS_DOC, "overall": {}, "lang": {}}
    for m in GATED_OVERALL:
        v = _metric(summary["overall"], m)
        if v is not None:
            out["overall"][m] = floor2(v)
    for lang, group in summary.get("lang", {}).items():
        out["lang"][lang] = {m: floor2(v) for m in GATED_PER_LANG if (v := _metric(group, m)) is not None}
    return out


def load_thresholds(path: str | Path) -> dict[str, Any]:
    """Read the thresholds JSON; ConfigError when it is missing or malformed."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"thresholds file not found: {str(path)!r}; create it with: uncac-qa eval --write-thresholds") from None
    except ValueError as e:
        raise ConfigError(f"thresholds file {str(path)!r} is not valid JSON ({e})") from None
    if not isinstance(data, dict):
        raise ConfigError(f"thresholds file {str(path)!r} must hold a JSON object")
    return data


def write_thresholds(path: str | Path, summary: Mapping[str, Any]) -> dict[str, Any]:
    """Write :func:`measured_thresholds` of ``summary`` to ``path`` and return it."""
    data = measured_thresholds(summary)
    Path(path).write_text(json.dumps(data, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return data


def check_thresholds(summary: Mapping[str, Any], thresholds: Mapping[str, Any]) -> list[str]:
    """Every gated metric below its threshold, as readable lines; ``[]`` means the gate passes.

    ``summary`` is ``eval.metrics.aggregate`` output (``EvalRun.summary``); ``thresholds`` is the
    thresholds file: ``{"overall": {metric: least}, "lang": {"zh": {metric: least}, ...}, "type": ...}``.
    Keys starting with ``_`` are notes. A metric or group the summary lacks is a failure too (a renamed
    metric must not switch its gate off), as is an unknown metric name.

    >>> s = {"overall": {"n": 2, "metrics": {"mrr": 0.5, "false_refusal": 0.25}, "support": {}}}
    >>> check_thresholds(s, {"overall": {"mrr": 0.6, "1-false_refusal": 0.75}})
    ['overall mrr = 0.5000 < 0.60']
    """
    problems: list[str] = []

    def check(where: str, group: Mapping[str, Any] | None, wanted: Mapping[str, Any]) -> None:
        for name, least in wanted.items():
            if name.startswith("_"):
                continue
            base = name.removeprefix("1-")
            if base not in ROW_METRICS:
                problems.append(f"{where} {name}: unknown metric; known: {', '.join(ROW_METRICS)}")
                continue
            value = None if group is None else _metric(group, name)
            if value is None:
                problems.append(f"{where} {name}: not measured (threshold {least})")
            elif value + 1e-9 < float(least):
                problems.append(f"{where} {name} = {value:.4f} < {float(least):.2f}")

    for section, wanted in thresholds.items():
        if section.startswith("_"):
            continue
        if section == "overall":
            check("overall", summary.get("overall"), wanted)
        elif section in ("lang", "type"):
            for value, metrics in wanted.items():
                check(f"{section}={value}", summary.get(section, {}).get(value), metrics)
        else:
            problems.append(f"thresholds section {section!r} is unknown; allowed: 'overall', 'lang', 'type'")
    return problems
