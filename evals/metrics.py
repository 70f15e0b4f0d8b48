"""Run metrics from per-case results (EVALS.md §1), each with a 95 % interval.

Choices (also printed in every report):
- "clarify" cases are neither deflected nor false-deflected: they are left out of DR/FDR and
  reported on their own (the offline copilot cannot ask a clarifying question).
- a case whose correctness cannot be verified (no reference documents, no required facts) is
  ``unscored`` for deflection, counted and shown, never a 0 or a NaN inside a mean.
- intervals: a cluster bootstrap by group_id (B=2000, seed 0) when cases share groups,
  else Wilson; the method is named next to each figure.
"""

from __future__ import annotations

import functools
import hashlib
import math
from collections import Counter, defaultdict
from collections.abc import Iterator, Sequence
from typing import Any, NamedTuple

import numpy as np

from evals.stats import (
    Estimate,
    bootstrap,
    bootstrap_percentile,
    clopper_pearson_upper,
    intragroup_correlation,
    mean,
    ratio,
    wilson,
)

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


def _proportion(values: Sequence[float], groups: Sequence[str], clustered: bool) -> Estimate:
    if not values:
        return Estimate(None, None, None, 0, "")
    if clustered:
        return bootstrap(values, mean, groups=groups)
    return wilson(float(sum(values)), len(values))


def _ratio(
    num: Sequence[float], den: Sequence[float], groups: Sequence[str], clustered: bool
) -> Estimate:
    if not sum(den):
        return Estimate(None, None, None, 0, "")
    if clustered:
        return bootstrap(np.column_stack([num, den]), ratio, groups=groups)
    k = int(sum(den))
    return wilson(float(sum(num)), k)


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
        "deflection_rate": _proportion(list(d), groups, clustered),
        "deflection_rate_weighted": float((w * np.array(d)).sum() / w.sum()) if len(w) else None,
        "deflection_rate_addressable": _proportion(
            [outcome(r, tau)[0] for r in addressable], [r["group"] for r in addressable], clustered
        ),
        "coverage": _proportion(a, groups, clustered),
        "false_deflection_rate": _ratio(list(fd), a, groups, clustered),
        "false_deflections_per_case": _proportion(list(fd), groups, clustered),
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


# The eval sets' reason labels -> the copilot's reason codes that name them. A case that needs a
# human and has no reason label is one the knowledge base cannot answer (the dev sets).
GOLD_REASON_CODES: dict[str, tuple[str, ...]] = {
    "human_request": ("human_request",),
    "angry": ("anger",),
    "legal": ("legal_threat",),
    "fraud": ("fraud",),
    "gdpr": ("gdpr",),
    "safety": ("safety",),
    "refund_limit": ("refund_over_limit",),
    "repeated_contact": ("repeated_contact", "repeated_contact_history"),
    "foreign_order": ("foreign_order",),
    "injection": ("prompt_injection",),
    "lost_parcel": ("lost_parcel",),
    "no_kb_answer": ("no_knowledge", "low_confidence", "llm_flag"),
}


def gold_reason(r: Record) -> str | None:
    if not r["should_escalate"]:
        return None
    return r.get("gold_reason") or "no_kb_answer"


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
        codes = set(GOLD_REASON_CODES.get(g, (g,)))
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


def retrieval(records: Sequence[Record], ks: Sequence[int] = (1, 3, 5)) -> dict[str, Any]:
    rows = [r for r in records if r["status"] == "scored" and r["reference_doc_ids"]]
    if not rows:
        return {"n": 0}
    groups = [r["group"] for r in rows]
    clustered = len(set(groups)) < len(groups)
    out: dict[str, Any] = {
        "n": len(rows),
        "k_prompt": max((len(r["retrieved_doc_ids"]) for r in rows), default=0),
    }
    for k in ks:
        out[f"hit@{k}"] = _proportion([hit_at(r, k) for r in rows], groups, clustered)
    out["recall@5"] = bootstrap(
        [recall_at(r, 5) for r in rows], mean, groups=groups if clustered else None
    )
    out["mrr"] = bootstrap([mrr(r) for r in rows], mean, groups=groups if clustered else None)
    out["ndcg@5"] = bootstrap(
        [ndcg_at(r, 5) for r in rows], mean, groups=groups if clustered else None
    )
    return out


