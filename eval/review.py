"""Reading one run's failures: the items that went most wrong, in words, and what the refusal
thresholds see (the report's "Worst items" and "Unanswerable questions" sections).

Example::

    for info, why in worst_items(run, 5):
        print(info["id"], "; ".join(why))
    refusal_review(run)["answerable_evidence"]["zh"][5]   # p5 of the answerable questions' evidence
"""

from __future__ import annotations

from typing import Any

from eval.dataset import QAItem
from eval.metrics import key_fact_recall, percentile
from eval.runner import EvalRun
from eval.scoring import answer_text


def worst_items(run: EvalRun, n: int = 10) -> list[tuple[dict[str, Any], list[str]]]:
    """The ``n`` items that went most wrong, each with the reasons in words, worst first.

    Badness adds up: a wrong refusal decision (an answerable question refused, an unanswerable one
    answered) weighs 2; for answerable items, missed recall@5, missed key facts, uncited gold and
    non-gold citations add their shortfall.
    """
    scored = []
    for it, res, row in zip(run.items, run.results, run.rows):
        why: list[str] = []
        bad = 0.0
        if isinstance(res, Exception):
            why.append(f"engine error: {res}")
            bad += 3
        if row["false_refusal"]:
            why.append("answerable but REFUSED")
            bad += 2
        if row["refusal_correct"] == 0.0:
            why.append("unanswerable but ANSWERED")
            bad += 2
        if it.answerable:
            r5, mrr = row["recall@5"] or 0.0, row["mrr"] or 0.0
            if r5 < 1:
                rank = _first_gold_rank(res, it)
                why.append(f"recall@5 {r5:.2f} (first gold at rank {rank or '>10'})")
                bad += 1 - r5
            bad += (1 - mrr) * 0.5
            kf = row["kf_recall"]
            if kf is not None and kf < 1:
                missing = [f for f in it.key_facts if key_fact_recall(answer_text(res), [f]) == 0.0]
                why.append(f"key facts {kf:.2f}, missing {missing}")
                bad += 1 - kf
            cp, cr = row["cit_precision"], row["cit_recall"]
            if not row["refused"] and cp is not None and cp < 1:
                why.append(f"citation precision {cp:.2f}")
                bad += (1 - cp) * 0.5
            if not row["refused"] and cr is not None and cr < 1:
                why.append(f"citation recall {cr:.2f}")
                bad += (1 - cr) * 0.5
        if why:
            scored.append((bad, row["id"], {"id": it.id, "question": it.question, "lang": it.lang, "type": it.type}, why))
    scored.sort(key=lambda x: (-x[0], x[1]))
    return [(info, why) for _, _, info, why in scored[:n]]


def refusal_review(run: EvalRun) -> dict[str, Any]:
    """What the refusal thresholds see: the evidence score of every unanswerable item (refused or not),
    best first, and per language the spread (min, p5, p10, median) of evidence over answerable items,
    to place each language's threshold between the two."""
    unans = [{"id": it.id, "lang": it.lang, "question": it.question, "evidence": row["evidence"], "refused": row["refused"]}
             for it, row in zip(run.items, run.rows) if not it.answerable]
    spread: dict[str, dict[int, float | None]] = {}
    for lang in sorted({it.lang for it in run.items}):
        xs = [row["evidence"] for it, row in zip(run.items, run.rows)
              if it.answerable and it.lang == lang and row["evidence"] is not None]
        if xs:
            spread[lang] = {q: percentile(xs, q) for q in (0, 5, 10, 50)}
    return {"unanswerable": sorted(unans, key=lambda u: -(u["evidence"] or 0.0)), "answerable_evidence": spread}


def _first_gold_rank(res: Any, item: QAItem) -> int | None:
    if isinstance(res, Exception) or res is None:
        return None
    seen: list[tuple[str, int]] = []
    for r in res.retrieved:
        key = (r.doc_id, r.para)
        if key not in seen:
            seen.append(key)
            if key in item.gold_set:
                return len(seen)
    return None
