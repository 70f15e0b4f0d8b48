"""A run's metrics table: (figure, value) rows from its summary, as the CLI prints them and the
reports and the app show them.

The offline judge's rows come from its registered evaluators (:func:`evals.judge.summary_rows`,
each evaluator declaring its own); the others, each from its own small function below, stand
before them (deflection, escalation, retrieval) or after them (clarify, calibration, latency,
cost, the LLM judge's calls, run time).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from evals.judge import Row
from evals.judge import summary_rows as judge_rows
from evals.stats import fmt

Summary = dict[str, Any]


def _cases(s: Summary) -> list[Row]:
    unscored = sum(v for k, v in s["status"].items() if k != "scored")
    return [
        (
            "Cases (scored for deflection)",
            f"{s['cases']} ({s['deflection']['n']}); clarify {s['clarify_cases']}; unscored {unscored}",
        )
    ]


def _deflection(s: Summary) -> list[Row]:
    d, t = s["deflection"], s["target_risk"]
    return [
        (f"Deflection rate @ τ={d['threshold']:.2f}", fmt(d["deflection_rate"])),
        ("Deflection rate over addressable cases", fmt(d["deflection_rate_addressable"])),
        ("Coverage (answered without a human)", fmt(d["coverage"])),
        (
            "False-deflection rate (of answered)",
            f"{fmt(d['false_deflection_rate'])} — policy {d['fd_policy']}, wrong answer {d['fd_wrong']}",
        ),
        (
            f"Deflection at target risk (FDR upper bound ≤ {100 * t['target_fdr']:.0f}%, τ from dev split)",
            f"τ*={t['threshold']:.3f}; test: DR {fmt(t['test']['deflection_rate'])}, FDR {fmt(t['test']['false_deflection_rate'])}"
            if t.get("test")
            else t.get("note", "n/a"),
        ),
    ]


def _escalation(s: Summary) -> list[Row]:
    rows = []
    es = s.get("escalation_suggested")
    if es:  # the headline: what the agent sees as "hand over"
        rows.append(
            (
                "Escalation suggested (hand over): precision / recall / F1",
                f"{fmt(es['precision'])} / {fmt(es['recall'])} / {fmt(es['f1'], False)}",
            )
        )
    nr = s.get("needs_review")
    if nr:
        rows.append(
            (
                f"Needs review (not escalated, confidence < τ={s['deflection']['threshold']:.2f})",
                f"{nr['n']} cases, {fmt(nr['share'])}; {nr['of_which_need_a_human']} of them need a human",
            )
        )
    e = s["escalation"]
    rows += [
        (
            "Not automated (hand over or below τ): precision / recall",
            f"{fmt(e['precision'])} / {fmt(e['recall'])}",
        ),
        (
            "Not automated: F1 / F2",
            f"{fmt(e['f1'], False)} / {fmt(e['f2'], False)}; expected cost {e['expected_cost']:.0f} (miss=5, unneeded=1)",
        ),
    ]
    et = s.get("escalation_triggers")
    if et:
        rows.append(
            (
                "Escalation by policy triggers alone (confidence left out): precision / recall",
                f"{fmt(et['precision'])} / {fmt(et['recall'])}; {et['tp'] + et['fp']} cases flagged",
            )
        )
    return rows


def _retrieval(s: Summary) -> list[Row]:
    r = s["retrieval"]
    if not r.get("n"):
        return []
    return [
        (
            f"Retrieval hit@1 / hit@3 / hit@5 (k in prompt ≤ {r['k_prompt']} docs)",
            f"{fmt(r['hit@1'])} / {fmt(r['hit@3'])} / {fmt(r['hit@5'])}",
        ),
        (
            "Retrieval recall@5 / MRR / nDCG@5",
            f"{fmt(r['recall@5'], False)} / {fmt(r['mrr'], False)} / {fmt(r['ndcg@5'], False)}",
        ),
    ]


def _clarify(s: Summary) -> list[Row]:
    cl = s.get("clarify") or {}
    if not cl.get("n"):
        return []
    return [
        (
            "Clarify rate (asks which order or what they mean) on clarify cases; needless elsewhere",
            f"{cl['rate_text']} of {cl['n']}; {cl['needless']} needless",
        )
    ]


def _calibration(s: Summary) -> list[Row]:
    rows = []
    cal = s["calibration"]
    if cal.get("n"):
        raw = s.get("calibration_raw") or {}
        before = (
            f"; before calibration (the model's raw score) {raw['ece']:.3f} / {raw['brier']:.3f}"
            if raw.get("n")
            else ""
        )
        rows.append(
            (
                "Calibration ECE / Brier (target: ok and no human needed)",
                f"{cal['ece']:.3f} / {cal['brier']:.3f} (base rate {100 * cal['base_rate']:.1f}%){before}",
            )
        )
    rows.append(
        ("AURC (risk over coverage, lower is better)", fmt(s["risk_coverage"]["aurc"], False))
    )
    return rows


def _latency(s: Summary) -> list[Row]:
    total = s["latency"]["total_ms"]
    return [
        (
            "Latency p50 / p95 (pipeline)",
            f"{fmt(total['p50'], False)} / {fmt(total['p95'], False)} ms",
        )
    ]


def _cost(s: Summary) -> list[Row]:
    cost = s["cost"]
    return [
        (
            "Tokens and cost (system / judge)",
            f"{cost['system_tokens']} / {cost['judge_tokens']} tokens; ${cost['system_cost_usd']:.4f} / ${cost['judge_cost_usd']:.4f}"
            + (
                f"; ${cost['system_cost_per_deflection']:.5f} per deflection"
                if cost.get("system_cost_per_deflection")
                else ""
            ),
        )
    ]


def _llm_judge(s: Summary) -> list[Row]:
    judge = s.get("judge")
    if not judge:
        return []
    return [
        (
            f"LLM judge ({judge.get('name') or 'n/a'})",
            f"{judge['calls']} calls ({judge['cached_calls']} from cache); "
            f"{judge['judge_failures']} failures in {judge['cases_with_judge_failures']} of {judge['cases']} cases "
            f"(kept the offline verdict: grounded {judge['fallbacks']['grounded']}, correct {judge['fallbacks']['correct']})",
        )
    ]


def _run_time(s: Summary) -> list[Row]:
    if not s.get("cases_per_second"):
        return []
    return [("Run time", f"{s['run_seconds']:.1f} s, {s['cases_per_second']:.1f} cases/s")]


Part = Callable[[Summary], list[Row]]
BEFORE_JUDGE: tuple[Part, ...] = (_cases, _deflection, _escalation, _retrieval)
AFTER_JUDGE: tuple[Part, ...] = (_clarify, _calibration, _latency, _cost, _llm_judge, _run_time)


def summary_rows(s: Summary) -> list[Row]:
    """The metrics table: the run's own rows, with the offline judge's evaluators' in between."""
    return [
        *(row for part in BEFORE_JUDGE for row in part(s)),
        *judge_rows(s),
        *(row for part in AFTER_JUDGE for row in part(s)),
    ]
