"""Run metrics from per-case results (EVALS.md §1), each with a 95 % interval.

Choices (also printed in every report):
- "clarify" cases are neither deflected nor false-deflected: they are left out of DR/FDR and
  reported on their own (the offline copilot cannot ask a clarifying question).
- a case whose correctness cannot be verified (no reference documents, no required facts) is
  ``unscored`` for deflection, counted and shown, never a 0 or a NaN inside a mean.
- intervals: a cluster bootstrap by group_id (B=2000, seed 0) when cases share groups,
  else Wilson; the method is named next to each figure.

The figures live by kind: what one case came to and proportions (:mod:`evals.outcomes`),
per-kind aggregates (:mod:`evals.aggregates`), confidence against risk (:mod:`evals.risk`);
here are deflection and escalation, and :func:`summarize`, which puts a run's together. Every
name of the three is importable from here as well.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

import numpy as np

from copilot.pipeline.escalation import Policy
from evals.aggregates import (
    by_action,
    clarify_rates,
    correctness,
    cost,
    grounding,
    hit_at,
    latency,
    measures,
    mrr,
    ndcg_at,
    personalisation,
    recall_at,
    retrieval,
)
from evals.judge import registered_measures
from evals.outcomes import (
    C_ESC,
    C_MISS,
    LOW_CONFIDENCE_REASON,
    Record,
    answered,
    by_confidence,
    escalated_by_trigger,
    held_back_failures,
    outcome,
    prf,
    proportion,
    ratio_estimate,
    scored,
    shares_groups,
    worst_failures,
)
from evals.risk import (
    Step,
    calibration,
    calibration_target,
    choose_threshold,
    error_correlation,
    fdr_upper,
    risk_by_threshold,
    risk_coverage,
    split_by_group,
)
from evals.stats import Estimate, wilson

__all__ = [
    "C_ESC",
    "C_MISS",
    "LOW_CONFIDENCE_REASON",
    "Record",
    "Step",
    "answered",
    "at_target_risk",
    "by_action",
    "by_confidence",
    "calibration",
    "calibration_target",
    "choose_threshold",
    "clarify_rates",
    "correctness",
    "cost",
    "deflection",
    "error_correlation",
    "escalated_by_trigger",
    "escalation",
    "fdr_upper",
    "gold_reason",
    "gold_reason_codes",
    "grounding",
    "held_back_failures",
    "hit_at",
    "latency",
    "mrr",
    "ndcg_at",
    "needs_review",
    "outcome",
    "personalisation",
    "prf",
    "recall_at",
    "retrieval",
    "risk_by_threshold",
    "risk_coverage",
    "scored",
    "shares_groups",
    "split_by_group",
    "suggested_escalation",
    "summarize",
    "trigger_escalation",
    "worst_failures",
]


def deflection(records: Sequence[Record], tau: float, clustered: bool) -> dict[str, Any]:
    s = scored(records)
    groups = [r["group"] for r in s]
    d, fd = zip(*(outcome(r, tau) for r in s), strict=True) if s else ((), ())
    a = [int(answered(r, tau)) for r in s]
    w = np.array([r.get("weight", 1.0) for r in s]) if s else np.zeros(0)
    fd_policy = [int(answered(r, tau) and r["should_escalate"]) for r in s]
    fd_wrong = [int(answered(r, tau) and not r["should_escalate"] and not r["ok"]) for r in s]
    addressable = [r for r in s if not r["should_escalate"]]
    by_reason: Counter[str] = Counter()
    for r, f in zip(s, fd, strict=True):
        if f:
            by_reason[
                "policy:" + (r.get("gold_reason") or "should_escalate")
                if r["should_escalate"]
                else "wrong:" + _why_wrong(r)
            ] += 1
    n_fd = sum(fd)
    return {
        "threshold": tau,
        "n": len(s),
        "deflection_rate": proportion(list(d), groups, clustered),
        "deflection_rate_weighted": float((w * np.array(d)).sum() / w.sum()) if len(w) else None,
        "deflection_rate_addressable": proportion(
            [outcome(r, tau)[0] for r in addressable], [r["group"] for r in addressable], clustered
        ),
        "coverage": proportion(a, groups, clustered),
        "false_deflection_rate": ratio_estimate(list(fd), a, groups, clustered),
        "false_deflections_per_case": proportion(list(fd), groups, clustered),
        "fd_policy": sum(fd_policy),
        "fd_wrong": sum(fd_wrong),
        "fd_by_reason": dict(by_reason),
        "answered": sum(a),
        "deflected": sum(d),
        "false_deflected": n_fd,
        "rule_of_three": 3 / sum(a) if sum(a) and n_fd == 0 else None,
    }


def _why_wrong(r: Record) -> str:
    v = r.get("verdicts") or {}
    if v.get("correct") is False:
        return "incorrect"
    if v.get("grounded") is False:
        return "ungrounded"
    if v.get("personal") is False:
        return "personalisation"
    return "other"


def escalation(records: Sequence[Record], tau: float) -> dict[str, Any]:
    s = scored(records)
    tp = sum(1 for r in s if r["should_escalate"] and not answered(r, tau))
    fp = sum(1 for r in s if not r["should_escalate"] and not answered(r, tau))
    fn = sum(1 for r in s if r["should_escalate"] and answered(r, tau))
    flag_only = sum(1 for r in s if r["escalate"])
    tau_only = sum(1 for r in s if not r["escalate"] and r["confidence"] < tau)
    return {
        **prf(tp, fp, fn),
        "expected_cost": C_MISS * fn + C_ESC * fp,
        "escalated_by_flag": flag_only,
        "escalated_by_threshold": tau_only,
    }


def trigger_escalation(records: Sequence[Record]) -> dict[str, Any]:
    """Escalation by the policy's triggers (and an LLM's own flag) alone, confidence left out:
    while the confidence threshold hands most drafts over, the overall recall says little about
    the triggers themselves."""
    flagged = [
        {
            **r,
            "escalate": escalated_by_trigger(r),
            "confidence": 1.0,
        }
        for r in records
    ]
    return escalation(flagged, 0.0)


@lru_cache(maxsize=1)
def gold_reason_codes() -> dict[str, tuple[str, ...]]:
    """The eval sets' reason labels -> the copilot's reason codes that name them: each shipped
    trigger's ``eval_reason`` in the policy file, its code by default. A case that needs a
    human and has no reason label is one the knowledge base cannot answer (the dev sets)."""
    out: dict[str, tuple[str, ...]] = {}
    for t in Policy.default().model.triggers:
        label = t.eval_reason or t.code
        out[label] = (*out.get(label, ()), t.code)
    return out


def gold_reason(r: Record) -> str | None:
    if not r["should_escalate"]:
        return None
    return r.get("gold_reason") or "no_kb_answer"


def suggested_escalation(records: Sequence[Record]) -> dict[str, Any]:
    """(a) of EVALS.md 1.3: the explicit "hand over" suggestion the agent sees (``escalate``),
    overall and per reason, the confidence threshold left out. Per reason, a true positive is a
    case of that reason escalated with one of the codes that name it; a false positive, that code
    on any other case; ``caught`` counts the reason's cases escalated for any reason."""
    s = scored(records)
    overall = prf(
        sum(1 for r in s if r["should_escalate"] and r["escalate"]),
        sum(1 for r in s if not r["should_escalate"] and r["escalate"]),
        sum(1 for r in s if r["should_escalate"] and not r["escalate"]),
    )
    by_reason: dict[str, Any] = {}
    golds = sorted({g for r in s if (g := gold_reason(r))})
    for g in golds:
        codes = set(gold_reason_codes().get(g, (g,)))
        named = [r["escalate"] and bool(codes & set(r.get("reasons", []))) for r in s]
        is_g = [gold_reason(r) == g for r in s]
        rows = [r for r, x in zip(s, is_g, strict=True) if x]
        by_reason[g] = {
            "n": len(rows),
            "caught": wilson(sum(1 for r in rows if r["escalate"]), len(rows)),
            **prf(
                sum(1 for x, n in zip(is_g, named, strict=True) if x and n),
                sum(1 for x, n in zip(is_g, named, strict=True) if n and not x),
                sum(1 for x, n in zip(is_g, named, strict=True) if x and not n),
            ),
        }
    fired = Counter(c for r in s if r["escalate"] for c in r.get("reasons", []))
    by_code = {
        code: {
            "n": n,
            "needed": wilson(
                sum(
                    1
                    for r in s
                    if r["escalate"] and code in r.get("reasons", []) and r["should_escalate"]
                ),
                n,
            ),
        }
        for code, n in sorted(fired.items(), key=lambda kv: -kv[1])
    }
    return {**overall, "by_reason": by_reason, "by_code": by_code}


