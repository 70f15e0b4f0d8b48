"""The writes every part of the conversation store shares: the version check that refuses a
stale write (:class:`ConflictError`), the feedback row of an agent's action, the audit row."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from copilot.desk.storerecords import ConflictError, UnknownConversationError
from copilot.desk.storeschema import audit, conversations, drafts, feedback, messages
from copilot.types import Suggestion
from knowledge.db import as_utc, now


class StoreBase:
    """What :class:`copilot.desk.store.ConversationStore` and its parts (drafts, agent actions,
    logs) write with: one engine, and these helpers inside their transactions."""

    engine: Engine

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