def hit_at(r: Record, k: int) -> float:
    return float(bool(set(r["retrieved_doc_ids"][:k]) & set(r["reference_doc_ids"])))


def recall_at(r: Record, k: int) -> float:
    rel = set(r["reference_doc_ids"])
    return len(rel & set(r["retrieved_doc_ids"][:k])) / len(rel)


def mrr(r: Record, k: int = 10) -> float:
    rel = set(r["reference_doc_ids"])
    return next(
        (1.0 / i for i, d in enumerate(r["retrieved_doc_ids"][:k], start=1) if d in rel), 0.0
    )


def ndcg_at(r: Record, k: int) -> float:
    """Binary relevance nDCG (graded relevance when the case gives none is 1 per reference)."""
    rel = set(r["reference_doc_ids"])
    dcg = sum(
        1.0 / math.log2(i + 1)
        for i, d in enumerate(r["retrieved_doc_ids"][:k], start=1)
        if d in rel
    )
    idcg = sum(1.0 / math.log2(i + 1) for i in range(1, min(k, len(rel)) + 1))
    return dcg / idcg if idcg else 0.0


def grounding(records: Sequence[Record]) -> dict[str, Any]:
    rows = [
        r for r in records if r["status"] == "scored" and not r["escalate"] and r.get("verdicts")
    ]
    if not rows:
        return {"n": 0}
    v = [r["verdicts"] for r in rows]
    claims = sum(x["claims"] for x in v)
    cites = sum(x["citations"] for x in v)
    groups = [r["group"] for r in rows]
    clustered = len(set(groups)) < len(groups)
    return {
        "n": len(rows),
        "label": "offline lexical check (unsupported ≠ hallucinated)"
        if v[0]["judge"].startswith("offline")
        else v[0]["judge"],
        "grounded_rate": _proportion([float(bool(x["grounded"])) for x in v], groups, clustered),
        "faithfulness": (sum(x["supported"] for x in v) / claims) if claims else None,
        "citation_precision": (sum(x["citations_supporting"] for x in v) / cites)
        if cites
        else None,
        "citation_recall": (sum(x["claims_supported_by_citation"] for x in v) / claims)
        if claims
        else None,
        "claims": claims,
        "zero_claim_drafts": sum(1 for x in v if x["claims"] == 0),
    }


def correctness(records: Sequence[Record]) -> dict[str, Any]:
    rows = [
        r
        for r in records
        if r["status"] == "scored"
        and not r["escalate"]
        and (r.get("verdicts") or {}).get("correct") is not None
    ]
    if not rows:
        return {"n": 0}
    groups = [r["group"] for r in rows]
    clustered = len(set(groups)) < len(groups)
    bases = Counter(r["verdicts"]["correct_basis"] for r in rows)
    f1s = [r["verdicts"]["token_f1"] for r in rows if r["verdicts"].get("token_f1") is not None]
    rl = [r["verdicts"]["rouge_l"] for r in rows if r["verdicts"].get("rouge_l") is not None]
    return {
        "n": len(rows),
        "correct_rate": _proportion(
            [float(r["verdicts"]["correct"]) for r in rows], groups, clustered
        ),
        "basis": dict(bases),
        "token_f1_mean": float(np.mean(f1s)) if f1s else None,
        "rouge_l_mean": float(np.mean(rl)) if rl else None,
    }


def personalisation(records: Sequence[Record]) -> dict[str, Any]:
    rows = [r for r in records if r["status"] == "scored" and r.get("verdicts")]
    v = [r["verdicts"] for r in rows]
    stated = sum(x["facts_stated"] for x in v)
    required = sum(x["facts_required"] for x in v)
    leaks = sum(len(x["leaks"]) for x in v)
    leak_cases = sum(1 for x in v if x["leaks"])
    return {
        "n": len(rows),
        "fact_precision": sum(x["facts_correct"] for x in v) / stated if stated else None,
        "fact_recall": sum(x["facts_required_ok"] for x in v) / required if required else None,
        # the same required facts, looked for in the ORDER FACTS an LLM prompt would hold
        "context_fact_recall": (
            sum(r.get("context_facts_required_ok", 0) for r in rows) / required
            if required and all("context_facts_required_ok" in r for r in rows)
            else None
        ),
        "facts_stated": stated,
        "facts_required": required,
        "leaks": leaks,
        "leak_cases": leak_cases,
        "leak_rate_upper_95": wilson(leak_cases, len(rows)).high if rows else None,
        "leak_rule_of_three": 3 / len(rows) if rows and leak_cases == 0 else None,
    }