def needs_review(records: Sequence[Record], tau: float) -> dict[str, Any]:
    """(b) held for review: not escalated, confidence below the threshold."""
    s = scored(records)
    held = [r for r in s if not r["escalate"] and r["confidence"] < tau]
    return {
        "n": len(held),
        "share": wilson(len(held), len(s)) if s else Estimate(None, None, None, 0, ""),
        "of_which_need_a_human": sum(1 for r in held if r["should_escalate"]),
    }


def at_target_risk(
    records: Sequence[Record], target_fdr: float, clustered: bool, seed: int = 0
) -> dict[str, Any]:
    dev, test = split_by_group(scored(records), seed)
    tau = choose_threshold(dev, target_fdr)
    if tau is None:
        return {
            "target_fdr": target_fdr,
            "threshold": None,
            "dev_n": len(dev),
            "test_n": len(test),
            "test": None,
            "note": "no threshold keeps the FDR upper bound under the target on the dev split",
        }
    return {
        "target_fdr": target_fdr,
        "threshold": tau,
        "dev_n": len(dev),
        "test_n": len(test),
        "test": deflection(test, tau, clustered),
    }


def summarize(
    records: Sequence[Record], *, tau: float, target_fdr: float, seed: int = 0
) -> dict[str, Any]:
    s = scored(records)
    clustered = shares_groups(s)
    dfl = deflection(records, tau, clustered)
    statuses = Counter(r["status"] for r in records)
    unscored = Counter(
        r.get("unscored_reason") or ""
        for r in records
        if r["status"] != "scored" or (r["ok"] is None and not r["should_escalate"])
    )
    return {
        "cases": len(records),
        "status": dict(statuses),
        "unscored_reasons": {k: v for k, v in unscored.items() if k},
        "clarify_cases": sum(1 for r in records if r["expected_action"] == "clarify"),
        "clarify": clarify_rates(records),
        "interval_method": "cluster bootstrap by group_id (B=2000)" if clustered else "Wilson",
        "deflection": dfl,
        "target_risk": at_target_risk(records, target_fdr, clustered, seed),
        "escalation_suggested": suggested_escalation(records),
        "needs_review": needs_review(records, tau),
        "escalation": escalation(records, tau),
        "escalation_triggers": trigger_escalation(records),
        "retrieval": retrieval(records),
        "grounding": grounding(records),
        "correctness": correctness(records),
        "personalisation": personalisation(records),
        "measures": measures(records, [m.key for m in registered_measures()]),
        "calibration": calibration(records),
        "calibration_raw": calibration(
            [r for r in records if r.get("confidence_raw") is not None], key="confidence_raw"
        ),
        "risk_coverage": risk_coverage(records),
        "latency": latency(records),
        "cost": cost(records, dfl["deflected"]),
        "by_action": by_action(records, tau),
    }
