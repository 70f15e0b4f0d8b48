"""Escalation policy: a YAML file of triggers (editable, validated) and the decision it gives.

Pattern triggers come from the file; computed triggers come from the pipeline: a refund above
the limit, repeated contact, another customer's order, no supporting knowledge, low
confidence, and the LLM's own flag. Every fired trigger is a :class:`Reason`.

What a policy file may say is in ``policyschema``; the policy in force (parsed, its triggers
looked up, what a customer's words fire) in ``policyrules``; here, the decision.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

import numpy as np

from copilot.pipeline.policyrules import DEFAULT_POLICY, Policy
from copilot.pipeline.policyschema import PolicyError, PolicySettings
from copilot.types import Escalation, Lang, Reason
from knowledge import CLOSED_STATUSES, Order

# what other modules import from here (the policy file and its model were here)
__all__ = [
    "DEFAULT_POLICY",
    "Policy",
    "PolicyError",
    "PolicySettings",
    "Signals",
    "decide",
    "lost_orders",
]


@dataclass(frozen=True)
class Signals:
    """What the pipeline observed, for the decision."""

    pattern_hits: dict[str, str]
    refund_amount: float | None = None
    foreign_orders: tuple[str, ...] = ()
    lost_orders: tuple[str, ...] = ()
    prior_contacts: int = 0
    has_knowledge: bool = True
    has_order_facts: bool = False
    # the draft asks the customer which order, or what they mean: not a gap in the knowledge
    asks_back: bool = False
    chit_chat: bool = False
    confidence: float | None = None
    llm_flag: bool = False
    llm_reasons: tuple[str, ...] = ()


def lost_orders(
    orders: Sequence[Order], reported: bool, settings: PolicySettings, today: date
) -> tuple[str, ...]:
    """The orders to investigate with the carrier: marked lost in the feed, or, when the
    customer reports theirs missing, not delivered and ``investigation_business_days``
    business days past both its due date and its latest tracking news."""
    out = []
    for o in orders:
        if o.status == "lost":
            out.append(o.order_number)
            continue
        days = settings.investigation_business_days
        if (
            not reported
            or days is None
            or o.status in CLOSED_STATUSES
            or o.delivered_at is not None
        ):
            continue
        known = [d for d in (o.estimated_delivery, o.last_tracking_update) if d is not None]
        if known and int(np.busday_count(max(known), today)) >= days:
            out.append(o.order_number)
    return tuple(out)


def decide(policy: Policy, signals: Signals, lang: Lang) -> Escalation:
    """Combine every fired trigger into one escalation decision with reasons and a queue."""
    reasons: list[Reason] = []

    def add(code: str, detail: str = "") -> None:
        if policy.trigger(code) is not None and code not in {r.code for r in reasons}:
            reasons.append(Reason(code=code, label=policy.label(code, lang), detail=detail))

    for code, matched in signals.pattern_hits.items():
        add(code, f"« {matched} »" if lang == "fr" else f'"{matched}"')
    s = policy.settings
    if signals.refund_amount is not None and signals.refund_amount > s.refund_limit:
        add(
            "refund_over_limit",
            f"{signals.refund_amount:.2f} {s.currency} > {s.refund_limit:.0f} {s.currency}",
        )
    if signals.foreign_orders:
        add("foreign_order", ", ".join(signals.foreign_orders))
    if signals.lost_orders:
        add("lost_parcel", ", ".join(signals.lost_orders))
    if signals.prior_contacts >= s.repeated_contact_threshold:
        add("repeated_contact_history", f"{signals.prior_contacts}")
    handed_over = any(policy.is_hard(r.code) for r in reasons)
    if (
        not signals.has_knowledge
        and not signals.has_order_facts
        and not signals.asks_back
        and not signals.chit_chat
        and not handed_over
    ):
        add("no_knowledge")  # a hand-off draft cites nothing on purpose: not a knowledge gap
    if (
        signals.confidence is not None
        and signals.confidence < s.low_confidence
        and not signals.chit_chat
        and not signals.has_order_facts  # the order record answers: its facts are computed, not guessed
        and not signals.asks_back
        and not reasons
    ):
        add("low_confidence", f"{signals.confidence:.2f}")
    if signals.llm_flag:
        add("llm_flag", "; ".join(signals.llm_reasons))
    if not reasons:
        return Escalation(escalate=False)
    reasons.sort(key=lambda r: policy.priority(r.code))  # most serious first: it routes
    return Escalation(
        escalate=True,
        reasons=reasons,
        queue=policy.queue_label(policy.queue_of(reasons[0].code), lang),
    )
