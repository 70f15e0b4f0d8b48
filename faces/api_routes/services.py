"""What the API's routes call: the workspace, the desk, its channel links (gateway, outbox,
Chatwoot), the token store and the web chat. ``create_app`` builds one ``Services`` and keeps it
on ``app.state.services``; a route asks for it with a ``services: ServicesDep`` parameter."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, FastAPI, Request

from copilot.channels.gateway import Gateway
from copilot.channels.integrations import Integrations, connect
from copilot.channels.webchat import ChatIdentity, WebChat
from copilot.desk.apikeys import TokenStore
from copilot.desk.desk import Desk
from copilot.workspace import Workspace


@dataclass(frozen=True)
class Services:
    ws: Workspace
    desk: Desk
    links: Integrations
    tokens: TokenStore
    chat: WebChat

    @property
    def gateway(self) -> Gateway:
        return self.links.gateway

    @classmethod
    def build(cls, ws: Workspace, desk: Desk) -> Services:
        """The desk's channel links, the token store and the web chat, from the settings."""
        links = connect(desk, ws.settings)
        tokens = TokenStore(ws.engine)
        chat = WebChat(
            links.gateway,
            ChatIdentity.for_settings(ws.settings),
            trust_email=ws.settings.chat_trust_email,
        )
        return cls(ws, desk, links, tokens, chat)


def services_of(app: FastAPI) -> Services:
    """The services ``create_app`` kept on ``app`` (middleware and the lifespan read them here)."""
    services: Services = app.state.services
    return services


async def get_services(request: Request) -> Services:
    # async: FastAPI would run a sync dependency in a worker thread, for nothing here
    return services_of(request.app)


ServicesDep = Annotated[Services, Depends(get_services)]


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """The outbox's delivery thread runs while the server does."""
    links = services_of(app).links
    links.start()
    yield
    links.stop()
