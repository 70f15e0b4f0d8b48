"""Conversation routes: a customer's message in from any channel, the conversation and its
suggestion (JSON or Server-Sent Events), the agent's reply, feedback and escalation."""

from __future__ import annotations

import json
import queue
import threading
from collections.abc import Iterator

from fastapi import APIRouter, Response
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field

from copilot.channels.gateway import Attachment, InboundMessage, SuggestionOut, suggestion_out
from copilot.desk.store import Sent
from copilot.types import DraftOptions
from faces.api_routes.auth import ConversationsToken
from faces.api_routes.errors import ApiError
from faces.api_routes.services import ServicesDep
from knowledge.errors import SouffleurError

router = APIRouter(tags=["conversations"])


class ReceivedOut(BaseModel):
    conversation_id: str
    message_id: int
    created: bool
    duplicate: bool
    suggestion: SuggestionOut | None


class MessageOut(BaseModel):
    id: int
    role: str
    text: str
    author: str | None
    created_at: str
    attachments: list[Attachment]


class ConversationOut(BaseModel):
    id: str
    channel: str
    external_id: str | None
    customer_id: str | None
    status: str
    queue: str | None
    version: int
    messages: list[MessageOut]
    suggestion: SuggestionOut | None


class ReplyIn(BaseModel):
    text: str = Field(min_length=1, max_length=20_000)
    agent: str | None = Field(None, max_length=128)
    expected_version: int | None = Field(
        None, description="The conversation version the agent saw: a newer one gives 409."
    )


class SentOut(BaseModel):
    message_id: int
    outcome: str = Field(description="accepted | edited | rejected (written without a draft)")
    edit_ratio: float | None


class EscalateIn(BaseModel):
    agent: str | None = Field(None, max_length=128)
    expected_version: int | None = None


@router.post("/v1/messages", status_code=201)
def inbound(
    msg: InboundMessage, response: Response, _: ConversationsToken, services: ServicesDep
) -> ReceivedOut:
    """A customer's message from any channel: the conversation appears in the desk with
    its draft. The same event id delivered again returns the first result (200)."""
    got = services.gateway.receive(msg)
    out = ReceivedOut(
        conversation_id=got.conversation_id,
        message_id=got.message_id,
        created=got.created,
        duplicate=got.duplicate,
        suggestion=suggestion_out(got.draft) if got.draft else None,
    )
    if got.duplicate:
        response.status_code = 200
    return out


@router.get("/v1/conversations/{conversation_id}")
def conversation(
    conversation_id: str, _: ConversationsToken, services: ServicesDep
) -> ConversationOut:
    desk, gateway = services.desk, services.gateway
    rec = desk.store.get(conversation_id)
    files = gateway.attachments_of(conversation_id)
    draft = desk.store.current_draft(conversation_id)
    outside = gateway.external_id(conversation_id)
    return ConversationOut(
        id=rec.id,
        channel=rec.channel,
        external_id=outside[1] if outside else None,
        customer_id=rec.customer_id,
        status=rec.status,
        queue=rec.queue,
        version=rec.version,
        messages=[
            MessageOut(
                id=m.id,
                role=m.role,
                text=m.text,
                author=m.author,
                created_at=m.created_at.isoformat(),
                attachments=files.get(m.id, []),
            )
            for m in rec.messages
        ],
        suggestion=suggestion_out(draft) if draft else None,
    )


@router.get("/v1/conversations/{conversation_id}/suggestion")
def suggestion(conversation_id: str, _: ConversationsToken, services: ServicesDep) -> SuggestionOut:
    """The draft for the last customer message (made now if there is none yet)."""
    draft = services.desk.ensure_draft(conversation_id)
    if draft is None:
        raise ApiError(
            404,
            "no_suggestion",
            "This conversation has no customer message to answer.",
            "A suggestion exists once the customer has written.",
        )
    return suggestion_out(draft)


@router.get("/v1/conversations/{conversation_id}/suggestion/stream")
def suggestion_stream(
    conversation_id: str, _: ConversationsToken, services: ServicesDep
) -> StreamingResponse:
    """A new draft as Server-Sent Events: ``delta`` events carry text as the model writes
    it, then one ``suggestion`` event carries the whole suggestion (``error`` on failure)."""
    desk = services.desk
    desk.store.get(conversation_id)  # 404 before the stream starts
    events: queue.Queue[tuple[str, str] | None] = queue.Queue()

    def work() -> None:
        try:
            draft = desk.regenerate(
                conversation_id,
                DraftOptions(),
                on_delta=lambda text: events.put(("delta", json.dumps({"text": text}))),
            )
            if draft is None:
                events.put(("error", json.dumps({"problem": "no customer message"})))
            else:
                events.put(("suggestion", suggestion_out(draft).model_dump_json()))
        except SouffleurError as exc:
            events.put(("error", json.dumps({"problem": exc.problem, "fix": exc.fix})))
        finally:
            events.put(None)

    threading.Thread(target=work, daemon=True).start()

    def stream() -> Iterator[str]:
        while (item := events.get()) is not None:
            yield f"event: {item[0]}\ndata: {item[1]}\n\n"

    return StreamingResponse(stream(), media_type="text/event-stream")


@router.post("/v1/conversations/{conversation_id}/reply", status_code=201)
def reply(
    conversation_id: str, body: ReplyIn, _: ConversationsToken, services: ServicesDep
) -> SentOut:
    """The agent's reply goes out through the conversation's channel and is recorded as
    the desk's Send records it (drafted vs sent, edit ratio, outcome)."""
    return _sent(
        services.gateway.reply(
            conversation_id, body.text, agent=body.agent, expected_version=body.expected_version
        )
    )


@router.post("/v1/conversations/{conversation_id}/feedback", status_code=201)
def feedback(
    conversation_id: str, body: ReplyIn, _: ConversationsToken, services: ServicesDep
) -> SentOut:
    """The agent already sent this reply from the help desk: record it and how it compares
    with the draft, without sending it again."""
    return _sent(
        services.gateway.record_sent(
            conversation_id, body.text, agent=body.agent, expected_version=body.expected_version
        )
    )


def _sent(sent: Sent) -> SentOut:
    return SentOut(message_id=sent.message_id, outcome=sent.outcome, edit_ratio=sent.edit_ratio)


@router.post("/v1/conversations/{conversation_id}/escalate")
def escalate(
    conversation_id: str, body: EscalateIn, _: ConversationsToken, services: ServicesDep
) -> dict[str, str]:
    """Hand the conversation to the queue the suggestion names (or the default one)."""
    queue_name = services.gateway.escalate(
        conversation_id, agent=body.agent, expected_version=body.expected_version
    )
    return {"queue": queue_name}
