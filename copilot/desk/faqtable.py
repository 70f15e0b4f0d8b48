"""The FAQ drafts table (its own migrations, namespace "copilot.faqdrafts"), a draft as read
back, and the writes that change one: a new draft, more examples, a decision, an approval undone.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from copilot.desk.faqmatching import Reply
from copilot.desk.store import as_utc, now
from knowledge.db import create_tables, unbounded_strings_on_postgresql
from knowledge.errors import SouffleurError

STATUSES = ("pending", "approved", "rejected")

metadata = sa.MetaData()
faq_drafts = sa.Table(
    "faq_drafts",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("status", sa.String(16), nullable=False, index=True),  # pending|approved|rejected
    sa.Column("origin", sa.String(16), nullable=False),  # conversations | gap
    sa.Column("question", sa.Text, nullable=False),
    sa.Column("answer", sa.Text, nullable=False),
    sa.Column("examples", sa.Text, nullable=False, default="[]"),  # customers' questions, JSON
    sa.Column("lang", sa.String(8), nullable=False),
    sa.Column("conversation_ids", sa.Text, nullable=False, default="[]"),
    sa.Column("feedback_ids", sa.Text, nullable=False, default="[]"),
    sa.Column("created_by", sa.String(128), nullable=True),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("decided_by", sa.String(128), nullable=True),
    sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("doc_id", sa.String(255), nullable=True),  # the document its approval ingested
)
MIGRATIONS = [create_tables(faq_drafts), unbounded_strings_on_postgresql(faq_drafts)]


class FaqDraftError(SouffleurError):
    """A FAQ draft cannot be approved or rejected as asked."""


class PersonalDataError(FaqDraftError):
    """The text to approve still holds personal data (or a placeholder standing for it)."""


@dataclass(frozen=True)
class FaqDraft:
    id: int
    status: str
    origin: str
    question: str
    answer: str
    examples: tuple[str, ...]
    lang: str
    conversation_ids: tuple[str, ...]
    feedback_ids: tuple[int, ...]
    created_by: str | None
    created_at: datetime
    decided_by: str | None = None
    decided_at: datetime | None = None
    doc_id: str | None = None


class FaqTable:
    """The reads and writes of the FAQ drafts table that :class:`copilot.desk.faqdrafts.FaqDrafts`
    is built on."""

    engine: Engine

    def entries(self, status: str | None = None) -> list[FaqDraft]:
        q = sa.select(faq_drafts).order_by(faq_drafts.c.id)
        if status is not None:
            if status not in STATUSES:
                raise FaqDraftError(
                    f"There is no FAQ draft status '{status}'.",
                    f"Use one of: {', '.join(STATUSES)}.",
                )
            q = q.where(faq_drafts.c.status == status)
        with self.engine.connect() as conn:
            return [faq_draft(r) for r in conn.execute(q).mappings()]

    def get(self, draft_id: int) -> FaqDraft:
        with self.engine.connect() as conn:
            row = (
                conn.execute(sa.select(faq_drafts).where(faq_drafts.c.id == draft_id))
                .mappings()
                .first()
            )
        if row is None:
            raise FaqDraftError(
                f"There is no FAQ draft {draft_id}.",
                "`souffleur faq list` (or the Knowledge page's FAQ drafts tab) shows them.",
            )
        return faq_draft(row)

    def _pending(self, draft_id: int, verb: str) -> FaqDraft:
        draft = self.get(draft_id)
        if draft.status != "pending":
            raise FaqDraftError(
                f"FAQ draft {draft_id} was already {draft.status}"
                + (f" by {draft.decided_by}" if draft.decided_by else "")
                + (f" on {draft.decided_at:%Y-%m-%d %H:%M}" if draft.decided_at else "")
                + f"; only a pending draft can be {verb}.",
                "To change an approved FAQ, edit or delete its document on the Knowledge page."
                if draft.status == "approved"
                else "Nothing to do: `souffleur faq list --status pending` shows what is left.",
            )
        return draft

    def _pending_again(self, draft: FaqDraft) -> None:
        """Undo an approval whose ingestion failed: the draft is pending, as it was."""
        with self.engine.begin() as conn:
            conn.execute(
                sa.update(faq_drafts)
                .where(faq_drafts.c.id == draft.id)
                .values(
                    status="pending",
                    question=draft.question,
                    answer=draft.answer,
                    decided_by=None,
                    decided_at=None,
                    doc_id=None,
                )
            )

    def _decide(
        self, draft_id: int, status: str, by: str | None, at: datetime, **values: Any
    ) -> None:
        with self.engine.begin() as conn:
            changed = conn.execute(
                sa.update(faq_drafts)
                .where(faq_drafts.c.id == draft_id, faq_drafts.c.status == "pending")
                .values(status=status, decided_by=by, decided_at=at, **values)
            ).rowcount
        if not changed:  # decided by someone else between our read and this write
            self._pending(draft_id, status)
            raise FaqDraftError(  # decided, then set back to pending (its ingestion failed)
                f"FAQ draft {draft_id} changed while you decided.",
                "Read it again (`souffleur faq list --status pending`), then decide.",
            )

    def _insert(
        self,
        *,
        origin: str,
        question: str,
        answer: str,
        examples: Sequence[str],
        lang: str,
        conversation_ids: Sequence[str],
        feedback_ids: Sequence[int],
        author: str | None,
    ) -> FaqDraft:
        with self.engine.begin() as conn:
            key = conn.execute(
                sa.insert(faq_drafts).values(
                    status="pending",
                    origin=origin,
                    question=question,
                    answer=answer,
                    examples=json.dumps(list(examples), ensure_ascii=False),
                    lang=lang,
                    conversation_ids=json.dumps(list(conversation_ids)),
                    feedback_ids=json.dumps(list(feedback_ids)),
                    created_by=author,
                    created_at=now(),
                )
            ).inserted_primary_key
        return self.get(int(key[0]) if key else 0)

    def _extend(self, draft: FaqDraft, group: Sequence[Reply]) -> FaqDraft:
        """More customers asked a pending draft's question: their words and provenance join it."""
        with self.engine.begin() as conn:
            conn.execute(
                sa.update(faq_drafts)
                .where(faq_drafts.c.id == draft.id)
                .values(
                    examples=json.dumps(
                        unique([*draft.examples, *(r.question for r in group)]),
                        ensure_ascii=False,
                    ),
                    conversation_ids=json.dumps(
                        unique([*draft.conversation_ids, *(r.conversation_id for r in group)])
                    ),
                    feedback_ids=json.dumps([*draft.feedback_ids, *(r.feedback_id for r in group)]),
                )
            )
        return self.get(draft.id)

    def _taken_feedback(self) -> set[int]:
        with self.engine.connect() as conn:
            return {
                int(i)
                for (ids,) in conn.execute(sa.select(faq_drafts.c.feedback_ids))
                for i in json.loads(ids or "[]")
            }


def unique(values: Any) -> list[Any]:
    return list(dict.fromkeys(values))


def faq_draft(row: Any) -> FaqDraft:
    return FaqDraft(
        id=int(row["id"]),
        status=row["status"],
        origin=row["origin"],
        question=row["question"],
        answer=row["answer"],
        examples=tuple(json.loads(row["examples"] or "[]")),
        lang=row["lang"],
        conversation_ids=tuple(json.loads(row["conversation_ids"] or "[]")),
        feedback_ids=tuple(int(i) for i in json.loads(row["feedback_ids"] or "[]")),
        created_by=row["created_by"],
        created_at=as_utc(row["created_at"]),
        decided_by=row["decided_by"],
        decided_at=as_utc(row["decided_at"]) if row["decided_at"] else None,
        doc_id=row["doc_id"],
    )
