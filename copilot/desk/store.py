"""Conversations, messages, drafts, agent feedback, the audit log and model-call log, in SQL.

SQLite by default, PostgreSQL by URL (SQLAlchemy Core, ordered migrations). Every change to a
conversation bumps its ``version``; a write that expected another version raises
:class:`ConflictError`, so two browser sessions acting on one conversation never corrupt it:
the second one is told and reloads.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from rapidfuzz.distance import Levenshtein
from sqlalchemy.engine import Connection, Engine

from copilot.types import Conversation, Suggestion, Turn
from knowledge.db import as_utc, create_tables, migrate, now, unbounded_strings_on_postgresql
from knowledge.errors import SouffleurError

metadata = sa.MetaData()

conversations = sa.Table(
    "conversations",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("customer_id", sa.String(128), nullable=True, index=True),
    sa.Column("channel", sa.String(16), nullable=False),
    sa.Column("status", sa.String(16), nullable=False, default="open"),  # open | escalated | closed
    sa.Column("queue", sa.Text, nullable=True),
    sa.Column("version", sa.Integer, nullable=False, default=1),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
)
messages = sa.Table(
    "messages",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column(
        "conversation_id",
        sa.String(64),
        sa.ForeignKey("conversations.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    sa.Column("role", sa.String(16), nullable=False),  # customer | agent | system
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("author", sa.String(128), nullable=True),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
)
drafts = sa.Table(
    "drafts",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column(
        "conversation_id",
        sa.String(64),
        sa.ForeignKey("conversations.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    sa.Column("message_id", sa.Integer, nullable=False),  # the customer message it answers
    sa.Column("suggestion", sa.Text, nullable=False),  # the full Suggestion, JSON
    sa.Column("draft_text", sa.Text, nullable=False),
    sa.Column("edited_text", sa.Text, nullable=False),  # autosaved as the agent types
    sa.Column(
        "status", sa.String(16), nullable=False, default="open"
    ),  # open | sent | discarded | escalated | superseded | proposed | dismissed
    sa.Column("model", sa.String(128), nullable=False),
    sa.Column("prompt_version", sa.String(255), nullable=False),
    sa.Column("confidence", sa.Float, nullable=False),
    sa.Column("escalate", sa.Boolean, nullable=False),
    sa.Column("query", sa.Text, nullable=False, default=""),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
)
feedback = sa.Table(
    "feedback",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("conversation_id", sa.String(64), nullable=False, index=True),
    sa.Column("draft_id", sa.Integer, nullable=True),
    sa.Column("outcome", sa.String(16), nullable=False),  # accepted | edited | rejected | escalated
    sa.Column("drafted_text", sa.Text, nullable=False),
    sa.Column("sent_text", sa.Text, nullable=False),
    sa.Column("edit_ratio", sa.Float, nullable=True),
    sa.Column("seconds_to_send", sa.Float, nullable=True),
    sa.Column("model", sa.String(128), nullable=False),
    sa.Column("prompt_version", sa.String(255), nullable=False),
    sa.Column("confidence", sa.Float, nullable=True),
    sa.Column("reasons", sa.Text, nullable=False, default="[]"),
    sa.Column("queue", sa.Text, nullable=True),
    sa.Column("agent", sa.String(128), nullable=True),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
)
audit = sa.Table(
    "audit_log",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("actor", sa.String(128), nullable=True),
    sa.Column("action", sa.String(64), nullable=False),
    sa.Column("conversation_id", sa.String(64), nullable=True),
    sa.Column("details", sa.Text, nullable=False, default="{}"),
)
model_calls = sa.Table(
    "model_calls",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("conversation_id", sa.String(64), nullable=True),
    sa.Column("drafter", sa.String(128), nullable=False),
    sa.Column("prompt_version", sa.String(255), nullable=False),
    sa.Column("retrieved", sa.Text, nullable=False),
    sa.Column("output", sa.Text, nullable=False),
    sa.Column("prompt_tokens", sa.Integer, nullable=False),
    sa.Column("completion_tokens", sa.Integer, nullable=False),
    sa.Column("latency_ms", sa.Float, nullable=False),
    sa.Column("decision", sa.Text, nullable=False),
)
MIGRATIONS = [
    create_tables(conversations, messages, drafts, feedback, audit, model_calls),
    unbounded_strings_on_postgresql(conversations, messages, drafts, feedback, audit, model_calls),
]

LIGHT_EDIT = (
    0.4  # edit ratio under which an edited draft still counts as accepted (industry heuristic)
)


@dataclass(frozen=True)
class Sent:
    """A posted agent reply and how it compares with its draft."""

    message_id: int
    outcome: str  # accepted | edited | rejected (written without a draft)
    edit_ratio: float | None


class ConflictError(SouffleurError):
    """Someone else changed the conversation since this session loaded it."""


class UnknownConversationError(SouffleurError):
    """No conversation has this id."""


def edit_ratio(drafted: str, sent: str) -> float:
    """Character-level Levenshtein distance / the longer length (0 = sent as drafted)."""
    longest = max(len(drafted), len(sent))
    return Levenshtein.distance(drafted, sent) / longest if longest else 0.0


@dataclass(frozen=True)
class Message:
    id: int
    role: str
    text: str
    author: str | None
    created_at: datetime


@dataclass(frozen=True)
class ConversationRecord:
    id: str
    customer_id: str | None
    channel: str
    status: str
    queue: str | None
    version: int
    created_at: datetime
    updated_at: datetime
    messages: tuple[Message, ...] = ()

    @property
    def last_customer_message(self) -> Message | None:
        return next((m for m in reversed(self.messages) if m.role == "customer"), None)

    @property
    def waiting_since(self) -> datetime | None:
        """When the customer started waiting: their first message after the last agent reply."""
        waiting = None
        for m in self.messages:
            if m.role == "customer" and waiting is None:
                waiting = m.created_at
            elif m.role == "agent":
                waiting = None
        return waiting


@dataclass(frozen=True)
class DraftRecord:
    id: int
    conversation_id: str
    message_id: int
    suggestion: Suggestion
    draft_text: str
    edited_text: str
    status: str
    created_at: datetime


class ConversationStore:
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
        return _conv(row, msgs)

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
            if ids:
                for m in conn.execute(
                    sa.select(messages)
                    .where(messages.c.conversation_id.in_(ids))
                    .order_by(messages.c.id)
                ).mappings():
                    msgs[m["conversation_id"]].append(m)
        records = [_conv(r, msgs[r["id"]]) for r in rows]
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

    # -- drafts ------------------------------------------------------------------------
    def save_draft(
        self, conversation_id: str, message_id: int, suggestion: Suggestion, *, query: str = ""
    ) -> int:
        """Store a new draft for a customer message; earlier open drafts are superseded."""
        with self.engine.begin() as conn:
            return self._insert_draft(conn, conversation_id, message_id, suggestion, query, "open")

    def land_late_draft(
        self,
        conversation_id: str,
        message_id: int,
        shown_draft_id: int,
        suggestion: Suggestion,
        *,
        query: str = "",
    ) -> str:
        """Store a draft that came after ``shown_draft_id`` was shown for the same message (the
        LLM's, after the offline one). It replaces the shown draft while the agent has not
        touched it ("replaced"); once they edited it, it waits as a proposal they may adopt
        ("proposed"); once the message was answered, escalated or redrafted, it is dropped
        ("dropped"). Decided and written in one transaction: an edit is never overwritten."""
        with self.engine.begin() as conn:
            row = conn.execute(
                sa.select(drafts.c.status, drafts.c.draft_text, drafts.c.edited_text).where(
                    drafts.c.id == shown_draft_id, drafts.c.conversation_id == conversation_id
                )
            ).first()
            if row is None or row.status != "open":
                return "dropped"
            untouched = row.edited_text == row.draft_text
            status = "open" if untouched else "proposed"
            self._insert_draft(conn, conversation_id, message_id, suggestion, query, status)
            return "replaced" if untouched else "proposed"

    def proposed_draft(self, conversation_id: str) -> DraftRecord | None:
        """A late draft waiting for the agent, for the message the open draft answers."""
        current = self.current_draft(conversation_id)
        if current is None:
            return None
        with self.engine.connect() as conn:
            row = (
                conn.execute(
                    sa.select(drafts)
                    .where(
                        drafts.c.conversation_id == conversation_id,
                        drafts.c.message_id == current.message_id,
                        drafts.c.status == "proposed",
                        drafts.c.id > current.id,
                    )
                    .order_by(drafts.c.id.desc())
                )
                .mappings()
                .first()
            )
        return _draft(row) if row else None

    def settle_proposed(self, conversation_id: str, draft_id: int, *, adopt: bool) -> None:
        """The agent takes the proposed draft (it becomes the open one; their edit stays in the
        superseded row) or dismisses it."""
        stamp = now()
        with self.engine.begin() as conn:
            hit = conn.execute(
                sa.update(drafts)
                .where(
                    drafts.c.id == draft_id,
                    drafts.c.conversation_id == conversation_id,
                    drafts.c.status == "proposed",
                )
                .values(status="open" if adopt else "dismissed", updated_at=stamp)
            ).rowcount
            if hit and adopt:
                conn.execute(
                    sa.update(drafts)
                    .where(
                        drafts.c.conversation_id == conversation_id,
                        drafts.c.status == "open",
                        drafts.c.id != draft_id,
                    )
                    .values(status="superseded", updated_at=stamp)
                )

    @staticmethod
    def _insert_draft(
        conn: Connection,
        conversation_id: str,
        message_id: int,
        suggestion: Suggestion,
        query: str,
        status: str,
    ) -> int:
        stamp = now()
        if status == "open":
            conn.execute(
                sa.update(drafts)
                .where(drafts.c.conversation_id == conversation_id, drafts.c.status == "open")
                .values(status="superseded", updated_at=stamp)
            )
        did = conn.execute(
            sa.insert(drafts).values(
                conversation_id=conversation_id,
                message_id=message_id,
                suggestion=suggestion.model_dump_json(),
                draft_text=suggestion.draft,
                edited_text=suggestion.draft,
                status=status,
                model=suggestion.model,
                prompt_version=suggestion.prompt_version,
                confidence=suggestion.confidence,
                escalate=suggestion.escalation.escalate,
                query=query,
                created_at=stamp,
                updated_at=stamp,
            )
        ).inserted_primary_key
        return int(did[0]) if did else 0

    def current_draft(self, conversation_id: str) -> DraftRecord | None:
        with self.engine.connect() as conn:
            row = (
                conn.execute(
                    sa.select(drafts)
                    .where(drafts.c.conversation_id == conversation_id, drafts.c.status == "open")
                    .order_by(drafts.c.id.desc())
                )
                .mappings()
                .first()
            )
        return _draft(row) if row else None

    def draft_status(self, conversation_id: str, message_id: int) -> str | None:
        """Status of the latest draft answering this customer message (None: never drafted)."""
        with self.engine.connect() as conn:
            return (
                conn.execute(
                    sa.select(drafts.c.status)
                    .where(
                        drafts.c.conversation_id == conversation_id,
                        drafts.c.message_id == message_id,
                        drafts.c.status.not_in(("proposed", "dismissed")),
                    )
                    .order_by(drafts.c.id.desc())
                )
                .scalars()
                .first()
            )

    def autosave(self, draft_id: int, text: str) -> None:
        """Keep the agent's edit (called at every rerun): a reload or a crash never loses it."""
        with self.engine.begin() as conn:
            conn.execute(
                sa.update(drafts)
                .where(
                    drafts.c.id == draft_id, drafts.c.status == "open", drafts.c.edited_text != text
                )
                .values(edited_text=text, updated_at=now())
            )

    # -- agent actions -----------------------------------------------------------------
    def send(
        self,
        conversation_id: str,
        text: str,
        *,
        agent: str | None,
        expected_version: int,
        draft_id: int | None = None,
    ) -> Sent:
        """Post the agent's reply and record the feedback row. Raises ConflictError on a stale version."""
        if not text.strip():
            raise SouffleurError("The reply is empty.", "Write a reply, or click Regenerate.")
        stamp = now()
        with self.engine.begin() as conn:
            self._bump(conn, conversation_id, expected_version)
            mid = conn.execute(
                sa.insert(messages).values(
                    conversation_id=conversation_id,
                    role="agent",
                    text=text,
                    author=agent,
                    created_at=stamp,
                )
            ).inserted_primary_key
            draft = self._draft_row(conn, draft_id)
            drafted = draft["draft_text"] if draft else ""
            ratio = edit_ratio(drafted, text) if draft else None
            outcome = "accepted" if draft and text == drafted else "edited" if draft else "rejected"
            waited = self._waiting_seconds(conn, conversation_id, stamp)
            self._feedback(
                conn,
                conversation_id,
                draft,
                outcome,
                sent=text,
                ratio=ratio,
                waited=waited,
                agent=agent,
                queue=None,
            )
            if draft:
                conn.execute(
                    sa.update(drafts)
                    .where(drafts.c.id == draft["id"])
                    .values(status="sent", edited_text=text, updated_at=stamp)
                )
            self._audit(
                conn,
                agent,
                "reply.sent",
                conversation_id,
                {"draft_id": draft_id, "outcome": outcome, "edit_ratio": ratio},
            )
        return Sent(int(mid[0]) if mid else 0, outcome, ratio)

    def escalate(
        self,
        conversation_id: str,
        *,
        queue: str,
        summary: str,
        agent: str | None,
        expected_version: int,
        draft_id: int | None = None,
    ) -> None:
        stamp = now()
        with self.engine.begin() as conn:
            self._bump(conn, conversation_id, expected_version, status="escalated", queue=queue)
            conn.execute(
                sa.insert(messages).values(
                    conversation_id=conversation_id,
                    role="system",
                    text=f"Escalated to {queue}.\n{summary}",
                    author=agent,
                    created_at=stamp,
                )
            )
            draft = self._draft_row(conn, draft_id)
            self._feedback(
                conn,
                conversation_id,
                draft,
                "escalated",
                sent="",
                ratio=None,
                waited=self._waiting_seconds(conn, conversation_id, stamp),
                agent=agent,
                queue=queue,
            )
            if draft:
                conn.execute(
                    sa.update(drafts)
                    .where(drafts.c.id == draft["id"])
                    .values(status="escalated", updated_at=stamp)
                )
            self._audit(conn, agent, "conversation.escalated", conversation_id, {"queue": queue})

    def discard(self, conversation_id: str, draft_id: int, *, agent: str | None) -> None:
        stamp = now()
        with self.engine.begin() as conn:
            draft = self._draft_row(conn, draft_id)
            if draft is None or draft["status"] != "open":
                return
            conn.execute(
                sa.update(drafts)
                .where(drafts.c.id == draft_id)
                .values(status="discarded", updated_at=stamp)
            )
            self._feedback(
                conn,
                conversation_id,
                draft,
                "rejected",
                sent="",
                ratio=None,
                waited=None,
                agent=agent,
                queue=None,
            )
            self._audit(conn, agent, "draft.discarded", conversation_id, {"draft_id": draft_id})

    # -- logs and analytics ------------------------------------------------------------
    def log_call(self, conversation_id: str | None, suggestion: Suggestion) -> None:
        """One row per suggestion: what was retrieved, what came out, tokens, latency, decision."""
        with self.engine.begin() as conn:
            conn.execute(
                sa.insert(model_calls).values(
                    at=now(),
                    conversation_id=conversation_id,
                    drafter=suggestion.model,
                    prompt_version=suggestion.prompt_version,
                    retrieved=json.dumps([p.chunk_id for p in suggestion.retrieved]),
                    output=suggestion.draft,
                    prompt_tokens=suggestion.usage.prompt_tokens,
                    completion_tokens=suggestion.usage.completion_tokens,
                    latency_ms=suggestion.timings.total_ms,
                    decision=json.dumps(
                        {
                            "escalate": suggestion.escalation.escalate,
                            "reasons": suggestion.escalation.codes,
                            "confidence": suggestion.confidence,
                        }
                    ),
                )
            )

    def calls(self, conversation_id: str | None = None) -> list[dict[str, Any]]:
        """The logged suggestions, oldest first (of one conversation, or all)."""
        q = sa.select(model_calls).order_by(model_calls.c.id)
        if conversation_id is not None:
            q = q.where(model_calls.c.conversation_id == conversation_id)
        with self.engine.connect() as conn:
            return [dict(r) for r in conn.execute(q).mappings()]

    def feedback_rows(self, *, since: datetime | None = None) -> list[dict[str, Any]]:
        q = sa.select(feedback).order_by(feedback.c.id)
        if since is not None:
            q = q.where(feedback.c.created_at >= since)
        with self.engine.connect() as conn:
            rows = [dict(r) for r in conn.execute(q).mappings()]
        for r in rows:
            r["reasons"] = json.loads(r["reasons"] or "[]")
            r["created_at"] = as_utc(r["created_at"])
        return rows

    def draft_rows(self, *, since: datetime | None = None) -> list[dict[str, Any]]:
        """Every draft (of the last days), with the customer message it answers."""
        q = sa.select(
            drafts.c.id,
            drafts.c.conversation_id,
            drafts.c.query,
            drafts.c.confidence,
            drafts.c.escalate,
            drafts.c.suggestion,
            drafts.c.created_at,
            drafts.c.status,
            messages.c.text.label("message_text"),
        ).select_from(drafts.outerjoin(messages, messages.c.id == drafts.c.message_id))
        if since is not None:
            q = q.where(drafts.c.created_at >= since)
        with self.engine.connect() as conn:
            return [dict(r) for r in conn.execute(q.order_by(drafts.c.id)).mappings()]

    # -- internals ---------------------------------------------------------------------
    def _bump(
        self, conn: Connection, conversation_id: str, expected: int | None, **values: Any
    ) -> None:
        values = {k: v for k, v in values.items() if v is not None}
        cond = [conversations.c.id == conversation_id]
        if expected is not None:
            cond.append(conversations.c.version == expected)
        updated = conn.execute(
            sa.update(conversations)
            .where(*cond)
            .values(version=conversations.c.version + 1, updated_at=now(), **values)
        ).rowcount
        if not updated:
            if (
                conn.execute(
                    sa.select(conversations.c.id).where(conversations.c.id == conversation_id)
                ).first()
                is None
            ):
                raise UnknownConversationError(
                    f"No conversation '{conversation_id}'.", "Pick one from the inbox."
                )
            raise ConflictError(
                "This conversation was changed in another window or by another agent since you opened it.",
                "It has been reloaded: check the latest messages, then act again.",
            )

    @staticmethod
    def _draft_row(conn: Connection, draft_id: int | None) -> Any:
        if draft_id is None:
            return None
        return conn.execute(sa.select(drafts).where(drafts.c.id == draft_id)).mappings().first()

    @staticmethod
    def _waiting_seconds(conn: Connection, conversation_id: str, at: datetime) -> float | None:
        msgs = conn.execute(
            sa.select(messages.c.role, messages.c.created_at)
            .where(messages.c.conversation_id == conversation_id)
            .order_by(messages.c.id)
        ).all()
        waiting = None
        for role, created in msgs:
            if role == "customer" and waiting is None:
                waiting = as_utc(created)
            elif role == "agent" and as_utc(created) < at:
                waiting = None
        return (at - waiting).total_seconds() if waiting else None

    @staticmethod
    def _feedback(
        conn: Connection,
        conversation_id: str,
        draft: Any,
        outcome: str,
        *,
        sent: str,
        ratio: float | None,
        waited: float | None,
        agent: str | None,
        queue: str | None,
    ) -> None:
        suggestion = Suggestion.model_validate_json(draft["suggestion"]) if draft else None
        conn.execute(
            sa.insert(feedback).values(
                conversation_id=conversation_id,
                draft_id=draft["id"] if draft else None,
                outcome=outcome,
                drafted_text=draft["draft_text"] if draft else "",
                sent_text=sent,
                edit_ratio=ratio,
                seconds_to_send=waited,
                model=draft["model"] if draft else "",
                prompt_version=draft["prompt_version"] if draft else "",
                confidence=draft["confidence"] if draft else None,
                reasons=json.dumps(suggestion.escalation.codes if suggestion else []),
                queue=queue,
                agent=agent,
                created_at=now(),
            )
        )

    @staticmethod
    def _audit(
        conn: Connection,
        actor: str | None,
        action: str,
        conversation_id: str | None,
        details: dict[str, Any],
    ) -> None:
        conn.execute(
            sa.insert(audit).values(
                at=now(),
                actor=actor,
                action=action,
                conversation_id=conversation_id,
                details=json.dumps(details, default=str),
            )
        )


def _conv(row: Any, msgs: Sequence[Any]) -> ConversationRecord:
    return ConversationRecord(
        id=row["id"],
        customer_id=row["customer_id"],
        channel=row["channel"],
        status=row["status"],
        queue=row["queue"],
        version=row["version"],
        created_at=as_utc(row["created_at"]),
        updated_at=as_utc(row["updated_at"]),
        messages=tuple(
            Message(m["id"], m["role"], m["text"], m["author"], as_utc(m["created_at"]))
            for m in msgs
        ),
    )


def _draft(row: Any) -> DraftRecord:
    return DraftRecord(
        id=row["id"],
        conversation_id=row["conversation_id"],
        message_id=row["message_id"],
        suggestion=Suggestion.model_validate_json(row["suggestion"]),
        draft_text=row["draft_text"],
        edited_text=row["edited_text"],
        status=row["status"],
        created_at=as_utc(row["created_at"]),
    )
