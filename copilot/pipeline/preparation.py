"""Steps 1 and 3 of a suggestion (see ``suggest``): the customer's own orders the reply speaks
of, and what is known before drafting: the policy's triggers the customer's words fire, the
refund at stake, and the drafter's request."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date

from copilot.pipeline.drafter import DraftRequest, Passage
from copilot.pipeline.escalation import Policy, Signals, decide, lost_orders
from copilot.pipeline.orderchoice import Meanings, pick_orders
from copilot.pipeline.orderfacts import OrderFacts, describe
from copilot.pipeline.reading import Reading
from copilot.types import Conversation, DraftOptions
from knowledge import Customer, Hit, KnowledgeBase, Order, OrderBook

MAX_TURNS_READ = 8  # the customer's latest messages read for escalation intents


@dataclass(frozen=True)
class FoundOrders:
    """What step 1 found: orders quoted that are not this customer's or not known, the
    orders the draft speaks of, those it asks the customer to choose between, their facts."""

    foreign: tuple[str, ...]
    unknown: tuple[str, ...]
    chosen: list[Order]
    ask_between: list[Order]
    facts: list[OrderFacts]


@dataclass(frozen=True)
class BeforeDrafting:
    """What step 3 knows before drafting: the policy's signals, how many of its patterns
    fired, and the drafter's request."""

    signals: Signals
    pattern_triggers: int
    req: DraftRequest


def find_orders(
    book: OrderBook,
    conv: Conversation,
    customer: Customer | None,
    reading: Reading,
    policy: Policy,
    today: Callable[[], date],
    embed: Meanings | None,
) -> FoundOrders:
    """1. the customer's own orders (the lookup never returns anyone else's); ``customer``:
    the conversation's customer, as the book has them (their country words the facts)."""
    own = book.orders_of(conv.customer_id) if conv.customer_id else []
    quoted = book.quoted(conv.customer_id, conv.customer_text, own=own)
    ask_between: list[Order] = []
    if quoted.foreign or (quoted.unknown and not quoted.own) or reading.intent == "chit_chat":
        chosen = []  # an order we cannot show them (never guess another one), or small talk
    else:
        choice = pick_orders(
            own,
            list(quoted.own),
            reading.intents,
            today(),
            conv.customer_text,
            embed=embed,
        )
        chosen, ask_between = choice.orders, choice.ask_between
    facts = [
        describe(
            o,
            lang=reading.lang,
            formal=reading.formal,
            intents=reading.intents,
            policy=policy,
            today=today(),
            asked=conv.last_customer_text,
            country=customer.country if customer else "",
        )
        for o in chosen
    ]
    return FoundOrders(quoted.foreign, quoted.unknown, chosen, ask_between, facts)


def customer_said(conv: Conversation) -> list[str]:
    """The customer's latest messages, whose escalation intents the suggestion reads."""
    return [t.text for t in conv.turns if t.role == "customer"][-MAX_TURNS_READ:]


def before_drafting(
    conv: Conversation,
    opts: DraftOptions,
    policy: Policy,
    reading: Reading,
    name: str | None,
    found: FoundOrders,
    hits: list[Hit],
    intents: Mapping[str, tuple[float, str]],
    *,
    kb: KnowledgeBase,
    today: Callable[[], date],
) -> BeforeDrafting:
    """3. the policy's triggers known before drafting, and the drafter's request; ``intents``:
    the escalation intents of the customer's latest messages (``IntentClassifier.reasons``)."""
    said = customer_said(conv)
    pattern_hits = policy.said(said, intents)
    refund_amount = _refund_amount(policy, conv, reading, found.chosen)
    reported_lost = policy.reported("lost_parcel", intents)
    # a first message that says nothing of what it is about, and no order of theirs answers it
    asks_details = reading.vague and not (
        found.chosen or found.ask_between or found.foreign or found.unknown
    )
    signals = Signals(
        pattern_hits,
        refund_amount,
        found.foreign,
        lost_orders(found.chosen, reported_lost, policy.settings, today()),
        conv.prior_contacts,
        has_knowledge=True,
        has_order_facts=bool(found.facts),
        asks_back=bool(found.ask_between) or asks_details,
        chit_chat="chit_chat" in reading.intents,
    )
    pre = decide(policy, signals, reading.lang)
    handoff = tuple(c for c in pre.codes if policy.is_hard(c))
    passages = [Passage(f"P{i + 1}", h) for i, h in enumerate(hits)]
    req = DraftRequest(
        conv,
        reading,
        opts,
        policy,
        name,
        passages,
        found.facts,
        found.foreign,
        found.unknown,
        handoff,
        refund_amount,
        opts.channel or conv.channel,
        kb.term_weights(reading.query, reading.lang) if hits else None,
        tuple(found.ask_between),
        asks_details,
    )
    return BeforeDrafting(signals, len(pattern_hits), req)


def _refund_amount(
    policy: Policy, conv: Conversation, reading: Reading, chosen: list[Order]
) -> float | None:
    """The refund at stake: the largest amount the customer claims, else the total of the
    order of a refund request."""
    claimed = policy.amounts_claimed(conv.customer_text)
    if claimed:
        return max(claimed)
    if "refund" in reading.intents and chosen and chosen[0].total is not None:
        return chosen[0].total
    return None
