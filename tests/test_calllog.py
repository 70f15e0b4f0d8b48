"""Every model call is logged: drafts, repair rounds, failures, judge verdicts; souffleur logs."""

from __future__ import annotations

from pathlib import Path

import pytest

from copilot import load_settings, open_workspace
from copilot.demo import ANCHOR, load_demo
from copilot.desk.desk import Desk
from copilot.pipeline.callcontext import calling
from copilot.pipeline.calllog import CallLog
from copilot.testing import FakeOpenAIServer, model_reply
from faces.cli import main
from knowledge import HashEmbedder
from tests.conftest import use_store

ASK = "Bonjour, où en est ma commande LUM-105097 ?"


def desk_on(tmp: Path, srv: FakeOpenAIServer, **settings: object) -> Desk:
    s = load_settings(
        data_dir=tmp / "data",
        demo_autoload=False,
        llm_base_url=srv.base_url,
        llm_api_key="test",
        llm_max_retries=0,
        llm_budget_s=30,
        llm_reply_format="json",
        **settings,
    )
    ws = open_workspace(s, embedder=HashEmbedder())
    load_demo(ws, today=ANCHOR)
    ws.service.today = lambda: ANCHOR
    return Desk(ws)


def test_a_draft_its_repair_round_and_a_failed_call_are_each_one_logged_row(
    tmp_path: Path,
) -> None:
    with FakeOpenAIServer() as srv:
        d = desk_on(tmp_path, srv)
        srv.reply("Sure! Your order is on its way.")  # not the JSON asked for: one repair round
        srv.reply(model_reply("Votre commande est en route [ORDER]."))
        cid = d.new_conversation("C1001", ASK)
        draft = d.ensure_draft(cid)
        assert draft is not None and draft.suggestion.drafter == "llm"
        srv.error(500, "the GPU fell over")
        other = d.new_conversation("C1001", "Et ma facture ?")
        assert d.ensure_draft(other) is not None  # the offline draft, the failure logged
    log = CallLog(d.ws.engine)
    calls = list(reversed(log.list()))
    assert [(c.role, c.purpose, c.outcome) for c in calls] == [
        ("drafter", "draft", "ok"),
        ("drafter", "repair", "ok"),
        ("drafter", "draft", "server_error"),
    ]
    first, repair, failed = calls
    assert first.conversation_id == repair.conversation_id == cid
    assert failed.conversation_id == other and "GPU fell over" in (failed.error or "")
    assert first.output == "Sure! Your order is on its way." and first.latency_ms > 0
    assert first.messages == srv.chat_requests[0]["messages"]  # what was sent, as sent
    assert first.prompt_version == d.ws.service.llm.prompt_version  # type: ignore[union-attr]
    assert first.prompt_hash != repair.prompt_hash and first.prompt_tokens
    assert [c.id for c in log.list(outcome="error")] == [failed.id]
    assert [c.id for c in log.list(purpose="repair")] == [repair.id]
    assert [c.id for c in log.list(conversation_id=cid)] == [repair.id, first.id]


def test_the_call_log_can_be_switched_off(tmp_path: Path) -> None:
    with FakeOpenAIServer() as srv:
        srv.reply(model_reply("Votre commande est en route."))
        d = desk_on(tmp_path, srv, call_log=False)
        d.ensure_draft(d.new_conversation("C1001", ASK))
        assert len(srv.chat_requests) == 1
    assert CallLog(d.ws.engine).list() == []


def test_calling_rejects_an_unknown_field() -> None:
    with pytest.raises(TypeError, match="colour"), calling(colour="blue"):
        pass


def test_souffleur_logs_lists_filters_and_shows_one_call_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with FakeOpenAIServer() as srv:
        d = desk_on(tmp_path, srv)
        srv.reply(model_reply("Votre commande est en route."))
        cid = d.new_conversation("C1001", ASK)
        d.ensure_draft(cid)
    use_store(monkeypatch, tmp_path / "data")
    capsys.readouterr()
    assert main(["logs"]) == 0
    listed = capsys.readouterr().out
    assert "drafter" in listed and "draft" in listed and cid in listed and "en route" in listed
    assert main(["logs", "--outcome", "error"]) == 0
    assert "no model call logged with these filters" in capsys.readouterr().out
    (call,) = CallLog(d.ws.engine).list()
    assert main(["logs", str(call.id)]) == 0
    shown = capsys.readouterr().out
    assert "--- system" in shown and "--- user" in shown and "=== output" in shown
    assert "LUM-105097" in shown  # the customer's message as it was sent (local: not masked)
    assert main(["logs", "999"]) == 2  # a usage error, as for other refused commands
    assert "No model call number 999" in capsys.readouterr().err
