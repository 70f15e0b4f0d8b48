"""The generic outbound webhook: any help desk can receive Souffleur's events as signed JSON.

Set ``SOUFFLEUR_WEBHOOK_URL`` (and ``SOUFFLEUR_WEBHOOK_SECRET``) and ``souffleur serve`` posts:

- ``suggestion.ready``: a customer message got its suggestion (draft, citations, escalation);
- ``reply.sent``: an agent's reply, for the desk to deliver on the conversation's channel.

Each event is first written to the delivery log (a table), then posted; a delivery that fails
(no answer, or not 2xx) is retried with exponential backoff until ``max_attempts``, then marked
failed, and nothing is lost across a restart: pending deliveries are picked up again. Every
request carries::

    X-Souffleur-Event: reply.sent
    X-Souffleur-Delivery: 42                (the same id on every retry: deduplicate on it)
    X-Souffleur-Timestamp: 1764950400
    X-Souffleur-Signature: sha256=<hex HMAC-SHA256 of "<timestamp>.<body>" with the secret>
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from copilot.gateway import Gateway, Received, suggestion_out
from copilot.store import now
from knowledge.db import create_tables, migrate, unbounded_strings_on_postgresql

log = logging.getLogger(__name__)

metadata = sa.MetaData()
deliveries = sa.Table(
    "webhook_deliveries",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("event", sa.String(64), nullable=False),
    sa.Column("conversation_id", sa.String(64), nullable=True, index=True),
    sa.Column("url", sa.Text, nullable=False),
    sa.Column("payload", sa.Text, nullable=False),
    sa.Column("status", sa.String(16), nullable=False, index=True),  # pending|delivered|failed
    sa.Column("attempts", sa.Integer, nullable=False, default=0),
    sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("last_status_code", sa.Integer, nullable=True),
    sa.Column("last_error", sa.Text, nullable=True),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
)
MIGRATIONS = [create_tables(deliveries), unbounded_strings_on_postgresql(deliveries)]


def signature(secret: str, timestamp: str, body: bytes) -> str:
    """The ``X-Souffleur-Signature`` value a receiver recomputes to trust a delivery."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


@dataclass(frozen=True)
class Delivery:
    id: int
    event: str
    conversation_id: str | None
    status: str
    attempts: int
    last_status_code: int | None
    last_error: str | None
    created_at: datetime
    delivered_at: datetime | None
    payload: dict[str, Any]


