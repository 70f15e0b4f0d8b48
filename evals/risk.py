"""Confidence against risk: calibration (ECE, Brier, reliability), the risk–coverage sweep over
every threshold, the FDR's upper bound on the effective sample, and the risk-controlled
threshold (learn-then-test).
"""

from __future__ import annotations

import functools
import hashlib
import math
from collections import Counter
from collections.abc import Iterator, Sequence
from typing import Any, NamedTuple

import numpy as np

from evals.outcomes import Record, by_confidence, outcome, scored
from evals.stats import clopper_pearson_upper, intragroup_correlation


def calibration_target(r: Record) -> int:
    return int(bool(r["ok"]) and not r["should_escalate"])


def calibration(
    records: Sequence[Record], bins: int = 10, key: str = "confidence"
) -> dict[str, Any]:
    s = scored(records)
    if not s:
        return {"n": 0}
    c = np.array([r[key] for r in s], dtype=float)
    y = np.array([calibration_target(r) for r in s], dtype=float)
    order = np.argsort(c, kind="stable")
    parts = [p for p in np.array_split(order, min(bins, len(s))) if len(p)]
    ece = sum(len(p) / len(s) * abs(y[p].mean() - c[p].mean()) for p in parts)
    diagram = [
        {"confidence": float(c[p].mean()), "accuracy": float(y[p].mean()), "n": len(p)}
        for p in parts
    ]
    return {
        "n": len(s),
        "ece": float(ece),
        "brier": float(np.mean((c - y) ** 2)),
        "base_rate": float(y.mean()),
        "reliability": diagram,
    }


def risk_coverage(records: Sequence[Record]) -> dict[str, Any]:
    """Sweep the threshold over every distinct confidence: coverage, DR and FDR at each, with
    the FDR's upper bound on the effective sample (:func:`fdr_upper`)."""
    s = scored(records)
    if not s:
        return {"points": [], "aurc": None}
    icc = error_correlation(s)
    points = [
        {
            "threshold": step.threshold,
            "coverage": step.answered / len(s),
            "deflection": (step.answered - step.false_deflections) / len(s),
            "fdr": step.false_deflections / step.answered,
            "fdr_upper": fdr_upper(step, icc),
        }
        for step in risk_by_threshold(s)
    ]
    ranked = by_confidence(s)
    risks, bad = [], 0
    for i, r in enumerate(ranked, start=1):
        bad += outcome(r, -1.0)[1]
        risks.append(bad / i)
    return {
        "points": points,
        "aurc": float(np.mean(risks)) if risks else None,
        "error_correlation": icc,
    }


def split_by_group(records: Sequence[Record], seed: int = 0) -> tuple[list[Record], list[Record]]:
    """Deterministic ~50/50 dev/test split by group (no group on both sides)."""
    dev: list[Record] = []
    test: list[Record] = []
    for r in records:
        h = hashlib.sha256(f"{seed}:{r['group']}".encode()).digest()[0]
        (dev if h % 2 == 0 else test).append(r)
    return dev, test


class Step(NamedTuple):
    """One candidate threshold of a sweep, the most confident first."""

    threshold: float
    answered: int
    false_deflections: int
    group_size: float  # size-weighted mean number of answered cases per group (1: no groups)

    def design_effect(self, icc: float) -> float:
        """Kish: how many answered cases weigh as one independent case."""
        return 1.0 + (self.group_size - 1.0) * icc


def error_correlation(records: Sequence[Record]) -> float:
    """How strongly the answerable cases of one group fail together (intra-class correlation of
    the false-deflection outcome when everything is answered): the design effect's input."""
    rs = [r for r in scored(records) if not r["escalate"]]
    return intragroup_correlation([outcome(r, -1.0)[1] for r in rs], [r["group"] for r in rs])


def fdr_upper(step: Step, icc: float, alpha: float = 0.05) -> float:
    """Upper (1 - alpha) bound of the false-deflection rate at a step, on its effective sample:
    answered and false counts divided by the design effect 1 + (m - 1) * icc, m the step's
    size-weighted group size (Kish; then Clopper-Pearson, as Korn & Graubard do for
    clustered samples). Without groups (m = 1, or icc = 0) it is the plain Clopper-Pearson
    bound; with them it is approximate, and far less optimistic than counting correlated
    variants of one question as independent evidence."""
    deff = step.design_effect(icc)
    return clopper_pearson_upper(step.false_deflections / deff, step.answered / deff, alpha)


def choose_threshold(
    records: Sequence[Record], target_fdr: float, alpha: float = 0.05
) -> float | None:
    """Largest coverage whose FDR upper bound (:func:`fdr_upper`) stays <= target, with the
    family-wise error of the whole search held at alpha (learn-then-test).

    Fixed-sequence testing: thresholds are tested from the most confident down and a
    sequence stops at its first failure, so it needs no correction of its own. Where a
    sequence starts is chosen from the target and alpha only, never from which cases are
    wrong, and counted in effective cases (answered / design effect; the design effect rests
    on the errors' correlation, estimated once, which makes the whole bound approximate when
    cases share groups). There are two sequences, each at alpha / 2 (Bonferroni over the two):
    - one starts where a run without a single error could first pass (72 cases for 5 %/5 %);
    - one starts where a run with half the target's error rate could (230 cases): a couple of
      wrong labels among the few most confident cases would stop the first sequence at once,
      while this one tolerates them.
    The threshold is the lowest one either sequence accepts. The errors' correlation within
    groups is estimated once on all the records (:func:`error_correlation`).
    """
    sweep = list(risk_by_threshold(records))
    icc = error_correlation(records)
    a = alpha / 2
    best: float | None = None
    for start in (_first_passing(target_fdr, a, 0.0), _first_passing(target_fdr, a, 0.5)):
        for step in sweep:
            if step.answered / step.design_effect(icc) < start:
                continue
            if fdr_upper(step, icc, a) > target_fdr:
                break
            best = step.threshold if best is None else min(best, step.threshold)
    return best


@functools.lru_cache(maxsize=64)
def _first_passing(target_fdr: float, alpha: float, share: float) -> int:
    """The fewest answered cases whose upper bound can pass when a ``share`` of the target's
    rate of them are false deflections (share 0: none, i.e. ceil(ln alpha / ln(1 - target)))."""
    n = 1
    while clopper_pearson_upper(math.floor(n * target_fdr * share), n, alpha) > target_fdr:
        n += 1
    return n


def risk_by_threshold(records: Sequence[Record]) -> Iterator[Step]:
    """Every candidate threshold (one per distinct confidence: ties are answered or not
    together), the most confident first."""
    ranked = by_confidence(records)
    fd = 0
    per_group: Counter[str] = Counter()
    squares = 0  # sum over groups of (answered cases in the group)^2
    for n, r in enumerate(ranked, start=1):
        fd += outcome(r, r["confidence"])[1]
        squares += 2 * per_group[r["group"]] + 1
        per_group[r["group"]] += 1
        if n == len(ranked) or ranked[n]["confidence"] != r["confidence"]:
            yield Step(r["confidence"], n, fd, squares / n)
