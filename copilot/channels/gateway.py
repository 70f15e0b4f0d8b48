"""Conversations that come from outside: any channel's inbound messages, and the replies that go
back out. The HTTP API (``faces.api``) and the help-desk adapters call this; it calls the
desk service, so a message that arrives here is drafted, shown and sent exactly as one typed
into the app.

An outside conversation is known by its channel and its id there (a Chatwoot conversation
number, a WhatsApp thread): the first message creates the desk conversation, the next ones join
it. An event delivered twice (same channel and event id) is stored once. Attachments are kept
beside their message (name, type, address) and shown to the agent, never dropped; a message
that is only an attachment reads as its file names.

The messages it takes and the suggestions it gives, as JSON, are in ``payloads``.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import get_args

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from copilot.channels.payloads import Attachment, InboundMessage, SuggestionOut, suggestion_out
from copilot.desk.desk import Desk
from copilot.desk.store import DraftRecord, Sent, UnknownConversationError, now
from copilot.types import Channel
from knowledge.db import create_tables, migrate, unbounded_strings_on_postgresql
from knowledge.errors import SouffleurError

metadata = sa.MetaData()
external_conversations = sa.Table(
    "external_conversations",
    metadata,
    sa.Column("channel", sa.String(32), primary_key=True),
    sa.Column("external_id", sa.String(200), primary_key=True),
    sa.Column("conversation_id", sa.String(64), nullable=False, index=True),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
)
inbound_events = sa.Table(
    "inbound_events",
    metadata,
    sa.Column("channel", sa.String(32), primary_key=True),
    sa.Column("event_id", sa.String(200), primary_key=True),
    sa.Column("conversation_id", sa.String(64), nullable=True),
    sa.Column("message_id", sa.Integer, nullable=True),  # None while the first delivery runs
    sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
)
attachments = sa.Table(
    "attachments",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("conversation_id", sa.String(64), nullable=False, index=True),
    sa.Column("message_id", sa.Integer, nullable=False, index=True),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("content_type", sa.Text, nullable=False),
    sa.Column("url", sa.Text, nullable=False),
    sa.Column("size", sa.Integer, nullable=True),
)
MIGRATIONS = [
    create_tables(external_conversations, inbound_events, attachments),
    unbounded_strings_on_postgresql(external_conversations, inbound_events, attachments),
]


class EmptyMessageError(SouffleurError):
    pass


@dataclass(frozen=True)
class Received:
    conversation_id: str
    message_id: int
    created: bool  # the first message of this outside conversation
    duplicate: bool  # the event was already received: nothing was stored again
    draft: DraftRecord | None


class Gateway:
    def __init__(self, desk: Desk) -> None:
        self.desk = desk
        self.ws = desk.ws
        self.store = desk.store
        self.engine = desk.store.engine
        # drafting is CPU work: as many at once as there are cores, the others queue (threads
        # beyond that only share the cores and the interpreter lock, and all finish later)
        self._drafting = threading.BoundedSemaphore(max(1, os.cpu_count() or 1))
        # told of each new inbound message once its suggestion is drafted (a webhook)
        self.listeners: list[Callable[[Received], None]] = []
        migrate(
            self.engine, "copilot.gateway", MIGRATIONS
        )  # the namespace databases already record

    # -- inbound -----------------------------------------------------------------------
    def receive(self, msg: InboundMessage) -> Received:
        """Store the message in its desk conversation (made on the first one) and draft the
        reply. A repeated event returns what the first delivery stored."""
        text = msg.text.strip() or "\n".join(f"📎 {a.name}" for a in msg.attachments)
        if not text:
            raise EmptyMessageError(
                "The message has no text and no attachment.",
                "Send the customer's text in 'text', or the files in 'attachments'.",
            )
        if msg.event_id and not self._claim(msg.channel, msg.event_id):
            return self._repeat(msg.channel, msg.event_id)
        try:
            cid, created = self._conversation(msg)
            mid = self.store.add_message(cid, "customer", text)
            self._attach(cid, mid, msg.attachments)
        except BaseException:
            if msg.event_id:
                self._release(msg.channel, msg.event_id)  # a retry of this event can land
            raise
        if msg.event_id:
            with self.engine.begin() as conn:
                conn.execute(
                    sa.update(inbound_events)
                    .where(
                        inbound_events.c.channel == msg.channel,
                        inbound_events.c.event_id == msg.event_id,
                    )
                    .values(conversation_id=cid, message_id=mid)
                )
        with self._drafting:
            draft = self.desk.ensure_draft(cid)
        got = Received(cid, mid, created, False, draft)
        for listener in self.listeners:
            listener(got)
        return got

    def _customer_id(self, msg: InboundMessage) -> str | None:
        if msg.customer_id:
            return msg.customer_id
        if msg.email:
            found = self.ws.orders.customer_by_email(msg.email)
            return found.customer_id if found else None
        return None

    def _conversation(self, msg: InboundMessage) -> tuple[str, bool]:
        known = self.conversation_of(msg.channel, msg.conversation)
        if known:
            return known, False
        medium = msg.medium or (msg.channel if msg.channel in get_args(Channel) else "web")
        cid = self.store.create(customer_id=self._customer_id(msg), channel=medium)
        try:
            with self.engine.begin() as conn:
                conn.execute(
                    sa.insert(external_conversations).values(
                        channel=msg.channel,
                        external_id=msg.conversation,
                        conversation_id=cid,
                        created_at=now(),
                    )
                )
        except IntegrityError:
            # the same outside conversation was opened by a concurrent delivery: join it
            self.store.delete(cid)
            known = self.conversation_of(msg.channel, msg.conversation)
            assert known is not None
            return known, False
        return cid, True

    def conversation_of(self, channel: str, external_id: str) -> str | None:
        with self.engine.connect() as conn:
            row = conn.execute(
                sa.select(external_conversations.c.conversation_id).where(
                    external_conversations.c.channel == channel,
                    external_conversations.c.external_id == external_id,
                )
            ).first()
        return row[0] if row else None

    def external_id(self, conversation_id: str) -> tuple[str, str] | None:
        """(channel, id there) of a desk conversation that came from outside."""
        with self.engine.connect() as conn:
            row = conn.execute(
                sa.select(
                    external_conversations.c.channel, external_conversations.c.external_id
                ).where(external_conversations.c.conversation_id == conversation_id)
            ).first()
        return (row[0], row[1]) if row else None

    def address(self, conversation_id: str) -> dict[str, str | None]:
        """Where a conversation lives: its channel and its id there, how the customer writes,
        who the customer is."""
        rec = self.store.get(conversation_id)
        outside = self.external_id(conversation_id)
        return {
            "conversation_id": conversation_id,
            "channel": outside[0] if outside else rec.channel,
            "external_id": outside[1] if outside else None,
            "medium": rec.channel,
            "customer_id": rec.customer_id,
        }

    def _claim(self, channel: str, event_id: str) -> bool:
        try:
            with self.engine.begin() as conn:
                conn.execute(
                    sa.insert(inbound_events).values(
                        channel=channel, event_id=event_id, received_at=now()
                    )
                )
        except IntegrityError:
            return False
        return True

    def _release(self, channel: str, event_id: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                sa.delete(inbound_events).where(
                    inbound_events.c.channel == channel, inbound_events.c.event_id == event_id
                )
            )

    def _repeat(self, channel: str, event_id: str) -> Received:
        with self.engine.connect() as conn:
            row = conn.execute(
                sa.select(inbound_events.c.conversation_id, inbound_events.c.message_id).where(
                    inbound_events.c.channel == channel, inbound_events.c.event_id == event_id
                )
            ).first()
        if row is None or row[1] is None:
            raise DuplicateInFlightError(
                f"Event '{event_id}' is being received by another request.",
                "Retry in a moment: the first delivery's result will be returned.",
            )
        return Received(row[0], int(row[1]), False, True, self.store.current_draft(row[0]))

    def _attach(self, cid: str, mid: int, files: list[Attachment]) -> None:
        if not files:
            return
        with self.engine.begin() as conn:
            for f in files:
                conn.execute(
                    sa.insert(attachments).values(
                        conversation_id=cid,
                        message_id=mid,
                        name=f.name,
                        content_type=f.content_type,
                        url=f.url,
                        size=f.size,
                    )
                )

    def attachments_of(self, conversation_id: str) -> dict[int, list[Attachment]]:
        """The files of each message of a conversation, by message id."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                sa.select(attachments)
                .where(attachments.c.conversation_id == conversation_id)
                .order_by(attachments.c.id)
            ).mappings()
            out: dict[int, list[Attachment]] = {}
            for r in rows:
                out.setdefault(r["message_id"], []).append(
                    Attachment(
                        name=r["name"], content_type=r["content_type"], url=r["url"], size=r["size"]
                    )
                )
        return out

    # -- outbound ---------------------------------------------------------------------
    def reply(
        self,
        conversation_id: str,
        text: str,
        *,
        agent: str | None,
        expected_version: int | None = None,
    ) -> Sent:
        """Send the agent's reply: recorded as the desk's Send records it (drafted vs sent,
        edit ratio, outcome), then handed to the conversation's channel."""
        return self._send(conversation_id, text, agent, expected_version, deliver=True)

    def record_sent(
        self,
        conversation_id: str,
        text: str,
        *,
        agent: str | None,
        expected_version: int | None = None,
    ) -> Sent:
        """Record a reply the agent already sent from another desk, without sending it."""
        return self._send(conversation_id, text, agent, expected_version, deliver=False)

    def _send(
        self,
        conversation_id: str,
        text: str,
        agent: str | None,
        expected_version: int | None,
        *,
        deliver: bool,
    ) -> Sent:
        version = self._version(conversation_id, expected_version)
        return self.desk.send(
            conversation_id, text, agent=agent, expected_version=version, deliver=deliver
        )

    def escalate(
        self, conversation_id: str, *, agent: str | None, expected_version: int | None = None
    ) -> str:
        """Hand the conversation over, as the desk's Escalate does; returns the queue."""
        version = self._version(conversation_id, expected_version)
        return self.desk.escalate(conversation_id, agent=agent, expected_version=version)

    def _version(self, conversation_id: str, expected: int | None) -> int:
        """The version the caller saw, or (an outside desk that does not track versions) the
        current one."""
        return expected if expected is not None else self.store.get(conversation_id).version


class DuplicateInFlightError(SouffleurError):
    pass


__all__ = [
    "Attachment",
    "DuplicateInFlightError",
    "EmptyMessageError",
    "Gateway",
    "InboundMessage",
    "Received",
    "SuggestionOut",  # the payloads are in .payloads, imported from here as before
    "UnknownConversationError",
    "suggestion_out",
]
