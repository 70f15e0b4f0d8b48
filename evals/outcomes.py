"""What one case came to at a threshold (answered, deflected, false-deflected), which cases
count for deflection and which failed worst, and proportions over cases with their 95 %
interval: a cluster bootstrap by group_id when cases share groups, else Wilson (EVALS.md §1).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from evals.stats import Estimate, bootstrap, mean, ratio, wilson

Record = dict[str, Any]
C_MISS = 5.0  # cost of answering a case that needed a human
C_ESC = 1.0  # cost of an unneeded escalation


LOW_CONFIDENCE_REASON = "low_confidence"


def shares_groups(records: Sequence[Record]) -> bool:
    """Whether some cases share a group_id: intervals then come from a cluster bootstrap."""
    groups = [r["group"] for r in records]
    return len(set(groups)) < len(groups)


def by_confidence(records: Sequence[Record]) -> list[Record]:
    """The cases the threshold decides (scored, not escalated by a trigger), most confident
    first."""
    return sorted((r for r in scored(records) if not r["escalate"]), key=lambda r: -r["confidence"])


def escalated_by_trigger(r: Record) -> bool:
    """Escalated for a reason other than low confidence (a policy trigger, the LLM's flag)."""
    return any(x != LOW_CONFIDENCE_REASON for x in r.get("reasons", []))


def answered(r: Record, tau: float) -> bool:
    return not r["escalate"] and r["confidence"] >= tau


def scored(records: Sequence[Record]) -> list[Record]:
    """Records that count for deflection: scored, not clarify, and either needing a human or
    with a verifiable answer (a case that needs a human is a failure if answered, whatever
    the answer)."""
    return [
        r
        for r in records
        if r["status"] == "scored"
        and r["expected_action"] != "clarify"
        and (r["should_escalate"] or r["ok"] is not None)
    ]


def outcome(r: Record, tau: float) -> tuple[int, int]:
    """(deflected, false-deflected) for one case at threshold tau."""
    a = answered(r, tau)
    d = int(a and not r["should_escalate"] and bool(r["ok"]))  # ok is None only when g=1
    fd = int(a and (r["should_escalate"] or not r["ok"]))
    return d, fd


def proportion(values: Sequence[float], groups: Sequence[str], clustered: bool) -> Estimate:
    """The mean of per-case 0/1 ``values`` with its interval (empty: an n/a estimate)."""
    if not values:
        return Estimate(None, None, None, 0, "")
    if clustered:
        return bootstrap(values, mean, groups=groups)
    return wilson(float(sum(values)), len(values))


def ratio_estimate(
    num: Sequence[float], den: Sequence[float], groups: Sequence[str], clustered: bool
) -> Estimate:
    """sum(num) / sum(den) over the cases, with its interval (no denominator: n/a)."""
    if not sum(den):
        return Estimate(None, None, None, 0, "")
    if clustered:
        return bootstrap(np.column_stack([num, den]), ratio, groups=groups)
    k = int(sum(den))
    return wilson(float(sum(num)), k)


def prf(tp: int, fp: int, fn: int) -> dict[str, Any]:
    """Counts, precision and recall with their Wilson intervals, F1 and F2 (n/a: None)."""
    p = tp / (tp + fp) if tp + fp else None
    rc = tp / (tp + fn) if tp + fn else None
    both = p is not None and rc is not None
    return {
        "tp": tp,
        "fp": fp,
        "fn": fn,
        "precision": wilson(tp, tp + fp) if tp + fp else Estimate(None, None, None, 0, ""),
        "recall": wilson(tp, tp + fn) if tp + fn else Estimate(None, None, None, 0, ""),
        "f1": 2 * p * rc / (p + rc) if p and rc else (0.0 if both else None),
        "f2": 5 * p * rc / (4 * p + rc) if p and rc else (0.0 if both else None),
    }


def worst_failures(records: Sequence[Record], tau: float, n: int = 10) -> list[Record]:
    """False deflections, the most confident first (the ones that would hurt most)."""
    fails = [r for r in scored(records) if outcome(r, tau)[1]]
    return sorted(fails, key=lambda r: -r["confidence"])[:n]


def held_back_failures(records: Sequence[Record], tau: float, n: int = 10) -> list[Record]:
    """Drafts the threshold kept from the customer that would have been false deflections,
    the most confident first: what a lower threshold would cost, and what to fix first (a
    copilot that never deflects still has failures worth reading)."""
    held = [
        r
        for r in scored(records)
        if not answered(r, tau)
        and not escalated_by_trigger(r)
        and (r["should_escalate"] or r["ok"] is False)
    ]
    return sorted(held, key=lambda r: -r["confidence"])[:n]
