"""Chatwoot adapter: Souffleur inside the open-source inbox a team already uses.

Set up (README, "Chatwoot"): a webhook in Chatwoot (Settings → Integrations → Webhooks, event
``message_created``) pointing at ``/v1/chatwoot/webhook`` of ``souffleur serve``, and an access
token Souffleur uses for Chatwoot's API. Then:

- a contact's message (``message_created``, ``message_type`` incoming) becomes an inbound
  message of the desk conversation of that Chatwoot conversation (made on the first one; the
  contact matched to a customer by e-mail), and the suggestion is posted back into the Chatwoot
  conversation as a **private note**: the draft, its sources, the escalation reasons and queue;
- an agent's message written in Chatwoot (``outgoing`` from a ``user``) is recorded as the
  reply to that draft (drafted vs sent, edit ratio, outcome), and nothing is sent again;
- a reply an agent sends from Souffleur's own desk is posted to Chatwoot as an outgoing message;
  Chatwoot's webhook for that message (the echo) is recognised and not recorded twice.

Payloads and routes follow Chatwoot's documented webhook events (``message_created``: ``id``,
``content``, ``message_type``, ``private``, ``sender {type}``, ``conversation {id, meta.sender
{email}}``, ``account {id}``, ``attachments``) and API (``POST /api/v1/accounts/{account_id}/
conversations/{conversation_id}/messages`` with ``content``, ``message_type``, ``private``,
header ``api_access_token``). Webhooks are verified by Chatwoot's signature (``X-Chatwoot-
Signature: sha256=<HMAC-SHA256 of "<X-Chatwoot-Timestamp>.<body>">``) or, for Chatwoot versions
that do not sign, by the shared secret in the URL (``?token=``).
"""

from __future__ import annotations

import hmac
import json
import time
from collections.abc import Mapping
from typing import Any

import httpx

from copilot.channels.gateway import Attachment, Gateway, InboundMessage, Received
from copilot.channels.outbox import Outbox, signature
from copilot.types import Channel, Suggestion
from knowledge.errors import SouffleurError

CHANNEL = "chatwoot"
TARGET = "chatwoot"
MAX_SKEW_S = 300  # a signed webhook older (or newer) than this is refused: a replay


class ChatwootAuthError(SouffleurError):
    pass


class ChatwootTarget:
    """Turns outbox rows into calls to Chatwoot's messages API."""

    name = TARGET

    def __init__(self, base_url: str, token: str) -> None:
        self.base_url = base_url.rstrip("/")
        self.token = token

    def request(
        self, event: str, payload: Mapping[str, Any], delivery_id: int
    ) -> tuple[str, dict[str, str], bytes]:
        url = (
            f"{self.base_url}/api/v1/accounts/{payload['account_id']}"
            f"/conversations/{payload['conversation_id']}/messages"
        )
        body = {
            "content": payload["content"],
            "message_type": "outgoing",
            "private": bool(payload["private"]),
        }
        headers = {"api_access_token": self.token, "Content-Type": "application/json"}
        return url, headers, json.dumps(body, ensure_ascii=False).encode()

    def delivered(self, event: str, payload: Mapping[str, Any], response: httpx.Response) -> str:
        try:
            return str(response.json().get("id", ""))
        except ValueError:
            return ""


def _external_id(account_id: object, conversation_id: object) -> str:
    return f"{account_id}:{conversation_id}"


def note_text(s: Suggestion, lang: str = "en") -> str:
    """The private note an agent sees in Chatwoot: the draft, then where it comes from and
    whether to hand over."""
    fr = lang == "fr"
    head = "Suggestion de Souffleur" if fr else "Souffleur suggestion"
    review = (" · à relire" if fr else " · needs review") if s.needs_review else ""
    lines = [f"**{head}** ({s.confidence:.0%}{review})", "", s.draft]
    sources = []
    for c in s.citations:
        for title, url in zip(c.titles, c.urls or [""] * len(c.titles), strict=False):
            label = f"[{title}]({url})" if url else title
            if label not in sources:
                sources.append(label)
    if sources:
        lines += ["", ("**Sources :** " if fr else "**Sources:** ") + ", ".join(sources)]
    if s.escalation.escalate:
        reasons = "; ".join(r.label for r in s.escalation.reasons) or "—"
        queue = f" → {s.escalation.queue}" if s.escalation.queue else ""
        lines += ["", ("**À transmettre :** " if fr else "**Hand over:** ") + reasons + queue]
    return "\n".join(lines)


