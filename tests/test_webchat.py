"""The built-in web chat over real HTTP: signed links identify the customer, a typed e-mail
does not (unless the workspace trusts it), resends are stored once, each browser reads only
its own conversation, and the agent's reply from the desk reaches the customer's page."""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from copilot import Workspace
from copilot.channels.webchat import ChatIdentity, ChatLinkError
from faces.cli import main
from tests.served import ServedApp, customer_with_orders, demo_workspace


class Served(ServedApp):
    def __init__(self, ws: Workspace) -> None:
        super().__init__(ws)
        self.http = self.client()


def _serve(tmp: Path, **settings: Any) -> Served:
    return Served(demo_workspace(tmp, **settings))


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    s = _serve(tmp_path_factory.mktemp("chat"))
    yield s
    s.close()


def _customer(ws: Workspace) -> tuple[str, str, str]:
    c = customer_with_orders(ws)
    return c.customer_id, c.email, ws.orders.orders_of(c.customer_id)[0].order_number


def _session() -> str:
    return secrets.token_hex(16)


def _post(http: httpx.Client, session: str, text: str, **extra: Any) -> httpx.Response:
    body = {"session": session, "text": text, "client_id": secrets.token_hex(8), **extra}
    return http.post("/chat/api/messages", json=body)


def test_the_page_is_served(served: Served) -> None:
    r = served.http.get("/chat")
    assert r.status_code == 200 and "text/html" in r.headers["content-type"]
    assert "/chat/api/messages" in r.text and "textContent" in r.text


def test_a_signed_link_customer_gets_a_personal_draft_and_sees_the_reply(served: Served) -> None:
    customer_id, email, _ = _customer(served.ws)
    theirs = {o.order_number for o in served.ws.orders.orders_of(customer_id)}
    link = served.app.state.chat.identity.sign(email)
    session = _session()
    r = _post(served.http, session, "Bonjour, où en est ma commande ?", link=link)
    assert r.status_code == 201, r.text
    cid = served.app.state.gateway.conversation_of("webchat", session)
    rec = served.desk.store.get(cid)
    assert rec.customer_id == customer_id and rec.channel == "web"
    draft = served.desk.store.current_draft(cid)
    assert draft is not None
    named = draft.suggestion.order_numbers or draft.suggestion.clarify_orders
    assert named and set(named) <= theirs  # their orders were read (or asked about)
    # the agent sends from the desk; the customer's page reads it
    served.desk.send(
        cid, "Votre commande arrive demain.", agent="alice", expected_version=rec.version
    )
    lines = served.http.get("/chat/api/messages", params={"session": session}).json()
    assert [(x["role"], x["text"]) for x in lines] == [
        ("customer", "Bonjour, où en est ma commande ?"),
        ("agent", "Votre commande arrive demain."),
    ]
    after = lines[0]["id"]
    newer = served.http.get("/chat/api/messages", params={"session": session, "after": after})
    assert [x["role"] for x in newer.json()] == ["agent"]
    # another browser's session sees nothing of it
    assert served.http.get("/chat/api/messages", params={"session": _session()}).json() == []


def test_a_typed_email_is_not_trusted_by_default(served: Served) -> None:
    _, email, _ = _customer(served.ws)
    session = _session()
    assert _post(served.http, session, "Where is my order?", email=email).status_code == 201
    _post(served.http, session, "Hello?", email=email)
    cid = served.app.state.gateway.conversation_of("webchat", session)
    rec = served.desk.store.get(cid)
    assert rec.customer_id is None  # a visitor: no one's orders in the draft
    assert rec.messages[0].text == f"[unverified e-mail: {email}]\nWhere is my order?"
    assert rec.messages[1].text == "Hello?"  # said once


def test_a_trusting_workspace_matches_a_typed_email(tmp_path: Path) -> None:
    s = _serve(tmp_path, chat_trust_email=True)
    try:
        customer_id, email, _ = _customer(s.ws)
        session = _session()
        assert _post(s.http, session, "Where is my order?", email=email).status_code == 201
        cid = s.app.state.gateway.conversation_of("webchat", session)
        assert s.desk.store.get(cid).customer_id == customer_id
    finally:
        s.close()


def test_forged_and_expired_links_are_refused(served: Served) -> None:
    _, email, _ = _customer(served.ws)
    identity: ChatIdentity = served.app.state.chat.identity
    good = identity.sign(email)
    forged = ChatIdentity(b"not-the-secret").sign(email)
    expired = identity.sign(email, ttl_s=60, now=time.time() - 3600)
    for link in (forged, expired, good[:-3] + "AAA", "garbage"):
        r = _post(served.http, _session(), "hi", link=link)
        assert r.status_code == 403 and r.json()["error"] == "bad_chat_link", link
    with pytest.raises(ChatLinkError, match="expired"):
        identity.verify(expired)


def test_a_resend_is_stored_once_and_bad_sessions_are_refused(served: Served) -> None:
    session = _session()
    body = {"session": session, "text": "Do you ship to Spain?", "client_id": "abc-1"}
    first = served.http.post("/chat/api/messages", json=body)
    again = served.http.post("/chat/api/messages", json=body)
    assert first.status_code == 201 and again.json()["duplicate"]
    assert len(served.http.get("/chat/api/messages", params={"session": session}).json()) == 1
    r = _post(served.http, "../../etc", "hi")
    assert r.status_code == 400 and "session" in r.json()["problem"]
    assert served.http.get("/chat/api/messages", params={"session": "x"}).status_code == 400


def test_the_cli_prints_a_link_the_server_accepts(
    served: Served, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _, email, _ = _customer(served.ws)
    monkeypatch.setenv("SOUFFLEUR_DATA_DIR", str(served.ws.settings.data_dir))
    assert main(["chat-link", email, "--base-url", "http://shop.example"]) == 0
    url = capsys.readouterr().out.strip()
    assert url.startswith("http://shop.example/chat?c=")
    token = url.split("?c=", 1)[1]
    assert served.app.state.chat.identity.verify(token) == email.lower()


def test_processes_starting_at_once_share_one_chat_secret(tmp_path: Path) -> None:
    import threading

    secrets_seen: list[bytes] = []
    start = threading.Barrier(6)

    def open_identity() -> None:
        start.wait()
        secrets_seen.append(ChatIdentity.for_data_dir(tmp_path / "data").secret)

    threads = [threading.Thread(target=open_identity) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(secrets_seen) == 6 and len(set(secrets_seen)) == 1
    assert [p.name for p in (tmp_path / "data").iterdir()] == ["chat-secret"]
