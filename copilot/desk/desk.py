"""The agent desk as a service: what the app's desk page does, without Streamlit.

The Streamlit script only lays out what these methods return, so the same behaviour is
tested without a browser and reused by the CLI.
"""

from __future__ import annotations

import contextvars
import logging
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from datetime import datetime, timedelta
from time import monotonic
from typing import TYPE_CHECKING

from copilot.desk.gaps import KNOWLEDGE_REASONS, Gap, as_placeholders, gap_terms, group_gaps
from copilot.desk.store import ConversationRecord, ConversationStore, DraftRecord, Sent, now
from copilot.pipeline.callcontext import calling
from copilot.pipeline.drafter import OnDelta
from copilot.types import DraftOptions, Suggestion
from knowledge import Customer, Order

if TYPE_CHECKING:  # the wiring builds the desk: only its type is read here
    from copilot.workspace import Workspace

# what other modules import from here (the knowledge gaps were here)
__all__ = [
    "KNOWLEDGE_REASONS",
    "Desk",
    "DeskView",
    "Gap",
    "InboxRow",
    "as_placeholders",
    "band",
    "gap_terms",
]

log = logging.getLogger(__name__)
BANDS = ((60, "fast"), (180, "warning"))  # seconds: under 1 min, 1-3 min, over 3 min


def band(seconds: float | None) -> str:
    if seconds is None:
        return "answered"
    for limit, name in BANDS:
        if seconds < limit:
            return name
    return "late"


@dataclass(frozen=True)
class InboxRow:
    conversation_id: str
    customer_name: str
    channel: str
    preview: str
    waiting_s: float | None
    band: str
    status: str


@dataclass(frozen=True)
class DeskView:
    conversation: ConversationRecord
    customer: Customer | None
    orders: list[Order]
    draft: DraftRecord | None


