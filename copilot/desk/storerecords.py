"""What the conversation store gives back: a conversation with its messages, a draft, a posted
reply and how it compares with its draft; and the store's errors."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from rapidfuzz.distance import Levenshtein

from copilot.types import Suggestion
from knowledge.db import as_utc
from knowledge.errors import SouffleurError

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


def conversation_record(row: Any, msgs: Sequence[Any]) -> ConversationRecord:
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


def draft_record(row: Any) -> DraftRecord:
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
