"""Conversations, messages, drafts, agent feedback, the audit log and model-call log, in SQL.

One :class:`ConversationStore`, written in parts: the conversations here, their drafts
(``storedrafts``), the agents' actions (``storeactions``), the logs read for analytics
(``storelog``), on the tables of ``storeschema``; what it returns is in ``storerecords``.

SQLite by default, PostgreSQL by URL (SQLAlchemy Core, ordered migrations). Every change to a
conversation bumps its ``version``; a write that expected another version raises
:class:`ConflictError`, so two browser sessions acting on one conversation never corrupt it:
the second one is told and reloads.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from copilot.desk.storeactions import AgentActions
from copilot.desk.storedrafts import DraftStore
from copilot.desk.storelog import StoreLog
from copilot.desk.storerecords import (
    LIGHT_EDIT,
    ConflictError,
    ConversationRecord,
    DraftRecord,
    Message,
    Sent,
    UnknownConversationError,
    conversation_record,
    edit_ratio,
)
from copilot.desk.storeschema import MIGRATIONS, conversations, drafts, messages
from copilot.types import Conversation, Turn
from knowledge.db import as_utc, migrate, now
from knowledge.errors import SouffleurError

# what other modules import from here (the store was one module)
__all__ = [
    "LIGHT_EDIT",
    "MIGRATIONS",
    "ConflictError",
    "ConversationRecord",
    "ConversationStore",
    "DraftRecord",
    "Message",
    "Sent",
    "UnknownConversationError",
    "as_utc",
    "conversations",
    "drafts",
    "edit_ratio",
    "now",
]


IN_SLICE = 10_000  # ids per IN (...) list


class ConversationStore(DraftStore, AgentActions, StoreLog):
    """Conversations and their messages; drafts, agent actions and logs come from its parts."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        migrate(engine, "copilot.store", MIGRATIONS)  # the namespace databases already record

    # -- conversations -----------------------------------------------------------------
    def create(
        self,
        *,
        customer_id: str | None,
        channel: str = "web",
        turns: Sequence[tuple[str, str, datetime | None]] = (),
        conversation_id: str | None = None,
    ) -> str:
        cid = conversation_id or f"c-{secrets.token_hex(5)}"
        stamp = now()
        with self.engine.begin() as conn:
            conn.execute(
                sa.insert(conversations).values(
                    id=cid,
                    customer_id=customer_id,
                    channel=channel,
                    status="open",
                    version=1,
                    created_at=stamp,
                    updated_at=stamp,
                )
            )
            for role, text, at in turns:
                conn.execute(
                    sa.insert(messages).values(
                        conversation_id=cid, role=role, text=text, created_at=at or stamp
                    )
                )
            self._audit(
                conn,
                None,
                "conversation.created",
                cid,
                {"channel": channel, "customer_id": customer_id},
            )
        return cid

    def delete(self, conversation_id: str) -> None:
        """Remove a conversation that was just made and has no message (a lost creation race)."""
        with self.engine.begin() as conn:
            if conn.execute(
                sa.select(messages.c.id).where(messages.c.conversation_id == conversation_id)
            ).first():
                raise SouffleurError(
                    f"Conversation '{conversation_id}' has messages.", "It cannot be deleted."
                )
            conn.execute(sa.delete(conversations).where(conversations.c.id == conversation_id))

    def exists(self, conversation_id: str) -> bool:
        with self.engine.connect() as conn:
            return (
                conn.execute(
                    sa.select(conversations.c.id).where(conversations.c.id == conversation_id)
                ).first()
                is not None
            )

    def get(self, conversation_id: str) -> ConversationRecord:
        with self.engine.connect() as conn:
            row = (
                conn.execute(sa.select(conversations).where(conversations.c.id == conversation_id))
                .mappings()
                .first()
            )
            if row is None:
                raise UnknownConversationError(
                    f"No conversation '{conversation_id}'.", "Pick one from the inbox."
                )
            msgs = (
                conn.execute(
                    sa.select(messages)
                    .where(messages.c.conversation_id == conversation_id)
                    .order_by(messages.c.id)
                )
                .mappings()
                .all()
            )
        return conversation_record(row, msgs)

    def inbox(self, *, statuses: Sequence[str] = ("open",)) -> list[ConversationRecord]:
        """Conversations with their messages, the longest-waiting customer first."""
        with self.engine.connect() as conn:
            rows = (
                conn.execute(
                    sa.select(conversations).where(conversations.c.status.in_(list(statuses)))
                )
                .mappings()
                .all()
            )
            ids = [r["id"] for r in rows]
            msgs: dict[str, list[Any]] = {i: [] for i in ids}
            # by slices: SQLite refuses a statement with more than 32,766 values (a desk's
            # whole history, replayed, holds more conversations than that)
            for start in range(0, len(ids), IN_SLICE):
                for m in conn.execute(
                    sa.select(messages)
                    .where(messages.c.conversation_id.in_(ids[start : start + IN_SLICE]))
                    .order_by(messages.c.id)
                ).mappings():
                    msgs[m["conversation_id"]].append(m)
        records = [conversation_record(r, msgs[r["id"]]) for r in rows]
        far_future = datetime.max.replace(tzinfo=UTC)
        return sorted(records, key=lambda c: (c.waiting_since or far_future, c.id))

    def add_message(
        self,
        conversation_id: str,
        role: str,
        text: str,
        *,
        author: str | None = None,
        at: datetime | None = None,
    ) -> int:
        if not text.strip():
            raise SouffleurError("The message is empty.", "Type something before posting.")
        with self.engine.begin() as conn:
            mid = conn.execute(
                sa.insert(messages).values(
                    conversation_id=conversation_id,
                    role=role,
                    text=text,
                    author=author,
                    created_at=at or now(),
                )
            ).inserted_primary_key
            self._bump(conn, conversation_id, None, status="open" if role == "customer" else None)
        return int(mid[0]) if mid else 0

    def to_conversation(
        self, conversation_id: str, *, customer_name: str | None = None, window_days: int = 7
    ) -> Conversation:
        """The conversation as the copilot sees it, with the customer's recent earlier contacts."""
        rec = self.get(conversation_id)
        prior = 0
        if rec.customer_id:
            since = now() - timedelta(days=window_days)
            with self.engine.connect() as conn:
                prior = int(
                    conn.execute(
                        sa.select(sa.func.count())
                        .select_from(conversations)
                        .where(
                            conversations.c.customer_id == rec.customer_id,
                            conversations.c.id != rec.id,
                            conversations.c.created_at >= since,
                        )
                    ).scalar_one()
                )
        return Conversation(
            id=rec.id,
            customer_id=rec.customer_id,
            customer_name=customer_name,
            channel=rec.channel,
            turns=[
                Turn(role=m.role, text=m.text, at=m.created_at)
                for m in rec.messages
                if m.role in ("customer", "agent")
            ],
            prior_contacts=prior,
        )
