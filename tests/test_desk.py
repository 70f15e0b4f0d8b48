"""The desk service and the conversation store: drafts, sends, feedback, conflicts."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from copilot import load_settings, open_workspace
from copilot.demo import ANCHOR, load_demo
from copilot.desk.desk import Desk, as_placeholders, band
from copilot.desk.store import ConflictError, DraftRecord, edit_ratio
from copilot.pipeline.llm import LangChainChatModel, LLMDrafter
from copilot.testing import FakeOpenAIServer, model_reply
from copilot.types import DraftOptions
from knowledge import HashEmbedder, SouffleurError
from tests.builders import escalate_as_drafted, send_an_edited_follow_up
from tests.conftest import open_demo


@pytest.fixture(scope="module")
def desk(tmp_path_factory: pytest.TempPathFactory) -> Desk:
    return Desk(open_demo(tmp_path_factory.mktemp("desk")))


def test_the_inbox_lists_demo_conversations_longest_wait_first(desk: Desk) -> None:
    rows = desk.inbox()
    assert len(rows) >= 30
    waits = [r.waiting_s for r in rows]
    assert all(w is not None for w in waits) and waits == sorted(waits, reverse=True)
    assert {r.band for r in rows} >= {"fast", "warning", "late"}
    assert rows[0].customer_name and rows[0].preview


def test_send_a_draft_as_is_then_edited(desk: Desk) -> None:
    draft = desk.ensure_draft("conv-001")
    assert (
        draft is not None
        and draft.draft_text == draft.edited_text
        and "LUM-105097" in draft.draft_text
    )
    assert desk.ensure_draft("conv-001").id == draft.id  # type: ignore[union-attr]  # not redrafted on rerun
    v = desk.view("conv-001").conversation.version
    desk.send("conv-001", draft.draft_text, agent="alice", expected_version=v)
    (row,) = desk.store.feedback_rows()
    assert (
        row["outcome"] == "accepted"
        and row["edit_ratio"] == 0
        and row["seconds_to_send"] > 0
        and row["model"] == "offline"
    )
    view = desk.view("conv-001")
    assert view.conversation.messages[-1].role == "agent" and view.draft is None
    # answered: out of the waiting list, still in the full one
    assert "conv-001" not in [r.conversation_id for r in desk.inbox(waiting_only=True)]
    assert "conv-001" in [r.conversation_id for r in desk.inbox()]

    desk.post_customer_message("conv-001", "Et je peux la retourner si elle ne me plaît pas ?")
    assert "conv-001" in [r.conversation_id for r in desk.inbox(waiting_only=True)]  # waits again
    send_an_edited_follow_up(desk, draft)


@pytest.mark.fault
def test_two_sessions_on_one_conversation_conflict_instead_of_corrupting(desk: Desk) -> None:
    desk.ensure_draft("conv-002")
    v = desk.view("conv-002").conversation.version
    desk.send("conv-002", "Première réponse", agent="alice", expected_version=v)
    with pytest.raises(ConflictError) as info:
        desk.send("conv-002", "Seconde réponse", agent="bob", expected_version=v)
    assert "another window" in str(info.value)
    agent_msgs = [m.text for m in desk.view("conv-002").conversation.messages if m.role == "agent"]
    assert agent_msgs == ["Première réponse"]


def test_escalate_and_discard_are_recorded(desk: Desk) -> None:
    escalate_as_drafted(desk, "conv-022")
    view = desk.view("conv-022")
    assert (
        view.conversation.status == "escalated" and view.conversation.messages[-1].role == "system"
    )
    assert desk.store.feedback_rows()[-1]["outcome"] == "escalated"
    assert "conv-022" not in [r.conversation_id for r in desk.inbox()]

    desk.ensure_draft("conv-003")
    desk.discard("conv-003", agent="alice")
    assert (
        desk.store.current_draft("conv-003") is None
        and desk.store.feedback_rows()[-1]["outcome"] == "rejected"
    )


def test_regenerate_and_new_conversations(desk: Desk) -> None:
    first = desk.ensure_draft("conv-010")
    again = desk.regenerate("conv-010", DraftOptions(variant=1, length="shorter"))
    assert first is not None and again is not None and again.id != first.id
    cid = desk.new_conversation("C1001", "Bonjour, quels sont vos horaires ?", channel="whatsapp")
    assert desk.ensure_draft(cid) is not None
    with pytest.raises(SouffleurError, match="empty"):
        desk.post_customer_message(cid, "   ")


def test_helpers() -> None:
    assert (
        edit_ratio("abc", "abc") == 0
        and edit_ratio("abc", "abd") == pytest.approx(1 / 3)
        and edit_ratio("", "") == 0
    )
    assert [band(s) for s in (None, 5, 90, 400)] == ["answered", "fast", "warning", "late"]


def test_knowledge_gaps_group_weak_questions(desk: Desk) -> None:
    for text in [
        "Vendez-vous des ampoules pour aquarium ?",
        "Avez-vous des ampoules d'aquarium ?",
        "Do you sell garden gnomes?",
    ]:
        desk.ensure_draft(desk.new_conversation(None, text))
    gaps = desk.knowledge_gaps(max_confidence=1.0)
    aquarium = [g for g in gaps if "aquarium" in g.example]
    assert len(aquarium) == 1 and aquarium[0].count == 2
    assert gaps == sorted(gaps, key=lambda g: -g.count)
    # a knowledge manager reads the customers' words, not stems ("ampoul", "vend")
    assert {"ampoules", "aquarium", "vendez"} <= set(aquarium[0].shown_words())
    assert "ampoul" not in aquarium[0].shown_words()
    assert aquarium[0].examples == [
        "Vendez-vous des ampoules pour aquarium ?",
        "Avez-vous des ampoules d'aquarium ?",
    ]


def test_knowledge_gaps_leave_out_thanks_and_questions_escalated_on_purpose(desk: Desk) -> None:
    asked = {
        "gdpr": "Je veux que vous supprimiez toutes mes données personnelles (RGPD).",
        "thanks": "Merci beaucoup, très bonne journée !",
        "gap": "Est-ce que vous faites aussi des abat-jour pour lampes de bureau en osier ?",
    }
    for text in asked.values():
        desk.ensure_draft(desk.new_conversation(None, text))
    examples = [e for g in desk.knowledge_gaps(max_confidence=1.0) for e in g.examples]
    assert asked["gap"] in examples
    assert asked["gdpr"] not in examples and asked["thanks"] not in examples
    gap = next(g for g in desk.knowledge_gaps(max_confidence=1.0) if asked["gap"] in g.examples)
    # stop words of either language are no words of the gap ("est", "aussi", "des")
    assert not {"est", "aussi", "des", "que"} & set(gap.shown_words(20))


def test_gap_questions_show_placeholders_for_personal_data_amounts_and_numbers() -> None:
    shown = as_placeholders(
        "Ma commande LUM-105097 de 129,90 € (suivi 6A12345678901) n'est pas là, écrivez à "
        "jo.martin@example.fr"
    )
    assert shown == (
        "Ma commande [NUMBER] de [AMOUNT] (suivi [NUMBER]) n'est pas là, écrivez à [EMAIL]"
    )


# -- the LLM latency budget: the offline draft at once, the model's when it comes -----------
@pytest.fixture(scope="module")
def llm_server() -> Iterator[FakeOpenAIServer]:
    with FakeOpenAIServer() as srv:
        yield srv


def slow_desk(tmp: Path, base_url: str, budget_s: float) -> Desk:
    settings = load_settings(data_dir=tmp / "data", demo_autoload=False, llm_budget_s=budget_s)
    chat = LangChainChatModel(
        base_url=base_url, api_key="test", model="gpt-4o-mini", timeout_s=10, max_retries=0
    )
    drafter = LLMDrafter(chat, mask_pii=False, company="Atelier Lumen")
    ws = open_workspace(settings, embedder=HashEmbedder(), drafter=drafter)
    load_demo(ws, today=ANCHOR)
    ws.service.today = lambda: ANCHOR
    return Desk(ws)


MODEL_REPLY = model_reply("Bonjour, votre commande est en route [ORDER].")
ASK = "Bonjour, où en est ma commande LUM-105097 ?"


def late_draft(
    tmp: Path, srv: FakeOpenAIServer, *, delay_s: float, budget_s: float
) -> tuple[Desk, str, DraftRecord]:
    """A desk whose model answers after ``delay_s``, and the first draft of a new question."""
    srv.reset()
    srv.delay(delay_s, MODEL_REPLY)
    d = slow_desk(tmp, srv.base_url, budget_s=budget_s)
    cid = d.new_conversation("C1001", ASK)
    first = d.ensure_draft(cid)
    assert first is not None
    return d, cid, first


def test_a_slow_model_gets_the_offline_draft_shown_then_replaced_by_its_own(
    tmp_path: Path, llm_server: FakeOpenAIServer
) -> None:
    d, cid, first = late_draft(tmp_path, llm_server, delay_s=1.5, budget_s=0.2)
    assert first.suggestion.drafter == "offline"
    assert d.drafting_late(cid)
    d.wait_late(cid, timeout=10)
    assert not d.drafting_late(cid)
    now_shown = d.store.current_draft(cid)
    assert now_shown is not None and now_shown.id != first.id
    assert now_shown.suggestion.drafter == "llm"
    assert "en route" in now_shown.draft_text
    assert d.proposed(cid) is None
    # both calls are logged: the offline draft shown and the model's
    assert [r["drafter"] for r in d.store.calls(cid)] == ["offline", "gpt-4o-mini"]


def test_a_late_model_draft_never_overwrites_an_edit_it_is_offered(
    tmp_path: Path, llm_server: FakeOpenAIServer
) -> None:
    d, cid, first = late_draft(tmp_path, llm_server, delay_s=1.0, budget_s=0.1)
    d.store.autosave(first.id, first.draft_text + " Bonne journée !")  # the agent types
    d.wait_late(cid, timeout=10)
    kept = d.store.current_draft(cid)
    assert kept is not None and kept.id == first.id
    assert kept.edited_text.endswith("Bonne journée !")
    offered = d.proposed(cid)
    assert offered is not None and "en route" in offered.draft_text
    d.take_proposed(cid, offered.id, adopt=True)
    taken = d.store.current_draft(cid)
    assert taken is not None and taken.id == offered.id and d.proposed(cid) is None


def test_a_late_model_draft_after_the_reply_was_sent_is_dropped(
    tmp_path: Path, llm_server: FakeOpenAIServer
) -> None:
    d, cid, first = late_draft(tmp_path, llm_server, delay_s=1.0, budget_s=0.1)
    d.send(cid, first.draft_text, agent="a", expected_version=d.store.get(cid).version)
    d.wait_late(cid, timeout=10)
    assert d.store.current_draft(cid) is None and d.proposed(cid) is None
    assert d.store.draft_status(cid, first.message_id) == "sent"


def test_a_model_within_the_budget_streams_on_the_callers_thread(
    tmp_path: Path, llm_server: FakeOpenAIServer
) -> None:
    llm_server.reset()
    llm_server.reply(MODEL_REPLY)
    d = slow_desk(tmp_path, llm_server.base_url, budget_s=10)
    cid = d.new_conversation("C1001", ASK)
    seen: list[tuple[int, str]] = []
    draft = d.ensure_draft(cid, on_delta=lambda text: seen.append((threading.get_ident(), text)))
    assert draft is not None and draft.suggestion.drafter == "llm"
    assert not d.drafting_late(cid)
    assert seen and {ident for ident, _ in seen} == {threading.get_ident()}
    assert "en route" in seen[-1][1]


# -- many agents drafting at once: pages never wait on the queue, the server sees the limit ----
@pytest.mark.parametrize(("shared", "most"), [(2, 2), (None, 8)])
def test_twenty_agents_on_two_processes_draft_at_once_within_the_shared_model_limit(
    tmp_path: Path, shared: int | None, most: int
) -> None:
    """Two workspaces on one database stand for two app processes, each running up to four
    model calls; SOUFFLEUR_LLM_SHARED_CONCURRENCY caps what the server sees across both (the
    unset case shows what it prevents). The server holds every request: each agent's page still
    gets its offline draft at once, and every model draft lands once the server answers."""
    with FakeOpenAIServer() as srv:
        srv.default = MODEL_REPLY  # what every request answers
        settings = load_settings(
            data_dir=tmp_path / "data",
            demo_autoload=False,
            llm_base_url=srv.base_url,
            llm_api_key="test",
            llm_max_retries=0,
            llm_timeout_s=30,
            llm_budget_s=0.2,
            llm_concurrency=4,
            llm_shared_concurrency=shared,
        )
        first = open_workspace(settings, embedder=HashEmbedder())
        load_demo(first, today=ANCHOR)
        desks = [Desk(first), Desk(open_workspace(settings, embedder=HashEmbedder()))]
        srv.hold()
        asked = [
            (desks[i % 2], desks[i % 2].new_conversation(None, f"Bonjour, question {i} : {ASK}"))
            for i in range(20)
        ]
        shown: dict[str, DraftRecord | None] = {}

        def agent(d: Desk, cid: str) -> None:
            shown[cid] = d.ensure_draft(cid)

        pages = [threading.Thread(target=agent, args=a) for a in asked]
        for p in pages:
            p.start()
        for p in pages:
            p.join(timeout=60)
        # every page has its draft while the server has answered nothing
        assert {cid: (s.suggestion.drafter if s else None) for cid, s in shown.items()} == {
            cid: "offline" for _, cid in asked
        }
        while srv.in_flight < most:  # the pools reach the server, up to the limit
            threading.Event().wait(0.05)
        threading.Event().wait(0.5)  # more would have arrived by now
        assert srv.most_in_flight == most
        srv.release()
        for d, cid in asked:
            d.wait_late(cid, timeout=60)
        landed = [d.store.current_draft(cid) for d, cid in asked]
        assert [x.suggestion.drafter if x else None for x in landed] == ["llm"] * 20
        assert srv.most_in_flight == most and len(srv.chat_requests) == 20
