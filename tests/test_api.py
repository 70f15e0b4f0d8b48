"""The HTTP API served by a real uvicorn on 127.0.0.1, called with httpx: tokens and scopes,
inbound messages from any channel (mapped, idempotent, attachments kept), suggestions (JSON and
Server-Sent Events), replies recorded as the desk records them, knowledge and order routes, and
a clear 4xx for every kind of bad input."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from copilot import Workspace
from copilot.desk.apikeys import TokenStore
from tests.served import ServedApp, customer_with_orders, demo_workspace, free_port

ROOT = Path(__file__).resolve().parents[1]


class Served(ServedApp):
    def __init__(self, ws: Workspace) -> None:
        super().__init__(ws)
        self.gateway = self.app.state.gateway
        tokens = TokenStore(ws.engine)
        self.integration = tokens.create("desk-bridge", "integration")[1]
        self.knowledge = tokens.create("kb-sync", "knowledge")[1]


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    s = Served(demo_workspace(tmp_path_factory.mktemp("api")))
    yield s
    s.close()


@pytest.fixture(scope="module")
def api(served: Served) -> httpx.Client:
    return served.client(served.integration)


def _customer_with_orders(ws: Workspace) -> tuple[str, str, str]:
    c = customer_with_orders(ws)
    return c.customer_id, c.email, ws.orders.orders_of(c.customer_id)[0].order_number


def test_health_is_open_and_every_other_route_needs_a_token(served: Served) -> None:
    anonymous = served.client(None)
    assert anonymous.get("/v1/health").json() == {"status": "ok"}
    assert anonymous.get("/v1/ready").json() == {"status": "ready"}
    r = anonymous.post("/v1/messages", json={"channel": "web", "conversation": "x", "text": "hi"})
    assert r.status_code == 401
    assert r.headers["www-authenticate"] == "Bearer"
    assert "souffleur tokens create" in r.json()["fix"]
    assert served.client("sfl_not-a-token").get("/v1/knowledge").status_code == 401
    # a knowledge token may not post messages, an integration token may not touch knowledge
    r = served.client(served.knowledge).post(
        "/v1/messages", json={"channel": "web", "conversation": "x", "text": "hi"}
    )
    assert r.status_code == 403 and "kb-sync" in r.json()["problem"]
    assert served.client(served.integration).get("/v1/knowledge").status_code == 403
    assert anonymous.get("/openapi.json").json()["info"]["title"] == "Souffleur API"


def test_a_revoked_token_is_refused(served: Served) -> None:
    tokens = TokenStore(served.ws.engine)
    _, secret = tokens.create("short-lived", "admin")
    assert served.client(secret).get("/v1/knowledge").status_code == 200
    assert tokens.revoke("short-lived")
    assert served.client(secret).get("/v1/knowledge").status_code == 401
    stored = {t.name: t for t in tokens.list()}["short-lived"]
    assert stored.revoked_at is not None and secret not in repr(stored)


def test_an_inbound_message_opens_a_desk_conversation_with_its_draft(
    served: Served, api: httpx.Client
) -> None:
    customer_id, email, number = _customer_with_orders(served.ws)
    r = api.post(
        "/v1/messages",
        json={
            "channel": "whatsapp",
            "conversation": "wa-thread-1",
            "event_id": "evt-1",
            "email": f"  {email.upper()} ",
            "text": f"Bonjour, où en est ma commande {number} ?",
        },
    )
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["created"] and not body["duplicate"]
    cid = body["conversation_id"]
    suggestion = body["suggestion"]
    assert suggestion["message_id"] == body["message_id"]
    assert number in suggestion["text"]  # the customer was matched by e-mail: their order
    assert any(f"order:{number}" in c["doc_ids"] for c in suggestion["citations"])
    # the desk sees it as any conversation
    assert cid in [row.conversation_id for row in served.desk.inbox()]
    assert served.desk.store.get(cid).customer_id == customer_id

    # the next message of that thread joins the same conversation
    r = api.post(
        "/v1/messages",
        json={"channel": "whatsapp", "conversation": "wa-thread-1", "text": "merci !"},
    )
    assert r.status_code == 201 and r.json()["conversation_id"] == cid
    assert not r.json()["created"]
    # the same thread id on another channel is another conversation
    r = api.post(
        "/v1/messages", json={"channel": "web", "conversation": "wa-thread-1", "text": "?"}
    )
    assert r.json()["conversation_id"] != cid


def test_an_event_delivered_twice_is_stored_once(api: httpx.Client) -> None:
    payload = {
        "channel": "messenger",
        "conversation": "m-77",
        "event_id": "evt-twice",
        "text": "How long do refunds take?",
    }
    first = api.post("/v1/messages", json=payload)
    again = api.post("/v1/messages", json=payload)
    assert first.status_code == 201 and again.status_code == 200
    assert again.json()["duplicate"]
    assert again.json()["message_id"] == first.json()["message_id"]
    conv = api.get(f"/v1/conversations/{first.json()['conversation_id']}").json()
    assert [m["text"] for m in conv["messages"]] == ["How long do refunds take?"]
    assert conv["external_id"] == "m-77" and conv["channel"] == "messenger"


def test_attachments_are_kept_and_an_attachment_alone_is_a_message(api: httpx.Client) -> None:
    r = api.post(
        "/v1/messages",
        json={
            "channel": "web",
            "conversation": "photo-1",
            "attachments": [
                {"name": "broken-shade.jpg", "content_type": "image/jpeg", "url": "https://x/1"}
            ],
        },
    )
    assert r.status_code == 201, r.text
    conv = api.get(f"/v1/conversations/{r.json()['conversation_id']}").json()
    (message,) = conv["messages"]
    assert message["text"] == "📎 broken-shade.jpg"
    assert message["attachments"][0]["content_type"] == "image/jpeg"


@pytest.mark.parametrize(
    ("body", "status", "error", "named"),
    [
        ("{not json", 400, "malformed_json", "JSON"),
        ({"channel": "web", "text": "hi"}, 422, "invalid_fields", "conversation"),
        (
            {"channel": "Web Chat!", "conversation": "a", "text": "hi"},
            422,
            "invalid_fields",
            "channel",
        ),
        ({"channel": "web", "conversation": "a", "text": "x" * 20_001}, 413, "too_large", "text"),
        ({"channel": "web", "conversation": "a", "text": "  "}, 400, "bad_request", "no text"),
    ],
)
def test_bad_messages_get_a_4xx_that_names_the_problem(
    api: httpx.Client, body: object, status: int, error: str, named: str
) -> None:
    content = body if isinstance(body, str) else json.dumps(body)
    r = api.post("/v1/messages", content=content, headers={"Content-Type": "application/json"})
    assert r.status_code == status, r.text
    assert r.json()["error"] == error
    assert named in r.json()["problem"]
    assert r.json()["fix"]


def test_an_oversized_body_is_refused_before_it_is_read(api: httpx.Client) -> None:
    r = api.post(
        "/v1/messages",
        content=b"{" + b" " * 2_000_000 + b"}",
        headers={"Content-Type": "application/json"},
    )
    assert r.status_code == 413 and "limit" in r.json()["problem"]


def test_unknown_conversations_are_404(api: httpx.Client) -> None:
    for r in (
        api.get("/v1/conversations/c-nope"),
        api.get("/v1/conversations/c-nope/suggestion"),
        api.post("/v1/conversations/c-nope/reply", json={"text": "hello"}),
    ):
        assert r.status_code == 404 and r.json()["error"] == "unknown_conversation"


def test_a_reply_is_recorded_as_the_desk_records_it_and_handed_to_the_channel(
    served: Served, api: httpx.Client
) -> None:
    delivered: list[tuple[str, int, str]] = []
    served.desk.deliverers.append(lambda *a: delivered.append(a))
    try:
        got = api.post(
            "/v1/messages",
            json={"channel": "web", "conversation": "reply-1", "text": "Do you ship to Belgium?"},
        ).json()
        cid, draft = got["conversation_id"], got["suggestion"]["text"]
        version = api.get(f"/v1/conversations/{cid}").json()["version"]
        r = api.post(
            f"/v1/conversations/{cid}/reply",
            json={"text": draft, "agent": "alice", "expected_version": version},
        )
        assert r.status_code == 201, r.text
        assert r.json()["outcome"] == "accepted" and r.json()["edit_ratio"] == 0
        assert delivered == [(cid, r.json()["message_id"], draft)]
        # a second reply on the version the agent saw before is stale
        stale = api.post(
            f"/v1/conversations/{cid}/reply",
            json={"text": "again", "expected_version": version},
        )
        assert stale.status_code == 409 and stale.json()["error"] == "stale_version"
        # a reply sent from another desk is recorded, not delivered again
        api.post(
            "/v1/messages",
            json={"channel": "web", "conversation": "reply-1", "text": "ok and Spain?"},
        )
        r = api.post(f"/v1/conversations/{cid}/feedback", json={"text": "Yes, Spain too."})
        assert r.status_code == 201 and r.json()["outcome"] == "edited"
        assert len(delivered) == 1
        rows = served.desk.store.feedback_rows()
        assert [row["outcome"] for row in rows if row["conversation_id"] == cid] == [
            "accepted",
            "edited",
        ]
    finally:
        served.desk.deliverers.clear()


def test_the_suggestion_streams_as_server_sent_events(api: httpx.Client) -> None:
    cid = api.post(
        "/v1/messages",
        json={"channel": "web", "conversation": "sse-1", "text": "Can I pay by PayPal?"},
    ).json()["conversation_id"]
    with api.stream("GET", f"/v1/conversations/{cid}/suggestion/stream") as r:
        assert r.headers["content-type"].startswith("text/event-stream")
        text = "".join(r.iter_text())
    events = [block.split("\n") for block in text.strip().split("\n\n")]
    assert events[-1][0] == "event: suggestion"
    final = json.loads(events[-1][1].removeprefix("data: "))
    assert final["text"] and final["message_id"]
    assert api.get(f"/v1/conversations/{cid}/suggestion").json()["draft_id"] == final["draft_id"]


def test_escalate_hands_over_to_the_suggested_queue(api: httpx.Client) -> None:
    cid = api.post(
        "/v1/messages",
        json={"channel": "web", "conversation": "esc-1", "text": "I want to speak to a human now"},
    ).json()["conversation_id"]
    r = api.post(f"/v1/conversations/{cid}/escalate", json={"agent": "bob"})
    assert r.status_code == 200 and r.json()["queue"]
    assert api.get(f"/v1/conversations/{cid}").json()["status"] == "escalated"


def test_knowledge_upload_list_and_delete(served: Served) -> None:
    kb = served.client(served.knowledge)
    r = kb.post(
        "/v1/knowledge",
        files=[
            (
                "files",
                (
                    "gift-wrap.md",
                    b"# Gift wrap\n\nGift wrap costs 4.50 EUR per order.",
                    "text/markdown",
                ),
            ),
            ("files", ("broken.pdf", b"%PDF-1.4 not really a pdf", "application/pdf")),
        ],
    )
    assert r.status_code == 200, r.text
    good, bad = r.json()
    assert good["ok"] and good["chunks"] >= 1 and good["documents"]
    assert not bad["ok"] and bad["error"]  # the bad file is named, the good one indexed
    doc_id = good["documents"][0]
    assert doc_id in [d["doc_id"] for d in kb.get("/v1/knowledge").json()]
    assert kb.delete(f"/v1/knowledge/{doc_id}").json() == {"deleted": doc_id}
    assert doc_id not in [d["doc_id"] for d in kb.get("/v1/knowledge").json()]
    assert kb.delete(f"/v1/knowledge/{doc_id}").status_code == 404


def test_an_upload_names_the_statements_another_document_contradicts(served: Served) -> None:
    kb = served.client(served.knowledge)
    md = "text/markdown"
    first = b"# Engraving\n\nEngraving on a lamp base costs 12.00 EUR per item, up to 20 letters."
    second = b"# Engraving news\n\nEngraving on a lamp base costs 15.00 EUR per item from now on."
    (one,) = kb.post("/v1/knowledge", files=[("files", ("engraving.md", first, md))]).json()
    assert one["ok"] and one["conflicts"] == []
    (two,) = kb.post("/v1/knowledge", files=[("files", ("news.md", second, md))]).json()
    (c,) = two["conflicts"]
    assert (c["says"], c["other_says"], c["status"]) == ("15.00 EUR", "12.00 EUR", "open")
    assert c["document"] == two["documents"][0] and c["other_document"] == one["documents"][0]


def test_order_upserts_store_the_good_records_and_name_the_bad(
    served: Served, api: httpx.Client
) -> None:
    good = {
        "order_number": "API-000001",
        "customer_id": "api-cust",
        "customer_name": "Nora Api",
        "email": "nora@example.org",
        "created_at": "2026-11-20T10:00:00+00:00",
        "status": "shipped",
        "items": [{"sku": "A1", "name": "Teapot", "quantity": 1, "unit_price": 20}],
        "total": 20,
        "currency": "EUR",
    }
    bad = {**good, "order_number": "API-000002", "total": "twenty"}
    r = api.put("/v1/orders", json=[good, bad])
    assert r.status_code == 200, r.text
    assert r.json()["imported"] == 1 and r.json()["invalid_rows"] == [2]
    assert "total" in r.json()["problems"][0]
    assert [o.order_number for o in served.ws.orders.orders_of("api-cust")] == ["API-000001"]


def test_the_cli_creates_a_token_and_serves_the_api(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "SOUFFLEUR_DATA_DIR": str(tmp_path / "data"),
        "SOUFFLEUR_EMBEDDER": "hash",
        "SOUFFLEUR_DEMO_AUTOLOAD": "false",
    }
    cli = [sys.executable, "-m", "faces.cli"]
    made = subprocess.run(
        [*cli, "tokens", "create", "shop", "--role", "integration"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    secret = made.stdout.strip().splitlines()[-1]
    assert secret.startswith("sfl_")
    port = free_port()
    proc = subprocess.Popen(
        [*cli, "serve", "--port", str(port), "--log-level", "warning"],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        client = httpx.Client(
            base_url=f"http://127.0.0.1:{port}",
            headers={"Authorization": f"Bearer {secret}"},
            timeout=30,
        )
        deadline = time.monotonic() + 60
        while True:
            try:
                if client.get("/v1/health").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else ""
            assert time.monotonic() < deadline, "souffleur serve did not answer"
            time.sleep(0.2)
        r = client.post("/v1/messages", json={"channel": "web", "conversation": "1", "text": "hi"})
        assert r.status_code == 201, r.text
    finally:
        proc.terminate()
        proc.wait(timeout=20)
