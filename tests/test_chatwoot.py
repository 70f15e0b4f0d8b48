"""The Chatwoot round trip against a local stand-in for Chatwoot on 127.0.0.1.

The stand-in replays Chatwoot's documented webhook payloads (``message_created``, as in
chatwoot/docs "Webhook Events", signed as Chatwoot signs them: ``X-Chatwoot-Signature`` over
``<X-Chatwoot-Timestamp>.<body>``) to `souffleur serve`'s app, and records the calls Souffleur
makes to its documented messages API (``POST /api/v1/accounts/{account}/conversations/{id}/
messages`` with ``api_access_token``). Like Chatwoot, it fires a webhook for every message
created through its API, so the echo of Souffleur's own reply comes back too."""

from __future__ import annotations

import itertools
import json
import re
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest

from copilot import Workspace
from copilot.channels.outbox import signature
from tests.served import ServedApp, customer_with_orders, demo_workspace

SECRET = "cw-webhook-secret"
TOKEN = "cw-agent-access-token"
ACCOUNT = 3
ROUTE = re.compile(r"^/api/v1/accounts/(\d+)/conversations/(\d+)/messages$")


class FakeChatwoot:
    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []
        self.echoes: list[dict[str, Any]] = []  # Souffleur's answers to the echo webhooks
        self.fail_next = 0  # answer 500 to this many API calls (Chatwoot down)
        self.webhook_url = ""
        self.agent = {"id": 7, "name": "Nadia Agent", "email": "nadia@shop.example", "type": "user"}
        self._ids = itertools.count(5000)
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                m = ROUTE.match(self.path)
                if outer.fail_next:
                    outer.fail_next -= 1
                    self._answer(500, {"error": "down"})
                    return
                if not m or self.headers.get("api_access_token") != TOKEN:
                    self._answer(401 if m else 404, {"error": "unauthorized"})
                    return
                message = {
                    "id": next(outer._ids),
                    "content": body["content"],
                    "message_type": body.get("message_type", "outgoing"),
                    "private": body.get("private", False),
                    "conversation_id": int(m.group(2)),
                }
                outer.calls.append({"account": int(m.group(1)), **message})
                self._answer(200, message)
                # Chatwoot fires message_created for messages made through its API as well
                threading.Thread(
                    target=outer.echo, args=(int(m.group(2)), message), daemon=True
                ).start()

            def _answer(self, status: int, payload: dict[str, Any]) -> None:
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    # -- documented payloads -------------------------------------------------------------
    def message_created(
        self,
        conversation: int,
        content: str,
        *,
        message_type: str = "incoming",
        contact_email: str | None = None,
        sender: dict[str, Any] | None = None,
        private: bool = False,
        message_id: int | None = None,
        attachments: list[dict[str, Any]] | None = None,
    ) -> dict[str, Any]:
        contact = {"id": 14, "name": "little-haze-776", "email": contact_email, "type": "contact"}
        payload: dict[str, Any] = {
            "id": message_id if message_id is not None else next(self._ids),
            "content": content,
            "created_at": "2026-11-24T18:02:48.000Z",
            "message_type": message_type,
            "content_type": "text",
            "private": private,
            "content_attributes": {},
            "source_id": None,
            "sender": sender or {k: contact[k] for k in ("id", "name", "type")},
            "inbox": {"id": 1, "name": "Acme Support"},
            "conversation": {
                "can_reply": True,
                "channel": "Channel::WebWidget",
                "id": conversation,
                "inbox_id": 1,
                "contact_inbox": {"id": 12, "contact_id": 14, "inbox_id": 1, "source_id": "4f1d"},
                "messages": [],
                "meta": {"sender": contact, "assignee": None},
                "status": "open",
                "unread_count": 1,
                "timestamp": 1627063369,
            },
            "account": {"id": ACCOUNT, "name": "Acme Inc"},
            "event": "message_created",
        }
        if attachments:
            payload["attachments"] = attachments
        return payload

    def deliver(
        self, payload: dict[str, Any], *, secret: str = SECRET, stamp: int | None = None
    ) -> httpx.Response:
        body = json.dumps(payload).encode()
        ts = str(stamp if stamp is not None else int(time.time()))
        headers = {
            "Content-Type": "application/json",
            "X-Chatwoot-Signature": signature(secret, ts, body),
            "X-Chatwoot-Timestamp": ts,
            "X-Chatwoot-Delivery": f"d-{payload['id']}",
        }
        return httpx.post(self.webhook_url, content=body, headers=headers, timeout=30)

    def echo(self, conversation: int, message: dict[str, Any]) -> None:
        self.echoes.append(
            self.deliver(
                self.message_created(
                    conversation,
                    message["content"],
                    message_type="outgoing",
                    sender=self.agent,
                    private=message["private"],
                    message_id=message["id"],
                )
            ).json()
        )


