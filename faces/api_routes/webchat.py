"""The built-in web chat: the customer's page and the two calls it makes (no token: a signed
link identifies the customer, see ``copilot.channels.webchat``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import APIRouter
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, Field

from faces.api_routes.services import ServicesDep

CHAT_PAGE = Path(__file__).parents[1] / "static" / "chat.html"

router = APIRouter(tags=["web chat"])


class ChatIn(BaseModel):
    session: str = Field(min_length=1, max_length=64)
    text: str = Field(min_length=1, max_length=4000)
    client_id: str = Field(min_length=1, max_length=100)
    link: str | None = Field(None, max_length=2000)
    email: str | None = Field(None, max_length=320)


@router.get("/chat", response_class=HTMLResponse, include_in_schema=False)
def chat_page() -> HTMLResponse:
    """The customer's chat page (``?c=<signed link>`` identifies the customer)."""
    return HTMLResponse(CHAT_PAGE.read_text(encoding="utf-8"))


@router.post("/chat/api/messages", status_code=201)
def chat_post(body: ChatIn, services: ServicesDep) -> dict[str, Any]:
    got = services.chat.post(
        body.session, body.text, client_id=body.client_id, link=body.link, email=body.email
    )
    return {"message_id": got.message_id, "duplicate": got.duplicate}


@router.get("/chat/api/messages")
def chat_lines(session: str, services: ServicesDep, after: int = 0) -> list[dict[str, Any]]:
    return [vars(line) for line in services.chat.lines(session, after)]
