"""Per-kind aggregates of a run's cases, each with its interval: retrieval (hit@k, recall, MRR,
nDCG), the offline judge's verdicts (groundedness, correctness, personalisation: the sections
their evaluators' summary rows read), clarifying questions, latency, cost, and the table by
expected action (EVALS.md §1).
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Sequence
from typing import Any

import numpy as np

from evals.outcomes import Record, answered, outcome, proportion
from evals.stats import bootstrap, bootstrap_percentile, mean, wilson


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
        out[f"hit@{k}"] = proportion([hit_at(r, k) for r in rows], groups, clustered)
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
        "grounded_rate": proportion([float(bool(x["grounded"])) for x in v], groups, clustered),
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
    return {
        "n": len(rows),
        "correct_rate": proportion(
            [float(r["verdicts"]["correct"]) for r in rows], groups, clustered
        ),
        "basis": dict(bases),
    }


def measures(records: Sequence[Record], keys: Sequence[str]) -> dict[str, Any]:
    """The mean of each per-case number (a verdicts field, e.g. the evaluators' measures) over
    the drafts the customer would get (scored, not handed over) that have it, with its 95 %
    interval (cluster bootstrap by group when cases share groups)."""
    out: dict[str, Any] = {}
    for key in keys:
        rows = [r for r in records if r["status"] == "scored" and measured(r, key) is not None]
        if not rows:
            continue
        groups = [r["group"] for r in rows]
        clustered = len(set(groups)) < len(groups)
        values = [float(r["verdicts"][key]) for r in rows]
        out[key] = {
            "n": len(rows),
            "mean": bootstrap(values, mean, groups=groups if clustered else None),
        }
    return out


def measured(r: Record, key: str) -> float | None:
    """The number ``key`` of the case's verdicts, for a draft the customer would get (not
    handed over); None when it was handed over or not measured."""
    value = None if r["escalate"] else (r.get("verdicts") or {}).get(key)
    return None if value is None else float(value)


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
