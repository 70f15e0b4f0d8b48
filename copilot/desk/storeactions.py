"""What an agent does with a conversation: send a reply, escalate it, discard its draft; each
writes its feedback row (drafted vs sent, outcome, time to send) and its audit row."""

from __future__ import annotations

import sqlalchemy as sa

from copilot.desk.storebase import StoreBase
from copilot.desk.storerecords import Sent, edit_ratio
from copilot.desk.storeschema import drafts, messages
from knowledge.db import now
from knowledge.errors import SouffleurError


class AgentActions(StoreBase):
    """The agent actions part of :class:`copilot.desk.store.ConversationStore`."""

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
