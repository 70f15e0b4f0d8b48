"""The drafts of a conversation: saved (superseding the open one), a late LLM draft landed or
proposed, the agent's edits autosaved, the open draft read back."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from copilot.desk.storebase import StoreBase
from copilot.desk.storerecords import DraftRecord, draft_record
from copilot.desk.storeschema import drafts
from copilot.types import Suggestion
from knowledge.db import now


class DraftStore(StoreBase):
    """The drafts part of :class:`copilot.desk.store.ConversationStore`."""

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
        return draft_record(row) if row else None

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
        return draft_record(row) if row else None

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
