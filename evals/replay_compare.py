"""How the copilot's drafts on the replay set compare with what the agents actually did
(:mod:`evals.replay`): edit distance (masked on both sides), the reply's facts found in the
draft, and escalation agreement, each with its interval; and the report's rows.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from copilot.desk.store import LIGHT_EDIT, edit_ratio
from copilot.pipeline.pii import PLACEHOLDER, Masker, unnumbered
from evals.facts import atomic_facts
from evals.outcomes import prf
from evals.replay_history import ReplayCase, counted
from evals.stats import Estimate, bootstrap, fmt, mean, percentile, ratio, wilson


def facts(text: str) -> frozenset[str]:
    """Order numbers, amounts, dates, durations and other numbers a reply states (the offline
    judge's atomic facts), placeholders left out."""
    return atomic_facts(PLACEHOLDER.sub(" ", text))


def compare(
    cases: Sequence[ReplayCase],
    records: Sequence[dict[str, Any]],
    names: Callable[[str | None], list[str]],
    *,
    seed: int = 0,
) -> dict[str, Any]:
    """How the copilot's drafts (``records`` of the harness) compare with the agents' actions."""
    by_id = {r["id"]: r for r in records}
    rows: list[dict[str, Any]] = []
    for rc in cases:
        case, r = rc.case, by_id.get(rc.case.id)
        row: dict[str, Any] = {
            "id": case.id,
            "conversation_id": rc.conversation_id,
            "at": rc.at.isoformat(),
            "desk_outcome": rc.outcome,
            "agent_escalated": case.should_escalate,
            "reference": case.reference_answer,
            "scored": r is not None and r.get("status") == "scored",
        }
        if not row["scored"]:
            row["unscored_reason"] = (r or {}).get("unscored_reason") or "not run"
            rows.append(row)
            continue
        assert r is not None
        ctx = case.customer_context
        draft = Masker.for_names(names(ctx.customer_id if ctx else None)).mask(r["draft"])
        row |= {
            "draft": draft,
            "copilot_escalated": bool(r["escalate"]),
            "reasons": r.get("reasons") or [],
        }
        if case.reference_answer is not None:
            agent_facts, draft_facts = facts(case.reference_answer), facts(draft)
            row |= {
                "edit_distance": edit_ratio(unnumbered(draft), unnumbered(case.reference_answer)),
                "agent_facts": sorted(agent_facts),
                "facts_in_draft": sorted(agent_facts & draft_facts),
            }
        rows.append(row)
    return summarize(rows, seed=seed)


def _clustered(
    values: Sequence[Any],
    statistic: Callable[[np.ndarray], float | None],
    groups: list[str],
    seed: int,
) -> Estimate:
    """The statistic with a cluster bootstrap interval by conversation (replies of one
    conversation are not independent); a single conversation gives no interval."""
    est = bootstrap(values, statistic, groups=groups, seed=seed)
    if len(set(groups)) < 2:
        return Estimate(est.value, None, None, est.n, "one conversation: no interval")
    return est


def summarize(rows: Sequence[dict[str, Any]], *, seed: int = 0) -> dict[str, Any]:
    scored = [r for r in rows if r["scored"]]
    replied = [r for r in scored if "edit_distance" in r]
    distances = [r["edit_distance"] for r in replied]
    groups = [r["conversation_id"] for r in replied]
    with_facts = [r for r in replied if r["agent_facts"]]
    by_outcome: dict[str, list[float]] = defaultdict(list)
    for r in replied:
        by_outcome[r["desk_outcome"] or "none"].append(r["edit_distance"])
    agent = [r["agent_escalated"] for r in scored]
    copilot = [r["copilot_escalated"] for r in scored]
    tp = sum(1 for a, c in zip(agent, copilot, strict=True) if a and c)
    fp = sum(1 for a, c in zip(agent, copilot, strict=True) if c and not a)
    fn = sum(1 for a, c in zip(agent, copilot, strict=True) if a and not c)
    tn = len(scored) - tp - fp - fn
    return {
        "cases": len(rows),
        "scored": len(scored),
        "unscored": len(rows) - len(scored),
        "replies": len(replied),
        "escalated_without_reply": sum(1 for r in scored if "edit_distance" not in r),
        "edit_distance": _clustered(distances, mean, groups, seed),
        "edit_distance_median": percentile(distances, 50),
        "identical": wilson(sum(1 for d in distances if d == 0), len(distances)),
        "light_edit": wilson(sum(1 for d in distances if d < LIGHT_EDIT), len(distances)),
        "light_edit_limit": LIGHT_EDIT,
        "edit_distance_by_desk_outcome": {
            k: {"n": len(v), "mean": float(np.mean(v))} for k, v in sorted(by_outcome.items())
        },
        "facts": {
            "agent_facts": sum(len(r["agent_facts"]) for r in replied),
            "in_draft": sum(len(r["facts_in_draft"]) for r in replied),
            "rate": _clustered(
                [[len(r["facts_in_draft"]), len(r["agent_facts"])] for r in with_facts],
                ratio,
                [r["conversation_id"] for r in with_facts],
                seed,
            ),
            "replies_with_facts": len(with_facts),
            "replies_with_every_fact": wilson(
                sum(1 for r in with_facts if len(r["facts_in_draft"]) == len(r["agent_facts"])),
                len(with_facts),
            ),
        },
        "escalation": {
            "n": len(scored),
            "agreement": wilson(tp + tn, len(scored)),
            "tn": tn,
            **prf(tp, fp, fn),
        },
        "rows": list(rows),
    }


def report_rows(r: dict[str, Any]) -> list[tuple[str, str]]:
    """The report as (figure, value) rows: the CLI's table and the app's."""
    s, f, e = r["split"], r["facts"], r["escalation"]
    rows = [
        (
            "Replay cases: all (train / test)",
            f"{s['train'] + s['test']} ({s['train']} / {s['test']}); test = {s['rule']}, "
            f"{s['test_from'][:16].replace('T', ' ')} to {s['test_until'][:16].replace('T', ' ')}",
        ),
        (
            "Test cases compared",
            f"{counted(r['replies'], 'agent reply', 'agent replies')}, "
            f"{counted(r['escalated_without_reply'], 'escalation', 'escalations')} without a reply; "
            f"{r['unscored']} unscored",
        ),
        (
            "Edit distance, draft → agent's reply (0 = sent as drafted)",
            f"mean {fmt(r['edit_distance'], False)}; median "
            + ("n/a" if r["edit_distance_median"] is None else f"{r['edit_distance_median']:.3f}"),
        ),
        ("Drafts identical to the agent's reply", fmt(r["identical"])),
        (
            f"Drafts within a light edit (distance < {r['light_edit_limit']:.2f})",
            fmt(r["light_edit"]),
        ),
    ]
    by = r["edit_distance_by_desk_outcome"]
    if by:
        rows.append(
            (
                "Edit distance by the desk's outcome (mean, n)",
                "; ".join(
                    f"{k if k != 'none' else 'no draft recorded'} {v['mean']:.3f} ({v['n']})"
                    for k, v in by.items()
                ),
            )
        )
    rows += [
        (
            "Facts of the agent's reply in the draft (order numbers, amounts, dates, durations)",
            f"{f['in_draft']}/{f['agent_facts']} = {fmt(f['rate'])}; replies with every fact "
            f"{fmt(f['replies_with_every_fact'])} of {f['replies_with_facts']}",
        ),
        ("Escalation agreement (copilot vs agent)", fmt(e["agreement"])),
        (
            "Copilot escalation against the agent's: precision / recall",
            f"{fmt(e['precision'])} / {fmt(e['recall'])}; tp {e['tp']}, fp {e['fp']}, "
            f"fn {e['fn']}, tn {e['tn']}",
        ),
    ]
    return rows