def clarify_rates(records: Sequence[Record]) -> dict[str, Any]:
    """How often the draft asks which order (several fit): on the cases whose gold action is to
    clarify (the rate), and on the others (asked needlessly)."""
    rows = [r for r in records if r["status"] == "scored" and "clarify" in r]
    gold = [r for r in rows if r["expected_action"] == "clarify"]
    other = [r for r in rows if r["expected_action"] != "clarify"]
    asked = sum(1 for r in gold if r["clarify"])
    needless = sum(1 for r in other if r["clarify"])
    return {
        "n": len(gold),
        "rate": asked / len(gold) if gold else None,
        "rate_text": wilson(asked, len(gold)).fmt() if gold else "n/a",
        "needless": needless,
        "needless_rate": needless / len(other) if other else None,
    }


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


def latency(records: Sequence[Record]) -> dict[str, Any]:
    rows = [r for r in records if r["status"] == "scored" and not r.get("cached")]
    out: dict[str, Any] = {"n": len(rows)}
    for key in ("total_ms", "retrieval_ms", "generation_ms"):
        vals = [r["timings"][key] for r in rows if r["timings"].get(key) is not None]
        out[key] = {
            "p50": bootstrap_percentile(vals, 50),
            "p95": bootstrap_percentile(vals, 95),
        }
    return out


def cost(records: Sequence[Record], deflected: int) -> dict[str, Any]:
    rows = [r for r in records if r["status"] == "scored"]
    sut = sum(r["usage"].get("cost_usd", 0.0) for r in rows)
    judge = sum((r.get("judge_usage") or {}).get("cost_usd", 0.0) for r in rows)
    tokens = sum(
        r["usage"].get("prompt_tokens", 0) + r["usage"].get("completion_tokens", 0) for r in rows
    )
    judge_tokens = sum(
        (r.get("judge_usage") or {}).get("prompt_tokens", 0)
        + (r.get("judge_usage") or {}).get("completion_tokens", 0)
        for r in rows
    )
    n = len(rows) or 1
    return {
        "system_tokens": tokens,
        "judge_tokens": judge_tokens,
        "system_cost_usd": sut,
        "judge_cost_usd": judge,
        "system_cost_per_case": sut / n,
        "system_cost_per_1k": 1000 * sut / n,
        "system_cost_per_deflection": sut / deflected if deflected else None,
        "estimated": any(
            r["usage"].get("estimated", True) for r in rows if r["usage"].get("prompt_tokens")
        ),
    }


def by_action(records: Sequence[Record], tau: float) -> list[dict[str, Any]]:
    groups: dict[str, list[Record]] = defaultdict(list)
    for r in records:
        groups[r["expected_action"]].append(r)
    out = []
    for action, rows in sorted(groups.items()):
        sc = [r for r in rows if r["status"] == "scored"]
        ok_rows = [r for r in sc if r["ok"] is not None]
        out.append(
            {
                "expected_action": action,
                "n": len(rows),
                "scored": len(sc),
                "escalated": sum(1 for r in sc if not answered(r, tau)),
                "answered": sum(1 for r in sc if answered(r, tau)),
                "deflected": sum(outcome(r, tau)[0] for r in ok_rows),
                "false_deflected": sum(outcome(r, tau)[1] for r in ok_rows),
                "mean_confidence": float(np.mean([r["confidence"] for r in sc])) if sc else None,
            }
        )
    return out


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
        "calibration": calibration(records),
        "calibration_raw": calibration(
            [r for r in records if r.get("confidence_raw") is not None], key="confidence_raw"
        ),
        "risk_coverage": risk_coverage(records),
        "latency": latency(records),
        "cost": cost(records, dfl["deflected"]),
        "by_action": by_action(records, tau),
    }
