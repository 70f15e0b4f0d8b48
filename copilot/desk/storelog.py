"""The conversation store read for analytics and audit: the log of suggestions (one row each:
retrieved, output, tokens, latency, decision), the agents' feedback rows, every draft with the
message it answers."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from copilot.desk.storebase import StoreBase
from copilot.desk.storeschema import drafts, feedback, messages, model_calls
from copilot.types import Suggestion
from knowledge.db import as_utc, now


class StoreLog(StoreBase):
    """The logs and analytics part of :class:`copilot.desk.store.ConversationStore`."""

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
