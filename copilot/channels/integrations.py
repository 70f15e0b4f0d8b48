"""The one place that connects the desk to the outside: the gateway for inbound messages, the
outbox and its targets (the generic webhook, Chatwoot), from the settings. ``souffleur serve``
and the app both call :func:`connect`, so a reply sent from either reaches the customer."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from copilot.channels.chatwoot import ChatwootAdapter, ChatwootTarget
from copilot.channels.gateway import Gateway, Received, suggestion_out
from copilot.channels.outbox import Outbox, Target, WebhookTarget
from copilot.config import Settings
from copilot.desk.desk import Desk


@dataclass
class Integrations:
    gateway: Gateway
    outbox: Outbox | None
    chatwoot: ChatwootAdapter | None

    def start(self) -> None:
        if self.outbox is not None:
            self.outbox.start()

    def stop(self) -> None:
        if self.outbox is not None:
            self.outbox.stop()


def _secret(value: Any) -> str:
    return value.get_secret_value() if value is not None else ""


def connect(desk: Desk, settings: Settings) -> Integrations:
    gateway = Gateway(desk)
    targets: dict[str, Target] = {}
    if settings.webhook_url:
        targets["webhook"] = WebhookTarget(settings.webhook_url, _secret(settings.webhook_secret))
    if settings.chatwoot_url:
        targets["chatwoot"] = ChatwootTarget(
            settings.chatwoot_url, _secret(settings.chatwoot_api_token)
        )
    outbox = (
        Outbox(desk.store.engine, targets, max_attempts=settings.outbox_max_attempts)
        if targets
        else None
    )
    if outbox is not None and "webhook" in targets:
        _webhook_events(outbox, gateway, desk)
    chatwoot = (
        ChatwootAdapter(gateway, outbox, _secret(settings.chatwoot_webhook_secret))
        if outbox is not None and "chatwoot" in targets
        else None
    )
    return Integrations(gateway, outbox, chatwoot)


def _webhook_events(outbox: Outbox, gateway: Gateway, desk: Desk) -> None:
    """suggestion.ready for each new suggestion, reply.sent for each reply to deliver."""

    def suggested(got: Received) -> None:
        payload: dict[str, Any] = {**gateway.address(got.conversation_id)}
        payload["message_id"] = got.message_id
        payload["suggestion"] = suggestion_out(got.draft).model_dump() if got.draft else None
        outbox.enqueue("webhook", "suggestion.ready", payload, got.conversation_id)

    def replied(conversation_id: str, message_id: int, text: str) -> None:
        payload: dict[str, Any] = {**gateway.address(conversation_id)}
        payload.update(message_id=message_id, text=text)
        outbox.enqueue("webhook", "reply.sent", payload, conversation_id)

    gateway.listeners.append(suggested)
    desk.deliverers.append(replied)
