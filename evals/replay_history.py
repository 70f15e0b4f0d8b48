"""The desk's history as replay cases (:mod:`evals.replay`): each agent action that follows one
or more customer messages is a case; the conversation up to the last of those messages is the
input, the agent's reply the reference answer, and whether the agent escalated there (the
desk's feedback row of the escalation) the label. Personal data is masked with
:class:`copilot.pipeline.pii.Masker`, one per conversation (a value keeps its placeholder in
every turn).
"""

from __future__ import annotations

from collections import defaultdict, deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, get_args

import sqlalchemy as sa

from copilot.desk.store import ConversationRecord, ConversationStore, Message, conversations
from copilot.pipeline.pii import Masker
from copilot.types import Channel
from evals.dataset import Case, CaseTurn, CustomerContext, DatasetError
from knowledge import OrderBook, detect_language

# the feedback outcome ConversationStore.escalate records (the only way a conversation is
# escalated: with the conversation's status, it writes this row, which says when)
ESCALATED = "escalated"
CHANNELS = frozenset(get_args(Channel))


class ReplayError(DatasetError):
    """The conversation store cannot make a replay set."""


@dataclass
class _Point:
    """One agent action after customer messages: the turns before it, the reply (None: the
    agent escalated without replying), when, and the desk's feedback outcome on the reply."""

    turns: list[Message]
    reply: Message | None
    at: datetime
    outcome: str | None
    escalated: bool = False


@dataclass(frozen=True)
class ReplayCase:
    case: Case
    at: datetime  # when the agent replied (or escalated)
    conversation_id: str
    outcome: str | None  # the desk's feedback on the reply; None: no draft was recorded


@dataclass(frozen=True)
class History:
    """What the store holds for the bench."""

    cases: int
    replies: int  # cases with an agent reply (the others: escalated without one)
    escalated: int  # cases the agent escalated (with or without a reply)
    conversations: int


def _all_conversations(store: ConversationStore) -> list[ConversationRecord]:
    with store.engine.connect() as conn:
        statuses = list(conn.execute(sa.select(conversations.c.status).distinct()).scalars())
    return store.inbox(statuses=statuses) if statuses else []


def _points(rec: ConversationRecord, feedback: Sequence[dict[str, Any]]) -> list[_Point]:
    """The agent's actions in one conversation that answer customer messages, in order."""
    sends = deque(r for r in feedback if r["sent_text"])  # replies posted from the desk
    escalations = deque(sorted(r["created_at"] for r in feedback if r["outcome"] == ESCALATED))
    points: list[_Point] = []
    turns: list[Message] = []
    waiting = False  # customer messages since the agent last acted
    last: _Point | None = None  # the latest point, until the customer writes again

    def escalations_until(t: datetime | None) -> None:
        nonlocal waiting, last
        while escalations and (t is None or escalations[0] <= t):
            at = escalations.popleft()
            if waiting:  # escalated instead of replying
                last = _Point(list(turns), None, at, ESCALATED, escalated=True)
                points.append(last)
                waiting = False
            elif last is not None:  # replied, then escalated
                last.escalated = True

    for m in rec.messages:
        escalations_until(m.created_at)
        if m.role == "customer":
            turns.append(m)
            waiting, last = True, None
        elif m.role == "agent":
            outcome = None
            if sends and sends[0]["sent_text"] == m.text:
                outcome = str(sends.popleft()["outcome"])
            if waiting:
                last = _Point(list(turns), m, m.created_at, outcome)
                points.append(last)
                waiting = False
            turns.append(m)
    escalations_until(None)
    return points


def _feedback_by_conversation(store: ConversationStore) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in store.feedback_rows():
        out[row["conversation_id"]].append(row)
    return out


def history(store: ConversationStore) -> History:
    """How many cases the store's conversations make (no masking: cheap enough for a page)."""
    feedback = _feedback_by_conversation(store)
    points = [
        (rec.id, p) for rec in _all_conversations(store) for p in _points(rec, feedback[rec.id])
    ]
    return History(
        cases=len(points),
        replies=sum(1 for _, p in points if p.reply is not None),
        escalated=sum(1 for _, p in points if p.escalated),
        conversations=len({cid for cid, _ in points}),
    )


def customer_names(orders: OrderBook) -> Callable[[str | None], list[str]]:
    """The names to mask for a customer id (from the order feed's customer records)."""

    def names(customer_id: str | None) -> list[str]:
        customer = orders.customer(customer_id) if customer_id else None
        return [customer.name] if customer and customer.name else []

    return names


def history_cases(
    store: ConversationStore,
    orders: OrderBook,
    *,
    window_days: int = 7,
    agent_names: Iterable[str] = (),
) -> list[ReplayCase]:
    """Every case of the store, personal data masked, oldest first: the customer's names, and
    the agents' (``agent_names``, e.g. the desk's accounts, and who sent each reply), since
    agents sign their replies. Each case counts, as the desk did, the customer's other
    conversations opened in the ``window_days`` before it."""
    agents = list(agent_names)
    feedback = _feedback_by_conversation(store)
    names = customer_names(orders)
    out: list[ReplayCase] = []
    records = _all_conversations(store)
    opened: dict[str, list[tuple[datetime, str]]] = defaultdict(list)
    for rec in records:
        if rec.customer_id:
            opened[rec.customer_id].append((rec.created_at, rec.id))
    window = timedelta(days=window_days)
    for rec in records:
        points = _points(rec, feedback[rec.id])
        if not points:
            continue
        authors = [m.author for m in rec.messages if m.role == "agent" and m.author]
        masker = Masker.for_names([*names(rec.customer_id), *agents, *authors])
        masked = {
            m.id: masker.mask(m.text) for m in rec.messages if m.role in ("customer", "agent")
        }
        for k, p in enumerate(points, start=1):
            question = masked[p.turns[-1].id]
            case = Case(
                id=f"{rec.id}-{k}",
                lang=detect_language(question)[0],
                conversation=[CaseTurn(role=m.role, text=masked[m.id]) for m in p.turns],
                customer_context=CustomerContext(customer_id=rec.customer_id)
                if rec.customer_id
                else None,
                channel=rec.channel if rec.channel in CHANNELS else None,
                reference_answer=masked[p.reply.id] if p.reply else None,
                should_escalate=p.escalated,
                expected_action="escalate" if p.escalated else "answer",
                group_id=rec.id,
                prior_contacts=sum(
                    1
                    for when, other in opened.get(rec.customer_id or "", [])
                    if other != rec.id and p.at - window <= when <= p.at
                ),
                source={
                    "conversation_id": rec.id,
                    "at": p.at.isoformat(),
                    "desk_outcome": p.outcome,
                    "replied": p.reply is not None,
                },
            )
            out.append(ReplayCase(case, p.at, rec.id, p.outcome))
    return sorted(out, key=lambda c: (c.at, c.case.id))


def counted(n: int, one: str, many: str) -> str:
    """``n`` with the noun that fits it: "1 agent reply", "3 agent replies"."""
    return f"{n} {one if n == 1 else many}"


def not_enough(found: History, needed: int) -> ReplayError:
    return ReplayError(
        f"The conversation store has {counted(found.cases, 'agent reply', 'agent replies')} "
        f"to replay ({found.replies} sent, {found.escalated} escalated, in {found.conversations} "
        f"conversations); the replay bench needs at least {needed}.",
        "Answer or escalate more conversations on the agent desk first, or lower the minimum "
        "(souffleur eval replay --min-cases N; figures on a few cases are only indicative).",
    )
