"""The Evals page's tables, as rows of plain values (:mod:`evals.browse`): a run's notes, its
failures and cases with their outcomes and verdicts, and the comparison of two runs with its
CI gate. Pure functions over what the run folders hold; no Streamlit.
"""

from __future__ import annotations

from typing import Any

from evals.compare import pp
from evals.gate import gate_checks
from evals.outcomes import Record, answered, held_back_failures, outcome, worst_failures


# -- cases ---------------------------------------------------------------------------
def summary_notes(summary: dict[str, Any]) -> list[str]:
    """What the metrics table does not say: false deflections by reason, unscored cases."""
    notes = []
    by_reason = summary["deflection"]["fd_by_reason"]
    if by_reason:
        notes.append(
            "False deflections by reason: "
            + ", ".join(f"{k} {v}" for k, v in sorted(by_reason.items()))
        )
    if summary["unscored_reasons"]:
        notes.append(
            "Unscored: " + "; ".join(f"{k} ({v})" for k, v in summary["unscored_reasons"].items())
        )
    return notes


def outcome_label(r: Record, tau: float) -> str:
    """What happened to a case at threshold ``tau``, in the words of the report."""
    if r["status"] != "scored":
        return "unscored"
    ans = answered(r, tau)
    if r["expected_action"] == "clarify":
        return "clarify (answered)" if ans else "clarify (escalated)"
    if not r["should_escalate"] and r["ok"] is None:
        return "not verifiable (answered)" if ans else "not verifiable (escalated)"
    d, fd = outcome(r, tau)
    if d:
        return "deflected"
    if fd:
        return "false-deflected"
    return "escalated"


def why_failed(r: Record) -> str:
    if r["should_escalate"]:
        return "answered a case that needs a human" + (
            f" ({r['gold_reason']})" if r.get("gold_reason") else ""
        )
    v = r.get("verdicts") or {}
    wrong = [k for k in ("correct", "grounded", "personal") if v.get(k) is False]
    return "wrong answer: not " + ", not ".join(wrong) if wrong else "wrong answer"


def _failure_row(r: Record) -> dict[str, Any]:
    return {
        "id": r["id"],
        "confidence": r["confidence"],
        "why": why_failed(r),
        "expected_action": r["expected_action"],
        "lang": r.get("lang"),
        "question": r.get("question", ""),
    }


def failure_rows(records: list[Record], tau: float, n: int = 20) -> list[dict[str, Any]]:
    """The worst failures: false deflections, most confident first."""
    return [_failure_row(r) for r in worst_failures(records, tau, n)]


def held_back_rows(records: list[Record], tau: float, n: int = 20) -> list[dict[str, Any]]:
    """The most confident wrong drafts the threshold kept from the customer."""
    return [_failure_row(r) for r in held_back_failures(records, tau, n)]


def case_rows(records: list[Record], tau: float) -> list[dict[str, Any]]:
    return [
        {
            "id": r["id"],
            "outcome": outcome_label(r, tau),
            "confidence": r["confidence"],
            "expected_action": r["expected_action"],
            "should_escalate": r["should_escalate"],
            "escalate_flag": r["escalate"],
            "lang": r.get("lang"),
            "question": r.get("question", ""),
        }
        for r in records
    ]


def case_order(records: list[Record], tau: float) -> list[str]:
    """Case ids for a picker: the worst failures first, then the wrong drafts the threshold
    held back, then every other case by id."""
    first = [r["id"] for r in worst_failures(records, tau, len(records))]
    first += [r["id"] for r in held_back_failures(records, tau, len(records))]
    seen = set(first)
    return first + [r["id"] for r in records if r["id"] not in seen]


def verdict_line(v: dict[str, Any] | None) -> str:
    """The offline judge's verdicts in one line (the full set stays available as JSON)."""
    if not v:
        return "no verdicts (unscored)"

    def yes(x: Any) -> str:
        return "n/a" if x is None else ("yes" if x else "no")

    parts = [
        f"correct: {yes(v.get('correct'))}",
        f"grounded: {yes(v.get('grounded'))}",
        f"personal: {yes(v.get('personal'))}",
    ]
    if v.get("required_total"):
        parts.append(f"required facts found {v.get('required_found', 0)}/{v['required_total']}")
    if v.get("forbidden_found"):
        parts.append(f"forbidden facts stated {len(v['forbidden_found'])}")
    if v.get("claims") is not None:
        parts.append(f"claims supported {v.get('supported', 0)}/{v['claims']}")
    if v.get("facts_required"):
        parts.append(f"order facts right {v.get('facts_required_ok', 0)}/{v['facts_required']}")
    if v.get("leaks"):
        parts.append(f"leaks {len(v['leaks'])}")
    return " · ".join(parts)


def citation_rows(r: Record) -> list[dict[str, str]]:
    return [
        {
            "sentence": c.get("sentence", ""),
            "documents": ", ".join(c.get("doc_ids") or []),
            "titles": " | ".join(c.get("titles") or []),
        }
        for c in r.get("citations") or []
    ]


# -- comparing two runs --------------------------------------------------------------
def gate_rows(c: dict[str, Any]) -> list[dict[str, Any]]:
    """Every check of the CI gate with its status (pass, fail, n/a: not a pass) and, for the
    two non-inferiority checks, the interval bound, its limit and the headroom (how far the
    bound is from failing; negative when it fails)."""
    margin = c["gate"]["margin"]
    by_name = {m["metric"]: m for m in c["metrics"]}
    checks = c["gate"].get("checks") or gate_checks(by_name, margin)
    fd = by_name.get("false-deflection rate (of answered)", {})
    dr = by_name.get("deflected", {})
    bounds = {
        "FDR non-inferiority": (fd.get("high"), margin, lambda b: margin - b),
        "deflection non-inferiority": (dr.get("low"), -margin, lambda b: b + margin),
    }
    rows = []
    for chk in checks:
        bound, limit, room = bounds.get(chk["check"], (None, None, None))
        rows.append(
            {
                "check": chk["check"],
                "status": chk["status"],
                "bound": pp(bound) if bound is not None else ("n/a" if limit is not None else "—"),
                "limit": pp(limit) if limit is not None else "—",
                "headroom": pp(room(bound)) if room and bound is not None else "—",
                "passes": chk["status"] == "pass",
                "detail": chk["why"],
            }
        )
    return rows


def comparison_notes(a: dict[str, Any], b: dict[str, Any], c: dict[str, Any]) -> list[str]:
    """What limits the comparison: different datasets, unpaired cases, different settings."""
    notes = []
    if a.get("dataset_hash") != b.get("dataset_hash"):
        notes.append(
            f"The runs used different case files ({a.get('dataset')} vs {b.get('dataset')}): only the {c['n_paired']} case ids scored in both are compared."
        )
    elif c["only_a"] or c["only_b"]:
        notes.append(
            f"{c['only_a']} case(s) scored only in A and {c['only_b']} only in B are left out; {c['n_paired']} are paired."
        )
    if a.get("kb_hash") != b.get("kb_hash"):
        notes.append("The knowledge differs between the runs.")
    if c["n_paired"] == 0:
        notes.append("No case is scored in both runs: nothing to compare.")
    return notes
