"""What the gateway takes in and gives back as JSON: a customer's message from any channel (with
its attachments), and a suggestion as the HTTP API and the help-desk adapters show it."""

from __future__ import annotations

from pydantic import BaseModel, Field, field_validator

from copilot.desk.store import DraftRecord
from copilot.types import Channel

MAX_TEXT = 20_000  # characters of one inbound message (a chat message, not a document)
MAX_ATTACHMENTS = 20


class Attachment(BaseModel):
    name: str = Field(min_length=1, max_length=500)
    content_type: str = Field("application/octet-stream", max_length=200)
    url: str = Field("", max_length=4000)
    size: int | None = Field(None, ge=0)


class InboundMessage(BaseModel):
    """A customer's message from any channel."""

    channel: str = Field(
        min_length=1,
        max_length=32,
        pattern=r"^[a-z0-9][a-z0-9_.-]*$",
        examples=["whatsapp"],
        description="Where the conversation lives (with `conversation`, it names it).",
    )
    medium: Channel | None = Field(
        None,
        description="How the customer writes, for the draft's length and style; default: the "
        "channel when it is one of these, else web.",
    )
    conversation: str = Field(
        min_length=1, max_length=200, description="The conversation's id on that channel."
    )
    text: str = Field("", max_length=MAX_TEXT)
    event_id: str | None = Field(
        None, max_length=200, description="Delivered twice, the same event is stored once."
    )
    customer_id: str | None = Field(None, max_length=128)
    email: str | None = Field(None, max_length=320, description="Matched to a customer.")
    attachments: list[Attachment] = Field(default_factory=list, max_length=MAX_ATTACHMENTS)

    @field_validator("conversation", "event_id", "customer_id", "email")
    @classmethod
    def _stripped(cls, value: str | None) -> str | None:
        return value.strip() if isinstance(value, str) else value


class CitationOut(BaseModel):
    sentence: str
    doc_ids: list[str]
    titles: list[str]
    urls: list[str]
    quotes: list[str]


class ReasonOut(BaseModel):
    code: str
    label: str
    detail: str = ""


class SuggestionOut(BaseModel):
    draft_id: int
    message_id: int = Field(description="The customer message it answers.")
    status: str
    text: str = Field(description="The draft as the agent last left it.")
    drafted: str = Field(description="The draft as Souffleur wrote it.")
    citations: list[CitationOut]
    escalate: bool
    reasons: list[ReasonOut]
    queue: str | None
    handoff_summary: str
    confidence: float
    needs_review: bool
    clarify: str | None  # "order" (which one: clarify_orders) or "details" (what about)
    clarify_orders: list[str]
    language: str
    drafter: str
    model: str


def suggestion_out(d: DraftRecord) -> SuggestionOut:
    s = d.suggestion
    return SuggestionOut(
        draft_id=d.id,
        message_id=d.message_id,
        status=d.status,
        text=d.edited_text,
        drafted=d.draft_text,
        citations=[
            CitationOut(
                sentence=c.sentence,
                doc_ids=c.doc_ids,
                titles=c.titles,
                urls=c.urls,
                quotes=c.snippets,
            )
            for c in s.citations
        ],
        escalate=s.escalation.escalate,
        reasons=[
            ReasonOut(code=r.code, label=r.label, detail=r.detail) for r in s.escalation.reasons
        ],
        queue=s.escalation.queue,
        handoff_summary=s.escalation.handoff_summary,
        confidence=s.confidence,
        needs_review=s.needs_review,
        clarify=s.clarify,
        clarify_orders=s.clarify_orders,
        language=s.language,
        drafter=s.drafter,
        model=s.model,
    )