class Outbox:
    def __init__(
        self,
        engine: Engine,
        url: str,
        secret: str = "",
        *,
        max_attempts: int = 8,
        backoff_s: float = 2.0,
        timeout_s: float = 10.0,
    ) -> None:
        self.engine = engine
        self.url = url
        self.secret = secret
        self.max_attempts = max_attempts
        self.backoff_s = backoff_s
        self.timeout_s = timeout_s
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        migrate(engine, "copilot.webhooks", MIGRATIONS)

    # -- writing -----------------------------------------------------------------------
    def enqueue(self, event: str, payload: dict[str, Any], conversation_id: str | None) -> int:
        """Log the event for delivery (the worker posts it at once, then retries)."""
        stamp = now()
        with self.engine.begin() as conn:
            pk = conn.execute(
                sa.insert(deliveries).values(
                    event=event,
                    conversation_id=conversation_id,
                    url=self.url,
                    payload=json.dumps({"event": event, **payload}, ensure_ascii=False),
                    status="pending",
                    attempts=0,
                    next_attempt_at=stamp,
                    created_at=stamp,
                )
            ).inserted_primary_key
        self._wake.set()
        return int(pk[0]) if pk else 0

    # -- delivering --------------------------------------------------------------------
    def deliver_due(self, client: httpx.Client | None = None) -> int:
        """Post every delivery that is due; returns how many were attempted."""
        with self.engine.connect() as conn:
            due = (
                conn.execute(
                    sa.select(deliveries)
                    .where(deliveries.c.status == "pending", deliveries.c.next_attempt_at <= now())
                    .order_by(deliveries.c.id)
                    .limit(100)
                )
                .mappings()
                .all()
            )
        if not due:
            return 0
        own = client is None
        http = client or httpx.Client(timeout=self.timeout_s)
        try:
            for row in due:
                self._attempt(http, row)
        finally:
            if own:
                http.close()
        return len(due)

    def _attempt(self, http: httpx.Client, row: sa.RowMapping) -> None:
        body = row["payload"].encode()
        timestamp = str(int(time.time()))
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "Souffleur-Webhook/1",
            "X-Souffleur-Event": row["event"],
            "X-Souffleur-Delivery": str(row["id"]),
            "X-Souffleur-Timestamp": timestamp,
        }
        if self.secret:
            headers["X-Souffleur-Signature"] = signature(self.secret, timestamp, body)
        code: int | None = None
        error: str | None = None
        try:
            response = http.post(row["url"], content=body, headers=headers)
            code = response.status_code
            if not 200 <= code < 300:
                error = f"HTTP {code}: {response.text[:200]}"
        except httpx.HTTPError as exc:
            error = f"{type(exc).__name__}: {exc}"[:300]
        attempts = row["attempts"] + 1
        stamp = now()
        if error is None:
            values: dict[str, Any] = {"status": "delivered", "delivered_at": stamp}
        elif attempts >= self.max_attempts:
            values = {"status": "failed"}
            log.warning("webhook delivery %s failed for good: %s", row["id"], error)
        else:
            wait = min(self.backoff_s * 2 ** (attempts - 1), 3600.0)
            values = {"next_attempt_at": stamp + timedelta(seconds=wait)}
        with self.engine.begin() as conn:
            conn.execute(
                sa.update(deliveries)
                .where(deliveries.c.id == row["id"])
                .values(attempts=attempts, last_status_code=code, last_error=error, **values)
            )

    def start(self, poll_s: float = 1.0) -> None:
        """Deliver in a background thread: at once when an event is logged, and every
        ``poll_s`` for the retries that come due."""
        if self._thread is not None:
            return

        def run() -> None:
            with httpx.Client(timeout=self.timeout_s) as http:
                while not self._stop.is_set():
                    try:
                        self.deliver_due(http)
                    except Exception:
                        log.exception("webhook delivery pass failed")
                    self._wake.wait(poll_s)
                    self._wake.clear()

        self._thread = threading.Thread(target=run, name="souffleur-webhooks", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=self.timeout_s + 5)
            self._thread = None

    # -- the log -----------------------------------------------------------------------
    def log(self, *, limit: int = 100, status: str | None = None) -> list[Delivery]:
        q = sa.select(deliveries).order_by(deliveries.c.id.desc()).limit(limit)
        if status:
            q = q.where(deliveries.c.status == status)
        with self.engine.connect() as conn:
            rows = conn.execute(q).mappings().all()
        return [
            Delivery(
                id=r["id"],
                event=r["event"],
                conversation_id=r["conversation_id"],
                status=r["status"],
                attempts=r["attempts"],
                last_status_code=r["last_status_code"],
                last_error=r["last_error"],
                created_at=r["created_at"],
                delivered_at=r["delivered_at"],
                payload=json.loads(r["payload"]),
            )
            for r in rows
        ]


def attach(outbox: Outbox, gateway: Gateway) -> None:
    """Post the gateway's events to the webhook: each new suggestion, each agent reply."""

    def suggested(got: Received) -> None:
        payload: dict[str, Any] = {**gateway.address(got.conversation_id)}
        payload["message_id"] = got.message_id
        payload["suggestion"] = suggestion_out(got.draft).model_dump() if got.draft else None
        outbox.enqueue("suggestion.ready", payload, got.conversation_id)

    def replied(conversation_id: str, message_id: int, text: str) -> None:
        payload: dict[str, Any] = {**gateway.address(conversation_id)}
        payload.update(message_id=message_id, text=text)
        outbox.enqueue("reply.sent", payload, conversation_id)

    gateway.listeners.append(suggested)
    gateway.deliverers.append(replied)
