"""The generic outbound webhook against a real HTTP receiver on 127.0.0.1: signed deliveries,
retries with backoff on errors and on no answer, a delivery log, and the events of the API
(suggestion.ready, reply.sent) end to end through `souffleur serve`'s app."""

from __future__ import annotations

import hashlib
import hmac
import json
import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from copilot.channels.outbox import Outbox, WebhookTarget, signature
from copilot.desk.apikeys import TokenStore
from knowledge import make_engine
from tests.served import ServedApp, demo_workspace

SECRET = "whsec-test"


class Receiver:
    """Records every POST; answers with the scripted statuses, then 200."""

    def __init__(self, statuses: list[int] | None = None) -> None:
        self.statuses = list(statuses or [])
        self.received: list[dict[str, Any]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                outer.received.append({"headers": dict(self.headers), "body": body})
                status = outer.statuses.pop(0) if outer.statuses else 200
                self.send_response(status)
                self.end_headers()
                self.wfile.write(b"{}")

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/souffleur"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def events(self) -> list[str]:
        return [r["headers"]["X-Souffleur-Event"] for r in self.received]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver([500, 503])
    yield r
    r.server.shutdown()


def _verified(delivery: dict[str, Any]) -> bool:
    h = delivery["headers"]
    mac = hmac.new(
        SECRET.encode(),
        h["X-Souffleur-Timestamp"].encode() + b"." + delivery["body"],
        hashlib.sha256,
    )
    return hmac.compare_digest(h["X-Souffleur-Signature"], "sha256=" + mac.hexdigest())


def test_a_failed_delivery_is_retried_with_backoff_then_delivered(
    tmp_path: Any, receiver: Receiver
) -> None:
    outbox = Outbox(
        make_engine(f"sqlite:///{tmp_path / 'w.db'}"),
        {"webhook": WebhookTarget(receiver.url, SECRET)},
        backoff_s=0.2,
    )
    did = outbox.enqueue("webhook", "reply.sent", {"text": "Bonjour !"}, "c-1")
    assert outbox.deliver_due() == 1  # 500
    (d,) = outbox.log()
    assert (d.status, d.attempts, d.last_status_code) == ("pending", 1, 500)
    assert outbox.deliver_due() == 0  # not due yet: it waits its backoff
    time.sleep(0.25)
    assert outbox.deliver_due() == 1  # 503, now waits 0.4 s
    time.sleep(0.45)
    assert outbox.deliver_due() == 1
    (d,) = outbox.log()
    assert (d.status, d.attempts, d.last_status_code) == ("delivered", 3, 200)
    assert d.id == did and d.delivered_at is not None
    # the same delivery id and a valid signature on every try
    assert {r["headers"]["X-Souffleur-Delivery"] for r in receiver.received} == {str(did)}
    assert all(_verified(r) for r in receiver.received)
    assert json.loads(receiver.received[-1]["body"]) == {"event": "reply.sent", "text": "Bonjour !"}


def test_a_forged_body_does_not_match_the_signature() -> None:
    sig = signature(SECRET, "1764950400", b'{"text": "hello"}')
    assert sig != signature(SECRET, "1764950400", b'{"text": "hellO"}')
    assert sig != signature("other-secret", "1764950400", b'{"text": "hello"}')


@pytest.mark.fault
def test_an_unreachable_desk_is_retried_then_marked_failed_and_logged(tmp_path: Any) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed = s.getsockname()[1]  # nothing listens once the socket is closed
    outbox = Outbox(
        make_engine(f"sqlite:///{tmp_path / 'w.db'}"),
        {"webhook": WebhookTarget(f"http://127.0.0.1:{closed}/hook")},
        max_attempts=3,
        backoff_s=0.0,
        timeout_s=2,
    )
    outbox.enqueue("webhook", "suggestion.ready", {"message_id": 1}, "c-2")
    for _ in range(3):
        outbox.deliver_due()
    (d,) = outbox.log()
    assert (d.status, d.attempts) == ("failed", 3)
    assert d.last_error and "ConnectError" in d.last_error
    assert outbox.deliver_due() == 0  # failed for good: not tried again
    assert outbox.log(status="failed")[0].id == d.id


def test_the_api_posts_its_events_to_the_webhook(tmp_path: Any) -> None:
    receiver = Receiver()
    ws = demo_workspace(tmp_path, demo=False, webhook_url=receiver.url, webhook_secret=SECRET)
    _, token = TokenStore(ws.engine).create("desk", "integration")
    served = ServedApp(ws)
    try:
        api = served.client(token)
        got = api.post(
            "/v1/messages",
            json={
                "channel": "sms",
                "conversation": "+33600000000",
                "text": "Bonjour, vous livrez en Suisse ?",
            },
        ).json()
        api.post(f"/v1/conversations/{got['conversation_id']}/reply", json={"text": "Oui !"})
        deadline = time.monotonic() + 15
        while len(receiver.received) < 2:
            assert time.monotonic() < deadline, receiver.events()
            time.sleep(0.05)
        assert receiver.events() == ["suggestion.ready", "reply.sent"]
        assert all(_verified(r) for r in receiver.received)
        ready, sent = (json.loads(r["body"]) for r in receiver.received)
        assert ready["external_id"] == "+33600000000" and ready["channel"] == "sms"
        assert ready["suggestion"]["text"] == got["suggestion"]["text"]
        assert (sent["text"], sent["external_id"]) == ("Oui !", "+33600000000")
    finally:
        served.close()
        receiver.server.shutdown()


def test_the_cli_prints_the_delivery_log(tmp_path: Any, monkeypatch: Any, capsys: Any) -> None:
    from faces.cli import main

    monkeypatch.setenv("SOUFFLEUR_DATA_DIR", str(tmp_path / "data"))
    (tmp_path / "data").mkdir()
    outbox = Outbox(
        make_engine(f"sqlite:///{tmp_path / 'data' / 'souffleur.db'}"),
        {"webhook": WebhookTarget("http://x")},
    )
    outbox.enqueue("webhook", "reply.sent", {"text": "hi"}, "c-9")
    assert main(["outbox", "log", "--status", "pending"]) == 0
    out = capsys.readouterr().out
    assert "reply.sent" in out and "pending" in out and "c-9" in out
    assert main(["outbox", "log", "--status", "failed"]) == 0
    assert "nothing sent out yet with status failed" in capsys.readouterr().out


@pytest.mark.fault
def test_two_processes_send_each_row_once(tmp_path: Any) -> None:
    receiver = Receiver()
    try:
        url = f"sqlite:///{tmp_path / 'shared.db'}"
        first = Outbox(make_engine(url), {"webhook": WebhookTarget(receiver.url, SECRET)})
        second = Outbox(make_engine(url), {"webhook": WebhookTarget(receiver.url, SECRET)})
        for n in range(20):
            first.enqueue("webhook", "reply.sent", {"n": n}, f"c-{n}")
        workers = [threading.Thread(target=o.deliver_due) for o in (first, second, first, second)]
        for w in workers:
            w.start()
        for w in workers:
            w.join()
        sent = sorted(json.loads(r["body"])["n"] for r in receiver.received)
        assert sent == list(range(20))  # every row once, none twice
        assert {d.status for d in second.log()} == {"delivered"}
    finally:
        receiver.server.shutdown()
