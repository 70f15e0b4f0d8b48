"""The built-in web chat: a customer page served by ``souffleur serve`` at ``/chat``, so the
whole loop can be tried with no other software (the customer writes, the conversation appears
in the desk with its draft, the agent sends, the customer sees the reply).

Who the customer is:

- a **signed link** (``souffleur chat-link EMAIL`` prints one; a shop's site makes the same for
  its signed-in customer): the conversation belongs to that customer, and drafts use their
  orders. The signature is an HMAC-SHA256 with the chat secret, and the link expires;
- an **e-mail typed** in the page identifies the customer only when
  ``SOUFFLEUR_CHAT_TRUST_EMAIL`` is on (demos and trials): anyone can type anyone's address, and
  drafts would then state that customer's orders to a stranger. Otherwise the conversation is a
  visitor's, and the address is shown to the agent as unverified.

A browser keeps a random session id (the conversation's id on the ``webchat`` channel); only
that browser can read the conversation.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
import time
from dataclasses import dataclass
from pathlib import Path

from copilot.channels.gateway import Gateway, InboundMessage, Received
from copilot.config import Settings
from knowledge.errors import SouffleurError

CHANNEL = "webchat"
LINK_TTL_S = 30 * 24 * 3600
SESSION_CHARS = (22, 64)


class ChatError(SouffleurError):
    pass


class ChatLinkError(ChatError):
    """A chat link that was forged, damaged or has expired."""


class ChatIdentity:
    """Signs and reads the identity carried by a chat link."""

    def __init__(self, secret: bytes) -> None:
        self.secret = secret

    @classmethod
    def for_settings(cls, settings: Settings) -> ChatIdentity:
        """The workspace's: ``SOUFFLEUR_CHAT_SECRET``, else the one made in its data dir."""
        secret = settings.chat_secret
        return cls.for_data_dir(settings.data_dir, secret.get_secret_value() if secret else None)

    @classmethod
    def for_data_dir(cls, data_dir: Path, configured: str | None = None) -> ChatIdentity:
        """The configured secret (replicas share it), else one made once in the data dir."""
        if configured:
            return cls(configured.encode())
        path = data_dir / "chat-secret"
        if not path.exists():
            # Written whole under another name, then linked into place: two processes starting
            # at once both try, one link wins, and neither reads a half-written secret.
            data_dir.mkdir(parents=True, exist_ok=True)
            tmp = data_dir / f".chat-secret-{os.getpid()}-{secrets.token_hex(4)}"
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as f:
                f.write(secrets.token_hex(32))
            try:
                os.link(tmp, path)
            except FileExistsError:
                pass  # another process made it first: use theirs
            finally:
                tmp.unlink()
        return cls(path.read_text().strip().encode())

    def sign(self, email: str, *, ttl_s: int = LINK_TTL_S, now: float | None = None) -> str:
        claims = {"email": email.strip().lower(), "exp": int((now or time.time()) + ttl_s)}
        body = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=")
        mac = hmac.new(self.secret, body, hashlib.sha256).digest()
        return (body + b"." + base64.urlsafe_b64encode(mac).rstrip(b"=")).decode()

    def verify(self, token: str, *, now: float | None = None) -> str:
        """The e-mail the link was made for; raises ChatError when forged or expired."""
        try:
            body, _, mac = token.encode().partition(b".")
            expected = hmac.new(self.secret, body, hashlib.sha256).digest()
            given = base64.urlsafe_b64decode(mac + b"=" * (-len(mac) % 4))
            if not hmac.compare_digest(expected, given):
                raise ValueError("signature")
            claims = json.loads(base64.urlsafe_b64decode(body + b"=" * (-len(body) % 4)))
        except (ValueError, TypeError) as exc:
            raise ChatLinkError(
                "This chat link is not valid.", "Ask the shop for a new link, or chat as a visitor."
            ) from exc
        if claims.get("exp", 0) < (now or time.time()):
            raise ChatLinkError("This chat link has expired.", "Ask the shop for a new link.")
        return str(claims["email"])


@dataclass(frozen=True)
class ChatLine:
    id: int
    role: str  # customer | agent
    text: str
    at: str


class WebChat:
    def __init__(self, gateway: Gateway, identity: ChatIdentity, *, trust_email: bool) -> None:
        self.gateway = gateway
        self.identity = identity
        self.trust_email = trust_email

    @staticmethod
    def _session(session: str) -> str:
        lo, hi = SESSION_CHARS
        if (
            not (lo <= len(session) <= hi)
            or not session.replace("-", "").replace("_", "").isalnum()
        ):
            raise ChatError(
                "The chat session id is not valid.", "Reload the chat page to start a new one."
            )
        return session

    def post(
        self,
        session: str,
        text: str,
        *,
        client_id: str,
        link: str | None = None,
        email: str | None = None,
    ) -> Received:
        """The customer's message; ``client_id`` (made by the page) makes a resend harmless."""
        session = self._session(session)
        customer_id = None
        typed = None
        if link:
            found = self.gateway.ws.orders.customer_by_email(self.identity.verify(link))
            customer_id = found.customer_id if found else None
        elif email and self.trust_email:
            found = self.gateway.ws.orders.customer_by_email(email)
            customer_id = found.customer_id if found else None
        elif email:
            typed = email.strip()
        body = (
            text
            if typed is None or self._known(session)
            else f"[unverified e-mail: {typed}]\n{text}"
        )
        return self.gateway.receive(
            InboundMessage(
                channel=CHANNEL,
                medium="web",
                conversation=session,
                text=body,
                event_id=client_id,
                customer_id=customer_id,
            )
        )

    def _known(self, session: str) -> bool:
        return self.gateway.conversation_of(CHANNEL, session) is not None

    def lines(self, session: str, after: int = 0) -> list[ChatLine]:
        """What the customer sees: their messages and the agents' replies after ``after``."""
        cid = self.gateway.conversation_of(CHANNEL, self._session(session))
        if cid is None:
            return []
        rec = self.gateway.store.get(cid)
        return [
            ChatLine(m.id, m.role, m.text, m.created_at.isoformat())
            for m in rec.messages
            if m.id > after and m.role in ("customer", "agent")
        ]