def _wait(condition: Callable[[], bool], what: str, seconds: float = 15) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, what
        time.sleep(0.05)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[FakeChatwoot, ServedApp]]:
    chatwoot = FakeChatwoot()
    ws = demo_workspace(
        tmp_path_factory.mktemp("chatwoot"),
        chatwoot_url=chatwoot.url,
        chatwoot_api_token=TOKEN,
        chatwoot_webhook_secret=SECRET,
    )
    served = ServedApp(ws)
    served.app.state.outbox.backoff_s = 0.05
    chatwoot.webhook_url = served.url + "/v1/chatwoot/webhook"
    yield chatwoot, served
    served.server.should_exit = True
    served.thread.join(timeout=10)
    chatwoot.server.shutdown()


def _customer(ws: Workspace) -> tuple[str, str]:
    c = customer_with_orders(ws)
    return c.email, ws.orders.orders_of(c.customer_id)[0].order_number


def test_a_contact_message_gets_its_suggestion_as_a_private_note(
    world: tuple[FakeChatwoot, ServedApp],
) -> None:
    chatwoot, served = world
    email, number = _customer(served.ws)
    event = chatwoot.message_created(
        101, f"Bonjour, où en est ma commande {number} ?", contact_email=email
    )
    r = chatwoot.deliver(event)
    assert r.status_code == 200 and r.json()["status"] == "received", r.text
    cid = r.json()["conversation_id"]
    _wait(lambda: any(c["conversation_id"] == 101 for c in chatwoot.calls), "the note")
    (note,) = [c for c in chatwoot.calls if c["conversation_id"] == 101]
    assert note["private"] is True and note["account"] == ACCOUNT
    draft = served.desk.store.current_draft(cid)
    assert draft is not None and draft.draft_text in note["content"]
    assert number in note["content"] and "Sources" in note["content"]
    # the contact was matched by e-mail: the draft states their order
    assert served.desk.store.get(cid).customer_id is not None
    # the note's own echo (a private message) is not a customer message
    _wait(lambda: len(chatwoot.echoes) >= 1, "the note's echo")
    assert chatwoot.echoes[0]["status"] == "ignored"
    assert len(served.desk.store.get(cid).messages) == 1

    # Chatwoot delivers the same event again: stored once, no second note
    again = chatwoot.deliver(event)
    assert again.json()["status"] == "duplicate"
    time.sleep(0.3)
    assert len([c for c in chatwoot.calls if c["conversation_id"] == 101]) == 1

    # the agent answers in Chatwoot: recorded as the reply to that draft, nothing posted
    reply = chatwoot.message_created(
        101, "Bonjour ! Votre colis est en route.", message_type="outgoing", sender=chatwoot.agent
    )
    r = chatwoot.deliver(reply)
    assert r.json() == {"status": "recorded", "conversation_id": cid, "outcome": "edited"}
    rows = [f for f in served.desk.store.feedback_rows() if f["conversation_id"] == cid]
    assert [(f["outcome"], f["agent"]) for f in rows] == [("edited", "nadia@shop.example")]
    assert len([c for c in chatwoot.calls if c["conversation_id"] == 101]) == 1


def test_a_reply_sent_from_souffleur_goes_to_chatwoot_once(
    world: tuple[FakeChatwoot, ServedApp],
) -> None:
    chatwoot, served = world
    r = chatwoot.deliver(chatwoot.message_created(202, "Do you ship to Belgium?"))
    cid = r.json()["conversation_id"]
    _wait(lambda: any(c["conversation_id"] == 202 for c in chatwoot.calls), "the note")
    version = served.desk.store.get(cid).version
    served.desk.send(cid, "Yes, we ship to Belgium.", agent="alice", expected_version=version)
    _wait(
        lambda: any(c["conversation_id"] == 202 and not c["private"] for c in chatwoot.calls),
        "the reply in Chatwoot",
    )
    (sent,) = [c for c in chatwoot.calls if c["conversation_id"] == 202 and not c["private"]]
    assert sent["content"] == "Yes, we ship to Belgium." and sent["message_type"] == "outgoing"
    # Chatwoot's webhook for that message (from the agent's token: a user) is the echo
    _wait(
        lambda: any(e.get("reason", "").startswith("the reply Souffleur") for e in chatwoot.echoes),
        "the echo recognised",
    )
    rows = [f for f in served.desk.store.feedback_rows() if f["conversation_id"] == cid]
    assert len(rows) == 1  # the send, not the echo
    assert [m.role for m in served.desk.store.get(cid).messages] == ["customer", "agent"]


