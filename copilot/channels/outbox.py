"""What Souffleur sends out, written down first: a durable outbox with retries and a log.

Every outgoing request (an event for the generic webhook, a note or a reply for Chatwoot) is a
row of ``outbox`` before it is sent; a worker thread posts the rows that are due, retries a
failure (no answer, or not 2xx) after 2, 4, 8 … seconds up to ``max_attempts``, then marks it
failed. Pending rows survive a restart, and several processes (``souffleur serve`` and the
app) may run workers on one database: each attempt is claimed by one of them first.

A *target* turns a row into a request:

- :class:`WebhookTarget`, the generic outbound webhook for any help desk. Set
  ``SOUFFLEUR_WEBHOOK_URL`` (and ``SOUFFLEUR_WEBHOOK_SECRET``); it receives
  ``suggestion.ready`` (a customer message got its suggestion) and ``reply.sent`` (an agent's
  reply, for the desk to deliver on the conversation's channel) as JSON, with::

      X-Souffleur-Event: reply.sent
      X-Souffleur-Delivery: 42        (the same id on every retry: deduplicate on it)
      X-Souffleur-Timestamp: 1764950400
      X-Souffleur-Signature: sha256=<hex HMAC-SHA256 of "<timestamp>.<body>" with the secret>

- ``copilot.channels.chatwoot.ChatwootTarget``: calls to a Chatwoot account's API.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

import httpx
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from knowledge.db import create_tables, migrate, now, unbounded_strings_on_postgresql

log = logging.getLogger(__name__)
CLAIM_S = 60.0  # an attempt in progress holds its row this long (a crashed worker lets go)

metadata = sa.MetaData()
deliveries = sa.Table(
    "outbox",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("target", sa.String(32), nullable=False),  # webhook | chatwoot
    sa.Column("event", sa.String(64), nullable=False),
    sa.Column("conversation_id", sa.String(64), nullable=True, index=True),
    sa.Column("payload", sa.Text, nullable=False),
    sa.Column("status", sa.String(16), nullable=False, index=True),  # pending|delivered|failed
    sa.Column("attempts", sa.Integer, nullable=False, default=0),
    sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("last_status_code", sa.Integer, nullable=True),
    sa.Column("last_error", sa.Text, nullable=True),
    sa.Column("result", sa.Text, nullable=True),  # what the target answered (e.g. a message id)
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
)
MIGRATIONS = [create_tables(deliveries), unbounded_strings_on_postgresql(deliveries)]


class Target(Protocol):
    name: str

    def request(
        self, event: str, payload: Mapping[str, Any], delivery_id: int
    ) -> tuple[str, dict[str, str], bytes]:
        """(url, headers, body) of the POST that delivers this row."""
        ...

    def delivered(self, event: str, payload: Mapping[str, Any], response: httpx.Response) -> str:
        """What to keep of a 2xx answer (written to the row's ``result``)."""
        ...


def signature(secret: str, timestamp: str, body: bytes) -> str:
    """``sha256=<hex HMAC-SHA256 of "<timestamp>.<body>">``: the scheme of our webhook, and
    of Chatwoot's own signed webhooks."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


class WebhookTarget:
    name = "webhook"

    def __init__(self, url: str, secret: str = "") -> None:
        self.url, self.secret = url, secret

    def request(
        self, event: str, payload: Mapping[str, Any], delivery_id: int
    ) -> tuple[str, dict[str, str], bytes]:
        body = json.dumps({"event": event, **payload}, ensure_ascii=False).encode()
        timestamp = str(int(time.time()))
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "Souffleur-Webhook/1",
            "X-Souffleur-Event": event,
            "X-Souffleur-Delivery": str(delivery_id),
            "X-Souffleur-Timestamp": timestamp,
        }
        if self.secret:
            headers["X-Souffleur-Signature"] = signature(self.secret, timestamp, body)
        return self.url, headers, body

    def delivered(self, event: str, payload: Mapping[str, Any], response: httpx.Response) -> str:
        return ""


@dataclass(frozen=True)
class Delivery:
    id: int
    target: str
    event: str
    conversation_id: str | None
    status: str
    attempts: int
    last_status_code: int | None
    last_error: str | None
    result: str | None
    created_at: datetime
    delivered_at: datetime | None
    payload: dict[str, Any]


class Outbox:
    def __init__(
        self,
        engine: Engine,
        targets: Mapping[str, Target] | None = None,
        *,
        max_attempts: int = 8,
        backoff_s: float = 2.0,
        timeout_s: float = 10.0,
    ) -> None:
        self.engine = engine
        self.targets = dict(targets or {})
        self.max_attempts = max_attempts
        self.backoff_s = backoff_s
        self.timeout_s = timeout_s
        # told of each delivered row: (target, event, payload, result)
        self.on_delivered: list[Callable[[str, str, dict[str, Any], str], None]] = []
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        migrate(engine, "copilot.outbox", MIGRATIONS)  # the namespace databases already record

    # -- writing -----------------------------------------------------------------------
    def enqueue(
        self, target: str, event: str, payload: Mapping[str, Any], conversation_id: str | None
    ) -> int:
        """Write the request down (the worker sends it at once, then retries)."""
        if target not in self.targets:
            raise ValueError(f"no outbox target '{target}'")
        stamp = now()
        with self.engine.begin() as conn:
            pk = conn.execute(
                sa.insert(deliveries).values(
                    target=target,
                    event=event,
                    conversation_id=conversation_id,
                    payload=json.dumps(payload, ensure_ascii=False),
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
        """Send every row that is due and that this process claims; how many were tried."""
        with self.engine.connect() as conn:
            due = (
                conn.execute(
                    sa.select(deliveries)
                    .where(
                        deliveries.c.status == "pending",
                        deliveries.c.next_attempt_at <= now(),
                        deliveries.c.target.in_(list(self.targets)),
                    )
                    .order_by(deliveries.c.id)
                    .limit(100)
                )
                .mappings()
                .all()
            )
        own = client is None
        http = client or httpx.Client(timeout=self.timeout_s)
        tried = 0
        try:
            for row in due:
                if self._claim(row):
                    self._attempt(http, row)
                    tried += 1
        finally:
            if own:
                http.close()
        return tried

    def _claim(self, row: sa.RowMapping) -> bool:
        """Move the row's next attempt into the future: the process that does it sends it."""
        with self.engine.begin() as conn:
            return bool(
                conn.execute(
                    sa.update(deliveries)
                    .where(
                        deliveries.c.id == row["id"],
                        deliveries.c.status == "pending",
                        deliveries.c.attempts == row["attempts"],
                        deliveries.c.next_attempt_at == row["next_attempt_at"],
                    )
                    .values(next_attempt_at=now() + timedelta(seconds=CLAIM_S))
                ).rowcount
            )

    def _attempt(self, http: httpx.Client, row: sa.RowMapping) -> None:
        target = self.targets[row["target"]]
        payload = json.loads(row["payload"])
        code: int | None = None
        error: str | None = None
        result = ""
        try:
            url, headers, body = target.request(row["event"], payload, row["id"])
            response = http.post(url, content=body, headers=headers)
            code = response.status_code
            if 200 <= code < 300:
                result = target.delivered(row["event"], payload, response)
            else:
                error = f"HTTP {code}: {response.text[:200]}"
        except httpx.HTTPError as exc:
            error = f"{type(exc).__name__}: {exc}"[:300]
        attempts = row["attempts"] + 1
        stamp = now()
        if error is None:
            values: dict[str, Any] = {"status": "delivered", "delivered_at": stamp}
        elif attempts >= self.max_attempts:
            values = {"status": "failed"}
            log.warning("outbox row %s (%s) failed for good: %s", row["id"], row["target"], error)
        else:
            wait = min(self.backoff_s * 2 ** (attempts - 1), 3600.0)
            values = {"next_attempt_at": stamp + timedelta(seconds=wait)}
        with self.engine.begin() as conn:
            conn.execute(
                sa.update(deliveries)
                .where(deliveries.c.id == row["id"])
                .values(
                    attempts=attempts,
                    last_status_code=code,
                    last_error=error,
                    result=result or None,
                    **values,
                )
            )
        if error is None:
            for hook in self.on_delivered:
                hook(row["target"], row["event"], payload, result)

    def start(self, poll_s: float = 1.0) -> None:
        """Send in a background thread: at once when a row is written, and every ``poll_s``
        for the retries that come due."""
        if self._thread is not None:
            return
        self._stop.clear()

        def run() -> None:
            with httpx.Client(timeout=self.timeout_s) as http:
                while not self._stop.is_set():
                    try:
                        self.deliver_due(http)
                    except Exception:
                        log.exception("outbox pass failed")
                    self._wake.wait(poll_s)
                    self._wake.clear()

        self._thread = threading.Thread(target=run, name="souffleur-outbox", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=self.timeout_s + 5)
            self._thread = None

    def delivered(self, target: str, result: str) -> bool:
        """Some row of ``target`` was delivered and answered ``result`` (e.g. a message id)."""
        with self.engine.connect() as conn:
            return (
                conn.execute(
                    sa.select(deliveries.c.id).where(
                        deliveries.c.target == target, deliveries.c.result == result
                    )
                ).first()
                is not None
            )

    # -- the log -----------------------------------------------------------------------
    def log(
        self, *, limit: int = 100, status: str | None = None, target: str | None = None
    ) -> list[Delivery]:
        q = sa.select(deliveries).order_by(deliveries.c.id.desc()).limit(limit)
        if status:
            q = q.where(deliveries.c.status == status)
        if target:
            q = q.where(deliveries.c.target == target)
        with self.engine.connect() as conn:
            rows = conn.execute(q).mappings().all()
        return [
            Delivery(
                id=r["id"],
                target=r["target"],
                event=r["event"],
                conversation_id=r["conversation_id"],
                status=r["status"],
                attempts=r["attempts"],
                last_status_code=r["last_status_code"],
                last_error=r["last_error"],
                result=r["result"],
                created_at=r["created_at"],
                delivered_at=r["delivered_at"],
                payload=json.loads(r["payload"]),
            )
            for r in rows
        ]