class Desk:
    def __init__(self, ws: Workspace, store: ConversationStore | None = None) -> None:
        self.ws = ws
        self.store = store or ConversationStore(ws.engine)
        # Model calls run here, a few at a time for the whole process: a slow or rate-limited
        # model never blocks an agent longer than the budget, nor the other agents' desks.
        self._pool = ThreadPoolExecutor(
            max_workers=ws.settings.llm_concurrency, thread_name_prefix="souffleur-llm"
        )
        # shown draft id -> (conversation, set once the model's late draft has landed or failed)
        self._late: dict[int, tuple[str, threading.Event]] = {}
        self._lock = threading.Lock()
        # what takes a sent reply to the customer (a help desk's API, a webhook): called with
        # (conversation id, message id, text) once the reply is recorded
        self.deliverers: list[Callable[[str, int, str], None]] = []

    # -- reading -----------------------------------------------------------------------
    def inbox(
        self,
        *,
        at: datetime | None = None,
        statuses: Sequence[str] = ("open",),
        waiting_only: bool = False,
    ) -> list[InboxRow]:
        """Open conversations, the longest-waiting customer first; ``waiting_only`` leaves out
        those whose last word is the agent's (answered, until the customer writes again)."""
        t = at or now()
        rows = []
        for rec in self.store.inbox(statuses=statuses):
            if waiting_only and rec.waiting_since is None:
                continue
            customer = self.ws.orders.customer(rec.customer_id) if rec.customer_id else None
            last = rec.messages[-1] if rec.messages else None
            waiting = (t - rec.waiting_since).total_seconds() if rec.waiting_since else None
            preview = (last.text if last else "").replace("\n", " ")
            rows.append(
                InboxRow(
                    rec.id,
                    customer.name if customer else (rec.customer_id or "Visitor"),
                    rec.channel,
                    preview[:80] + ("…" if len(preview) > 80 else ""),
                    waiting,
                    band(waiting),
                    rec.status,
                )
            )
        return rows

    def view(self, conversation_id: str) -> DeskView:
        rec = self.store.get(conversation_id)
        customer = self.ws.orders.customer(rec.customer_id) if rec.customer_id else None
        orders = self.ws.orders.orders_of(rec.customer_id) if rec.customer_id else []
        return DeskView(rec, customer, orders, self.store.current_draft(conversation_id))

    # -- drafting ----------------------------------------------------------------------
    def ensure_draft(
        self,
        conversation_id: str,
        options: DraftOptions | None = None,
        on_delta: OnDelta | None = None,
    ) -> DraftRecord | None:
        """A draft for the last customer message: the stored one, or a new suggestion."""
        rec = self.store.get(conversation_id)
        last = rec.messages[-1] if rec.messages else None
        if last is None or last.role != "customer":
            return self.store.current_draft(conversation_id)
        current = self.store.current_draft(conversation_id)
        if current is not None and current.message_id == last.id:
            return current
        return self._draft(rec, last.id, options, on_delta)

    def discarded(self, conversation_id: str) -> bool:
        """True when the agent discarded the draft for the last customer message: the app then
        does not redraft it by itself (the agent writes, or asks for Regenerate)."""
        rec = self.store.get(conversation_id)
        last = rec.messages[-1] if rec.messages else None
        return (
            last is not None
            and last.role == "customer"
            and self.store.draft_status(conversation_id, last.id) == "discarded"
        )

    def regenerate(
        self, conversation_id: str, options: DraftOptions, on_delta: OnDelta | None = None
    ) -> DraftRecord | None:
        rec = self.store.get(conversation_id)
        last = rec.last_customer_message
        return self._draft(rec, last.id, options, on_delta) if last else None

    def _draft(
        self,
        rec: ConversationRecord,
        message_id: int,
        options: DraftOptions | None,
        on_delta: OnDelta | None,
    ) -> DraftRecord | None:
        customer = self.ws.orders.customer(rec.customer_id) if rec.customer_id else None
        conv = self.store.to_conversation(
            rec.id,
            customer_name=customer.name if customer else None,
            window_days=self.ws.service.policy.settings.repeated_contact_window_days,
        )
        from copilot.pipeline.reading import build_query

        query = build_query(conv)
        service = self.ws.service
        late: Future[Suggestion] | None = None
        if service.llm is None:
            suggestion = service.suggest(conv, options)
        else:
            streamed: list[str] = []
            # the pool's thread logs its model calls under this conversation
            with calling(conversation_id=rec.id):
                context = contextvars.copy_context()
            late = self._pool.submit(
                context.run,
                service.suggest,
                conv,
                options,
                on_delta=streamed.append if on_delta else None,
            )
            landed = self._within_budget(late, streamed, on_delta)
            if landed is not None:
                suggestion, late = landed, None
            else:  # the model is slow: the agent gets the offline draft now
                suggestion = service.suggest(conv, options, offline=True)
        shown = self.store.save_draft(rec.id, message_id, suggestion, query=query)
        self.store.log_call(rec.id, suggestion)
        if late is not None:
            with self._lock:
                self._late[shown] = (rec.id, threading.Event())
            late.add_done_callback(lambda f: self._land(rec.id, message_id, shown, f, query))
        return self.store.current_draft(rec.id)

    def _within_budget(
        self, future: Future[Suggestion], streamed: list[str], on_delta: OnDelta | None
    ) -> Suggestion | None:
        """The model's suggestion if it starts within the budget (its first streamed words, or
        the whole reply when nothing streams); the text it streams is passed to ``on_delta`` on
        the caller's thread (Streamlit draws only from there), so the agent watches it come."""
        deadline = monotonic() + self.ws.settings.llm_budget_s
        shown = 0
        while True:
            left = deadline - monotonic()
            done, _ = wait([future], timeout=max(0.0, min(0.1, left)) if not shown else 0.1)
            if on_delta and len(streamed) > shown:
                shown = len(streamed)
                on_delta(streamed[-1])
            if done:
                return future.result()
            if left <= 0 and not shown:
                return None

    def _land(
        self, cid: str, message_id: int, shown: int, future: Future[Suggestion], query: str
    ) -> None:
        try:
            suggestion = future.result()
            self.store.log_call(cid, suggestion)
            if suggestion.drafter != "offline":  # else the model failed: the shown draft stays
                outcome = self.store.land_late_draft(
                    cid, message_id, shown, suggestion, query=query
                )
                log.info("late model draft for %s: %s", cid, outcome)
        except Exception:  # suggest() falls back by itself: this is a bug, not a model fault
            log.exception("late draft of %s failed", cid)
        finally:
            with self._lock:
                late = self._late.pop(shown, None)
            if late is not None:
                late[1].set()

    def drafting_late(self, conversation_id: str) -> bool:
        """True while the model is still writing a draft for this conversation."""
        with self._lock:
            return any(c == conversation_id for c, _ in self._late.values())

    def wait_late(self, conversation_id: str, timeout: float | None = None) -> None:
        """Block until the late model draft of this conversation has landed (CLI, tests)."""
        with self._lock:
            pending = [e for c, e in self._late.values() if c == conversation_id]
        for landed in pending:
            landed.wait(timeout)

    def proposed(self, conversation_id: str) -> DraftRecord | None:
        return self.store.proposed_draft(conversation_id)

    def take_proposed(self, conversation_id: str, draft_id: int, *, adopt: bool) -> None:
        self.store.settle_proposed(conversation_id, draft_id, adopt=adopt)

    # -- actions -----------------------------------------------------------------------
    def post_customer_message(self, conversation_id: str, text: str) -> int:
        return self.store.add_message(conversation_id, "customer", text)

    def new_conversation(self, customer_id: str | None, text: str, channel: str = "web") -> str:
        return self.store.create(
            customer_id=customer_id, channel=channel, turns=[("customer", text, None)]
        )

    def send(
        self,
        conversation_id: str,
        text: str,
        *,
        agent: str | None,
        expected_version: int,
        deliver: bool = True,
    ) -> Sent:
        """Post the agent's reply with its feedback row, then hand it to the conversation's
        channel (``deliver=False``: it was already sent from another desk)."""
        draft = self.store.current_draft(conversation_id)
        sent = self.store.send(
            conversation_id,
            text,
            agent=agent,
            expected_version=expected_version,
            draft_id=draft.id if draft else None,
        )
        if deliver:
            for hand_over in self.deliverers:
                hand_over(conversation_id, sent.message_id, text)
        return sent

    def escalate(self, conversation_id: str, *, agent: str | None, expected_version: int) -> str:
        draft = self.store.current_draft(conversation_id)
        esc = draft.suggestion.escalation if draft else None
        queue = (esc.queue if esc and esc.queue else None) or self.ws.service.policy.queue_label(
            self.ws.service.policy.settings.default_queue, "en"
        )
        summary = esc.handoff_summary if esc else ""
        self.store.escalate(
            conversation_id,
            queue=queue,
            summary=summary,
            agent=agent,
            expected_version=expected_version,
            draft_id=draft.id if draft else None,
        )
        return queue

    def discard(self, conversation_id: str, *, agent: str | None) -> None:
        draft = self.store.current_draft(conversation_id)
        if draft:
            self.store.discard(conversation_id, draft.id, agent=agent)

    # -- knowledge gaps ----------------------------------------------------------------
    def knowledge_gaps(
        self, *, days: int = 7, max_confidence: float = 0.35, similarity: float = 0.34
    ) -> list[Gap]:
        """Customer questions of the last ``days`` with weak retrieval evidence, grouped by the
        content words they share (Jaccard >= ``similarity``): the most asked first, then the
        most recent. A question escalated for another reason than missing knowledge (a GDPR
        request, anger, a legal threat: the policy's triggers) is no gap and is left out. The
        questions are shown as customers wrote them, personal data and numbers replaced by
        placeholders ([EMAIL], [AMOUNT], [NUMBER] for order and tracking numbers)."""
        since = now() - timedelta(days=days)
        return group_gaps(
            self.store.draft_rows(since=since),
            max_confidence=max_confidence,
            similarity=similarity,
        )