@pytest.mark.fault
def test_chatwoot_down_is_retried_until_the_note_lands(
    world: tuple[FakeChatwoot, ServedApp],
) -> None:
    chatwoot, served = world
    chatwoot.fail_next = 2
    chatwoot.deliver(chatwoot.message_created(303, "Can I pay by PayPal?"))
    _wait(lambda: any(c["conversation_id"] == 303 for c in chatwoot.calls), "the note, at last")

    def row() -> Any:
        (d,) = [
            d
            for d in served.app.state.outbox.log(target="chatwoot")
            if d.payload["conversation_id"] == "303"
        ]
        return d

    # Chatwoot has the note a moment before the worker records the delivery
    _wait(lambda: row().status != "pending", "the delivery recorded")
    assert row().status == "delivered" and row().attempts == 3


def test_attachments_from_chatwoot_are_kept(world: tuple[FakeChatwoot, ServedApp]) -> None:
    chatwoot, served = world
    r = chatwoot.deliver(
        chatwoot.message_created(
            404,
            "",
            attachments=[
                {
                    "id": 9,
                    "file_type": "image",
                    "data_url": "https://cw.example/rails/crack.jpg",
                    "file_size": 2048,
                }
            ],
        )
    )
    assert r.json()["status"] == "received"
    (message,) = served.desk.store.get(r.json()["conversation_id"]).messages
    assert message.text == "📎 crack.jpg"


@pytest.mark.parametrize(
    ("how", "status"),
    [("wrong secret", 401), ("old timestamp", 401), ("url token", 200), ("no proof", 401)],
)
def test_webhooks_are_verified(
    world: tuple[FakeChatwoot, ServedApp], how: str, status: int
) -> None:
    chatwoot, _ = world
    event = chatwoot.message_created(505, "hello")
    if how == "wrong secret":
        r = chatwoot.deliver(event, secret="guess")
    elif how == "old timestamp":
        r = chatwoot.deliver(event, stamp=int(time.time()) - 3600)
    else:
        url = chatwoot.webhook_url + (f"?token={SECRET}" if how == "url token" else "")
        r = httpx.post(url, json=event, timeout=30)
    assert r.status_code == status, r.text
    if status == 401:
        assert r.json()["error"] == "bad_signature" and r.json()["fix"]


def test_other_events_and_private_notes_are_ignored(world: tuple[FakeChatwoot, ServedApp]) -> None:
    chatwoot, _ = world
    note = chatwoot.message_created(606, "internal remark", private=True)
    assert chatwoot.deliver(note).json()["status"] == "ignored"
    status = {"event": "conversation_status_changed", "id": 10, "status": "resolved"}
    r = chatwoot.deliver(status)
    assert r.json() == {
        "status": "ignored",
        "reason": "event 'conversation_status_changed' is not used",
    }
    # out of order: an agent's message in a conversation whose first message never came
    early = chatwoot.message_created(
        608, "Hello, how can I help?", message_type="outgoing", sender=chatwoot.agent
    )
    r = chatwoot.deliver(early)
    assert r.json()["status"] == "ignored" and "not seen" in r.json()["reason"]
    broken = chatwoot.message_created(607, "hi")
    del broken["account"]
    r = chatwoot.deliver(broken)
    assert r.status_code == 400 and "account.id" in r.json()["problem"]
    body = b"{not json"
    ts = str(int(time.time()))
    r = httpx.post(
        chatwoot.webhook_url,
        content=body,
        headers={"X-Chatwoot-Signature": signature(SECRET, ts, body), "X-Chatwoot-Timestamp": ts},
    )
    assert r.status_code == 400 and r.json()["error"] == "malformed_json"