class ChatwootAdapter:
    def __init__(self, gateway: Gateway, outbox: Outbox, secret: str) -> None:
        self.gateway = gateway
        self.outbox = outbox
        self.secret = secret
        gateway.listeners.append(self._post_note)
        gateway.desk.deliverers.append(self._post_reply)

    # -- inbound webhooks --------------------------------------------------------------
    def verify(self, headers: Mapping[str, str], body: bytes, token: str | None) -> None:
        """Chatwoot's signature, or the shared secret in the URL; raises ChatwootAuthError."""
        if not self.secret:
            raise ChatwootAuthError(
                "The Chatwoot webhook has no secret configured.",
                "Set SOUFFLEUR_CHATWOOT_WEBHOOK_SECRET (Chatwoot's webhook secret, or a shared "
                "secret you add to the webhook URL as ?token=...).",
            )
        sig = headers.get("x-chatwoot-signature")
        stamp = headers.get("x-chatwoot-timestamp", "")
        if sig:
            if not stamp.isdigit() or abs(time.time() - int(stamp)) > MAX_SKEW_S:
                raise ChatwootAuthError(
                    "The Chatwoot webhook's timestamp is missing or too old.",
                    "Check the clocks of both servers; replayed deliveries are refused.",
                )
            if not hmac.compare_digest(sig, signature(self.secret, stamp, body)):
                raise ChatwootAuthError(
                    "The Chatwoot webhook's signature does not match.",
                    "Use the same secret in Chatwoot and in SOUFFLEUR_CHATWOOT_WEBHOOK_SECRET.",
                )
            return
        if token is None or not hmac.compare_digest(token, self.secret):
            raise ChatwootAuthError(
                "The Chatwoot webhook is neither signed nor carries the shared secret.",
                "Add ?token=<SOUFFLEUR_CHATWOOT_WEBHOOK_SECRET> to the webhook URL in Chatwoot.",
            )

    def handle(self, event: Mapping[str, Any]) -> dict[str, Any]:
        """What one webhook event does; ``status`` says which of received, recorded, ignored."""
        name = event.get("event")
        if name != "message_created":
            return {"status": "ignored", "reason": f"event {name!r} is not used"}
        if event.get("private"):
            return {"status": "ignored", "reason": "private note"}
        conv = event.get("conversation") or {}
        account = (event.get("account") or {}).get("id")
        if account is None or conv.get("id") is None or event.get("id") is None:
            raise SouffleurError(
                "The message_created event lacks account.id, conversation.id or id.",
                "Send Chatwoot's webhook payload unchanged.",
            )
        external = _external_id(account, conv["id"])
        kind = event.get("message_type")
        sender = event.get("sender") or {}
        content = str(event.get("content") or "")
        if kind == "incoming":
            contact = (conv.get("meta") or {}).get("sender") or {}
            got = self.gateway.receive(
                InboundMessage(
                    channel=CHANNEL,
                    medium=_medium(conv.get("channel")),
                    conversation=external,
                    event_id=f"message:{event['id']}",
                    email=contact.get("email") or sender.get("email") or None,
                    text=content,
                    attachments=[_attachment(a) for a in event.get("attachments") or []],
                )
            )
            return {
                "status": "duplicate" if got.duplicate else "received",
                "conversation_id": got.conversation_id,
                "message_id": got.message_id,
            }
        if kind == "outgoing" and sender.get("type") == "user":
            cid = self.gateway.conversation_of(CHANNEL, external)
            if cid is None:
                return {
                    "status": "ignored",
                    "reason": "an agent message in a conversation Souffleur has not seen",
                }
            if self._ours(str(event["id"]), cid, content):
                return {"status": "ignored", "reason": "the reply Souffleur posted (echo)"}
            author = sender.get("email") or sender.get("name")
            sent = self.gateway.record_sent(cid, content, agent=author)
            return {"status": "recorded", "conversation_id": cid, "outcome": sent.outcome}
        return {"status": "ignored", "reason": f"{kind} message from {sender.get('type')}"}

    def _ours(self, message_id: str, conversation_id: str, content: str) -> bool:
        """The message is one this adapter posted: its id came back from Chatwoot's API, or
        (its webhook raced our write of that id) it repeats our last reply word for word."""
        if self.outbox.delivered(TARGET, message_id):
            return True
        said = self.gateway.store.get(conversation_id).messages
        return bool(said and said[-1].role == "agent" and said[-1].text == content)

    # -- outbound ----------------------------------------------------------------------
    def _where(self, conversation_id: str) -> tuple[str, str] | None:
        outside = self.gateway.external_id(conversation_id)
        if outside is None or outside[0] != CHANNEL:
            return None
        account, _, conv = outside[1].partition(":")
        return account, conv

    def _post_note(self, got: Received) -> None:
        where = self._where(got.conversation_id)
        if where is None or got.draft is None:
            return
        s = got.draft.suggestion
        self.outbox.enqueue(
            TARGET,
            "note",
            {
                "account_id": where[0],
                "conversation_id": where[1],
                "content": note_text(s, s.language),
                "private": True,
            },
            got.conversation_id,
        )

    def _post_reply(self, conversation_id: str, message_id: int, text: str) -> None:
        where = self._where(conversation_id)
        if where is None:
            return
        self.outbox.enqueue(
            TARGET,
            "reply",
            {
                "account_id": where[0],
                "conversation_id": where[1],
                "content": text,
                "private": False,
                "message_id": message_id,
            },
            conversation_id,
        )


# Chatwoot's inbox types (conversation.channel) -> how the customer writes
_MEDIA: dict[str, Channel] = {
    "whatsapp": "whatsapp",
    "facebookpage": "messenger",
    "instagram": "messenger",
    "sms": "sms",
    "twiliosms": "sms",
    "email": "email",
}


def _medium(inbox_type: object) -> Channel:
    key = str(inbox_type or "").removeprefix("Channel::").lower()
    return _MEDIA.get(key, "web")


def _attachment(a: Mapping[str, Any]) -> Attachment:
    url = str(a.get("data_url") or "")
    name = url.rsplit("/", 1)[-1] if url else f"{a.get('file_type', 'file')}-{a.get('id', '')}"
    return Attachment(
        name=name or "attachment",
        content_type=str(a.get("file_type") or "file"),
        url=url,
        size=a.get("file_size") if isinstance(a.get("file_size"), int) else None,
    )
