"""The replay bench (evals/replay.py): a real desk history on the demo store (drafts sent as
they are, edited, escalated), made into a masked, time-split eval set, replayed, and compared
with what the agents did; from the CLI and the Evals page too."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from copilot import load_settings, open_workspace
from copilot.demo import demo_conversations
from copilot.desk.accounts import Accounts
from copilot.desk.desk import Desk
from copilot.workspace import Workspace
from evals import load_dataset
from evals.replay import (
    MIN_CASES,
    REPORT,
    ReplayError,
    history,
    history_cases,
    run_replay,
    split,
)
from faces.cli import main
from knowledge.db import now
from tests.conftest import unset_local_settings, use_store
from tests.served import demo_workspace
from tests.test_app_evals import APP, PAGE, ok, plain

PHONE = "+33 6 12 34 56 78"


def demo_replies() -> list[str]:
    """The case ids the demo store's own sample conversations make: each agent turn that
    follows a customer turn (read from the demo file, not from the store)."""
    ids = []
    for conv in demo_conversations():
        roles = [t["role"] for t in conv["turns"]]
        answers = [
            i for i, r in enumerate(roles) if r == "agent" and i and roles[i - 1] == "customer"
        ]
        ids += [f"{conv['id']}-{k}" for k in range(1, len(answers) + 1)]
    return ids


@dataclass
class Bench:
    ws: Workspace
    desk: Desk
    start: datetime  # after the demo store's own history, before the first desk action
    desk_cases: list[str] = field(default_factory=list)  # in the order they happened
    copilot: dict[str, bool] = field(default_factory=dict)  # case -> the desk draft escalated
    agent: dict[str, bool] = field(default_factory=dict)  # case -> the agent escalated
    sent: dict[str, str] = field(default_factory=dict)  # case -> the reply as the agent sent it
    pii_case: str = ""
    name: str = ""
    email: str = ""

    def draft(self, cid: str, case: str) -> str:
        d = self.desk.ensure_draft(cid)
        assert d is not None
        self.copilot[case] = d.suggestion.escalation.escalate
        return d.draft_text

    def reply(self, cid: str, case: str, text: str) -> None:
        version = self.desk.view(cid).conversation.version
        self.desk.send(cid, text, agent="alice", expected_version=version)
        self.agent[case], self.sent[case] = False, text
        self.desk_cases.append(case)

    def escalate(self, cid: str, case: str) -> None:
        version = self.desk.view(cid).conversation.version
        self.desk.escalate(cid, agent="alice", expected_version=version)
        self.agent[case] = True
        if case not in self.desk_cases:
            self.desk_cases.append(case)


def act(ws: Workspace) -> Bench:
    """A small known history, through the desk as an agent makes it."""
    b = Bench(ws, Desk(ws), now())
    text = b.draft("conv-001", "conv-001-1")
    b.reply("conv-001", "conv-001-1", text)  # sent as drafted
    b.desk.post_customer_message("conv-001", "Et je peux la retourner si elle ne me plaît pas ?")
    text = b.draft("conv-001", "conv-001-2")
    b.reply("conv-001", "conv-001-2", text + " Bonne soirée !")  # edited
    b.draft("conv-022", "conv-022-1")
    b.escalate("conv-022", "conv-022-1")  # escalated without a reply
    b.draft("conv-015", "conv-015-1")
    b.reply(
        "conv-015",
        "conv-015-1",
        "Bonjour, votre demande est enregistrée sous le dossier 2291 : nous y répondons sous un "
        "mois. Alice Moreau, service client",
    )  # the agent's own words, signed
    b.draft("conv-005", "conv-005-1")
    b.escalate("conv-005", "conv-005-1")
    text = b.draft("conv-013", "conv-013-1")
    b.reply("conv-013", "conv-013-1", text)
    b.escalate("conv-013", "conv-013-1")  # replied, then handed over
    customer = ws.orders.customer("C1001")  # conv-001 is hers: a second contact
    assert customer is not None and customer.email
    order = ws.orders.orders_of(customer.customer_id)[0].order_number
    b.name, b.email = customer.name, customer.email
    cid = b.desk.new_conversation(
        customer.customer_id,
        f"Hello, {customer.name} here ({customer.email}, {PHONE}). Where is my order {order}?",
        channel="whatsapp",
    )
    b.pii_case = f"{cid}-1"
    text = b.draft(cid, b.pii_case)
    b.reply(cid, b.pii_case, f"Dear {customer.name.split()[0]}, {text}")
    return b


@pytest.fixture(scope="module")
def bench(tmp_path_factory: pytest.TempPathFactory) -> Bench:
    return act(demo_workspace(tmp_path_factory.mktemp("replay")))


def test_the_set_holds_every_reply_masked_and_labelled(bench: Bench) -> None:
    # the desk did what the labels below rely on
    assert not bench.copilot["conv-005-1"] and bench.copilot["conv-022-1"]
    assert bench.copilot["conv-015-1"]
    cases = {c.case.id: c for c in history_cases(bench.desk.store, bench.ws.orders)}
    assert set(cases) == set(demo_replies()) | set(bench.desk_cases)
    assert {i for i, c in cases.items() if c.case.should_escalate} == {
        "conv-022-1",
        "conv-005-1",
        "conv-013-1",
    }
    assert {i: c.outcome for i, c in cases.items() if i in bench.desk_cases} == {
        "conv-001-1": "accepted",
        "conv-001-2": "edited",
        "conv-022-1": "escalated",
        "conv-015-1": "edited",
        "conv-005-1": "escalated",
        "conv-013-1": "accepted",
        bench.pii_case: "edited",
    }
    escalated_only = cases["conv-022-1"].case
    assert escalated_only.reference_answer is None
    assert escalated_only.expected_action == "escalate"
    assert escalated_only.conversation[-1].role == "customer"
    replied = cases["conv-013-1"].case.reference_answer or ""  # what the agent sent, masked
    sent_lines = bench.sent["conv-013-1"].splitlines()
    assert replied.splitlines()[0] == "Hello [NAME_1]," and sent_lines[0] != "Hello [NAME_1],"
    assert "Your order LUM-104947 was delivered on" in replied  # order facts are no personal data
    follow_up = cases["conv-001-2"].case
    assert [t.role for t in follow_up.conversation] == ["customer", "agent", "customer"]
    assert follow_up.conversation[-1].text == "Et je peux la retourner si elle ne me plaît pas ?"
    assert follow_up.customer_context is not None
    assert follow_up.customer_context.customer_id == "C1001"

    pii = cases[bench.pii_case].case
    question, reference = pii.conversation[-1].text, pii.reference_answer or ""
    assert pii.channel == "whatsapp" and pii.prior_contacts == 1  # conv-001, same customer
    assert "[EMAIL_1]" in question and "[PHONE_1]" in question and "[NAME_1]" in question
    assert reference.startswith("Dear [NAME_")
    first = bench.name.split()[0]
    for c in cases.values():
        written = c.case.model_dump_json()
        assert bench.email not in written and PHONE not in written
        assert first not in written and bench.name not in written


def test_the_time_split(bench: Bench, tmp_path: Path) -> None:
    cases = history_cases(bench.desk.store, bench.ws.orders)
    train, test = split(cases, bench.start)
    assert [c.case.id for c in test] == bench.desk_cases
    assert {c.case.id for c in train} == set(demo_replies())
    # by default the latest 30 %, rounded up: 5 of these 14
    train, test = split(cases)
    assert len(cases) == 14 and [c.case.id for c in test] == bench.desk_cases[-5:]
    assert len(train) == 9
    today = bench.start.date()
    assert split(cases, today + timedelta(days=1))[1] == []
    assert split(cases, date(2000, 1, 1))[0] == []

    # a history over several days (imported with its times): a day starts at midnight UTC
    ws = demo_workspace(tmp_path, demo=False)
    store = Desk(ws).store
    day = datetime.fromisoformat("2026-10-05T00:00:00+00:00")
    for i, when in enumerate((day - timedelta(seconds=1), day, day + timedelta(days=3))):
        store.create(
            customer_id=None,
            turns=[("customer", "Hello?", when - timedelta(minutes=5)), ("agent", "Hi!", when)],
            conversation_id=f"old-{i}",
        )
    train, test = split(history_cases(store, ws.orders), date(2026, 10, 5))
    assert [c.case.id for c in train] == ["old-0-1"]
    assert [c.case.id for c in test] == ["old-1-1", "old-2-1"]


def test_the_report_compares_drafts_with_what_agents_did(bench: Bench, tmp_path: Path) -> None:
    # the account of the agent who signed conv-015's reply (removed after: an account turns on
    # the app's sign-in, which a later test does without)
    accounts = Accounts(bench.ws.engine)
    accounts.add("alice", roles=["agent"], password="correct-horse-42", name="Alice Moreau")
    try:
        result = run_replay(
            bench.ws.settings, split_date=bench.start, out=tmp_path / "run", workspace=bench.ws
        )
    finally:
        accounts.remove("alice")
    report = json.loads((tmp_path / "run" / REPORT).read_text(encoding="utf-8"))
    rows = {r["id"]: r for r in report["rows"]}
    assert set(rows) == set(bench.desk_cases) and report["unscored"] == 0
    assert rows["conv-001-1"]["edit_distance"] == 0  # sent as drafted
    assert rows["conv-013-1"]["edit_distance"] == 0
    assert 0 < rows["conv-001-2"]["edit_distance"] < 0.2  # " Bonne soirée !" added
    assert rows["conv-015-1"]["edit_distance"] > 0.5  # the agent's own words
    assert "edit_distance" not in rows["conv-022-1"]  # no reply to compare with
    # facts: the order number the draft gave is the agent's; the agent's file number is not
    assert "lum105097" in rows["conv-001-1"]["facts_in_draft"]
    assert rows["conv-001-1"]["facts_in_draft"] == rows["conv-001-1"]["agent_facts"]
    assert "2291" in rows["conv-015-1"]["agent_facts"]
    assert "2291" not in rows["conv-015-1"]["facts_in_draft"]
    # the masked draft greets nobody by name
    assert bench.name.split()[0] not in rows[bench.pii_case]["draft"]
    # nor does the set name the agent who signed a reply (the desk's account, its sender)
    for half in ("train", "test"):
        for name in ("cases.jsonl", "dataset.json"):
            written = (tmp_path / "run" / "set" / half / name).read_text(encoding="utf-8")
            assert "Moreau" not in written and "Alice" not in written, half

    # escalation agreement, from what the desk showed and what the agent did
    pairs = [(bench.copilot[c], bench.agent[c]) for c in bench.desk_cases]
    e = report["escalation"]
    assert (e["tp"], e["fp"], e["fn"], e["tn"]) == (
        pairs.count((True, True)),
        pairs.count((True, False)),
        pairs.count((False, True)),
        pairs.count((False, False)),
    )
    assert e["tp"] >= 1 and e["fp"] >= 1 and e["fn"] >= 1  # conv-022, conv-015, conv-005
    agreed = pairs.count((True, True)) + pairs.count((False, False))
    assert e["agreement"]["value"] == pytest.approx(agreed / len(pairs))
    # the set is an ordinary dataset folder: the harness reads it, its run is in the folder
    test_set = load_dataset(tmp_path / "run" / "set" / "test")
    assert test_set.workspace and [c.id for c in test_set.cases] == bench.desk_cases
    assert len(load_dataset(tmp_path / "run" / "set" / "train").cases) == len(demo_replies())
    assert (tmp_path / "run" / "summary.json").is_file() and result.run.summary["cases"] == 7


def test_too_few_replies_say_how_many_there_are_and_are_needed(
    bench: Bench, tmp_path: Path
) -> None:
    empty = demo_workspace(tmp_path / "empty", demo=False)
    with pytest.raises(ReplayError) as info:
        run_replay(empty.settings, workspace=empty)
    assert "has 0 agent replies to replay" in str(info.value)
    assert f"needs at least {MIN_CASES}" in str(info.value) and "--min-cases" in str(info.value)

    ws = demo_workspace(tmp_path / "demo")  # its sample conversations alone
    with pytest.raises(ReplayError, match=f"has {len(demo_replies())} agent replies"):
        run_replay(ws.settings, workspace=ws)
    with pytest.raises(ReplayError, match="needs at least 100"):
        run_replay(bench.ws.settings, workspace=bench.ws, min_cases=100)
    with pytest.raises(ReplayError, match="No agent reply on or after 2099-01-01"):
        run_replay(bench.ws.settings, workspace=bench.ws, split_date=date(2099, 1, 1))


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    use_store(monkeypatch, tmp_path / "data")
    for name in ("SOUFFLEUR_LLM_BASE_URL", "SOUFFLEUR_DATABASE_URL", "SOUFFLEUR_CHROMA_HOST"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path


def test_the_cli_replays_the_demo_desk(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo"]) == 0
    capsys.readouterr()
    assert main(["eval", "replay"]) == 2
    err = capsys.readouterr().err
    assert f"has {len(demo_replies())} agent replies" in err and "at least 10" in err
    with pytest.raises(SystemExit):
        main(["eval", "replay", "--split-date", "2026-13-01"])
    assert "write it YYYY-MM-DD" in capsys.readouterr().err

    b = act(open_workspace(load_settings()))
    out = env / "replay-run"
    assert main(["eval", "replay", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "Edit distance, draft → agent's reply" in printed
    assert "Escalation agreement (copilot vs agent)" in printed
    report = json.loads((out / REPORT).read_text(encoding="utf-8"))
    assert len(demo_replies()) + len(b.desk_cases) == 14
    assert (report["split"]["train"], report["split"]["test"]) == (9, 5)  # 30 %, rounded up
    assert [r["id"] for r in report["rows"]] == b.desk_cases[-5:]
    # the harness runs the written set again on its own
    assert main(["eval", "run", "--dataset", str(out / "set" / "test")]) == 0


@pytest.fixture
def app_dir(bench: Bench, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    data = tmp_path / "data"
    shutil.copytree(bench.ws.settings.data_dir, data)
    use_store(monkeypatch, data)
    unset_local_settings(monkeypatch)
    yield data
    st.cache_resource.clear()


def run_tab() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    at.session_state["user"] = "eve"
    ok(at.run())
    ok(at.switch_page(PAGE).run())
    at.session_state["eval_tab"] = "Run an eval"
    return ok(at.run())


def test_the_evals_page_replays_the_desk(bench: Bench, app_dir: Path) -> None:
    found = history(bench.desk.store)
    # 14 cases (see the CLI test): conv-022 and conv-005 escalated without a reply, conv-013 after
    assert (found.cases, found.replies, found.escalated) == (14, 12, 3)
    at = run_tab()
    assert f"{found.cases} usable agent replies ({found.replies} sent" in "\n".join(
        t.value for t in at.text
    )
    ok(at.button(key="eval_replay_start").click().run())
    table = at.table[0].value
    values = {
        plain(k): plain(v) for k, v in zip(table["figure"], table["value [95% CI]"], strict=True)
    }
    assert values["Replay cases: all (train / test)"].startswith("14 (9 / 5)")
    assert "Escalation agreement (copilot vs agent)" in values
    (run,) = (app_dir / "evals" / "runs").glob("*-replay-offline")
    assert (run / REPORT).is_file()


def test_the_evals_page_says_when_the_desk_has_too_little(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    demo_workspace(tmp_path)  # the demo's sample conversations alone
    use_store(monkeypatch, tmp_path / "data")
    unset_local_settings(monkeypatch)
    try:
        at = run_tab()
        assert at.button(key="eval_replay_start").disabled
        assert any(
            f"has {len(demo_replies())} agent replies" in plain(i.value)
            and f"needs at least {MIN_CASES}" in plain(i.value)
            for i in at.info
        )
    finally:
        st.cache_resource.clear()


def test_a_history_of_more_conversations_than_sqlite_takes_values_replays(tmp_path: Path) -> None:
    # SQLite refuses more than 32,766 values in one statement: the inbox read every
    # conversation's messages with one IN (...) list of their ids
    import sqlite3

    import sqlalchemy as sa

    from copilot.desk.store import ConversationStore
    from copilot.desk.storeschema import conversations, messages
    from knowledge import make_engine

    engine = make_engine(f"sqlite:///{tmp_path / 'big.db'}")

    @sa.event.listens_for(engine, "connect")
    def _default_limit(dbapi_conn: sqlite3.Connection, _record: object) -> None:
        # SQLite's own default since 3.32 (this machine's build allows 250,000)
        dbapi_conn.setlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER, 32_766)

    engine.dispose()  # connections opened from now on get the limit
    store = ConversationStore(engine)
    at = datetime(2026, 11, 1, tzinfo=UTC)
    n = 33_000
    with engine.begin() as conn:
        conn.execute(
            sa.insert(conversations),
            [
                {
                    "id": f"c{i}",
                    "channel": "web",
                    "status": "closed",
                    "version": 1,
                    "created_at": at,
                    "updated_at": at,
                }
                for i in range(n)
            ],
        )
        conn.execute(
            sa.insert(messages),
            [
                {"conversation_id": f"c{i}", "role": role, "text": f"{role} {i}", "created_at": at}
                for i in range(n)
                for role in ("customer", "agent")
            ],
        )
    inbox = store.inbox(statuses=["closed"])
    assert len(inbox) == n and all(len(r.messages) == 2 for r in inbox)
    assert history(store).conversations == n  # each: one agent reply to a customer message
