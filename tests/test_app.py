"""The Streamlit app driven by ``AppTest``: every page, the desk's actions, uploads, the policy
editor, roles and sign-in, and user text that must render as text.

Each test points the app at its own data directory (a copy of a demo store built once per
session) through ``SOUFFLEUR_DATA_DIR``; the cached workspace is keyed on the settings and the
cache is cleared after each test, so no workspace leaks from one test to the next.
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from copilot import Settings, load_settings, open_workspace
from copilot.desk.desk import Desk
from copilot.desk.store import ConversationStore
from copilot.testing import FakeOpenAIServer
from copilot.workspace import PolicyStore
from faces.pages.ui import md_text, services
from knowledge import make_engine
from tests.builders import pdf_bytes
from tests.conftest import unset_local_settings, use_store

APP = str(Path(__file__).resolve().parents[1] / "app.py")
XSS = "<script>alert(1)</script> ![x](http://evil/img.png) $x$ :red[boom]"


@pytest.fixture(scope="session")
def demo_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo store, built once (hash embedder, offline drafter) and copied by each test."""
    data = tmp_path_factory.mktemp("demo-store") / "data"
    open_workspace(load_settings(data_dir=data, embedder="hash", llm_base_url=None), drafter=None)
    return data


@pytest.fixture
def data_dir(tmp_path: Path, demo_store: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    data = tmp_path / "data"
    shutil.copytree(demo_store, data)
    monkeypatch.setenv("SOUFFLEUR_DATA_DIR", str(data))
    monkeypatch.setenv("SOUFFLEUR_EMBEDDER", "hash")
    unset_local_settings(monkeypatch)
    yield data
    st.cache_resource.clear()


def settings_of(data: Path) -> Settings:
    return load_settings(data_dir=data, embedder="hash")


def policies_of(data: Path) -> PolicyStore:
    return PolicyStore(make_engine(settings_of(data).db_url), refresh_s=0)


def store_of(data: Path) -> ConversationStore:
    return ConversationStore(make_engine(settings_of(data).db_url))


def signed_in(user: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    at.session_state["user"] = user
    return at.run()


def ok(at: AppTest) -> AppTest:
    assert not at.exception, [e.value for e in at.exception]
    return at


def open_conversation(at: AppTest, cid: str) -> AppTest:
    return ok(at.button(key=f"open_{cid}").click().run())


def draft_area(at: AppTest):  # type: ignore[no-untyped-def]
    (area,) = [a for a in at.sidebar.text_area if str(a.key).startswith("draft_")]
    return area


def plain(markdown: str) -> str:
    """What an escaped Markdown string reads as."""
    return re.sub(r"\\(.)", r"\1", markdown)


def frame_with(at: AppTest, column: str) -> pd.DataFrame:
    return next(d.value for d in at.dataframe if column in d.value.columns)


def texts(at: AppTest) -> list[str]:
    return [str(m.value) for m in at.markdown] + [str(c.value) for c in at.caption]


# -- sign-in and roles ---------------------------------------------------------------
def test_sign_in_then_the_desk_with_a_draft(data_dir: Path) -> None:
    at = ok(AppTest.from_file(APP, default_timeout=60).run())
    assert not at.sidebar.text_area  # nothing but the sign-in form
    at.selectbox(key="sign_in_user").set_value("alice")
    ok(at.button[0].click().run())
    assert at.session_state["user"] == "alice"
    area = draft_area(at)
    stored = store_of(data_dir).current_draft(at.session_state["conversation"])
    assert stored is not None and area.value and area.value == stored.edited_text
    assert at.sidebar.button(key="send").label == "Send"


def test_roles_see_only_their_pages(data_dir: Path) -> None:
    agent = ok(signed_in("alice"))
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        agent.switch_page("faces/pages/knowledge.py")
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        agent.switch_page("faces/pages/evals.py")
    ok(agent.switch_page("faces/pages/analytics.py").run())

    manager = ok(signed_in("kim"))  # the knowledge page is the manager's default page
    assert manager.title[0].value == "Knowledge"
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        manager.switch_page("faces/pages/desk.py")

    evaluator = ok(signed_in("eve"))
    assert evaluator.title[0].value == "Analytics"
    ok(evaluator.switch_page("faces/pages/evals.py").run())
    assert evaluator.title[0].value == "Evals"
    ok(evaluator.sidebar.button(key="sign_out").click().run())
    assert "user" not in evaluator.session_state and evaluator.button[0].label == "Sign in"


def test_sso_identity_picks_the_role(data_dir: Path) -> None:
    at = AppTest.from_file(APP, default_timeout=60)
    at.secrets = {
        "auth": {
            "redirect_uri": "http://localhost:8501/oauth2callback",
            "cookie_secret": "x",
            "client_id": "x",
            "client_secret": "x",
            "server_metadata_url": "https://sso.example.com/.well-known/openid-configuration",
        }
    }
    at.user = {"is_logged_in": False}
    ok(at.run())
    assert at.button[0].label == "Sign in with single sign-on"
    at.user = {"is_logged_in": True, "email": "kim@example.com", "name": "Kim"}
    assert ok(at.run()).title[0].value == "Knowledge"
    at.user = {"is_logged_in": True, "email": "mallory@example.com"}
    assert "has no role" in ok(at.run()).warning[0].value


# -- the desk ------------------------------------------------------------------------
def test_edit_then_send_stores_the_feedback_and_the_edit_survives_a_restart(data_dir: Path) -> None:
    at = open_conversation(signed_in("alice"), "conv-001")
    area = draft_area(at)
    drafted = str(area.value)
    assert "LUM-105097" in drafted and at.session_state["conversation"] == "conv-001"
    edited = drafted + "\nBonne soirée !"
    ok(area.input(edited).run())
    store = store_of(data_dir)
    assert store.current_draft("conv-001").edited_text == edited  # type: ignore[union-attr]  # autosaved

    # A new session (page reload) after a restart of the app shows the edited text.
    st.cache_resource.clear()
    again = open_conversation(signed_in("alice"), "conv-001")
    assert draft_area(again).value == edited

    ok(again.sidebar.button(key="send").click().run())
    assert plain(again.sidebar.success[0].value) == "Reply sent."
    row = store.feedback_rows()[-1]
    assert (
        row["conversation_id"] == "conv-001"
        and row["outcome"] == "edited"
        and 0 < row["edit_ratio"] < 0.2
    )
    assert row["sent_text"] == edited and row["drafted_text"] == drafted and row["agent"] == "alice"
    agent_says = [m for m in again.chat_message if m.name == "assistant"]
    assert agent_says and agent_says[-1].markdown[0].value == md_text(edited)
    assert not [
        a for a in again.sidebar.text_area if str(a.key).startswith("draft_")
    ]  # answered: no draft left


def test_escalate_hands_over_with_the_summary(data_dir: Path) -> None:
    at = open_conversation(signed_in("alice"), "conv-022")
    assert any(
        m.value.startswith(":red-badge[") and "Escalate →" in m.value for m in at.sidebar.markdown
    )
    ok(at.sidebar.button(key="escalate").click().run())
    assert at.sidebar.success[0].value.startswith("Escalated to ")
    rec = store_of(data_dir).get("conv-022")
    assert rec.status == "escalated" and rec.messages[-1].role == "system"
    assert store_of(data_dir).feedback_rows()[-1]["outcome"] == "escalated"
    assert "open_conv-022" not in [b.key for b in at.button]  # left the inbox


def test_discard_regenerate_and_tone(data_dir: Path) -> None:
    at = open_conversation(signed_in("alice"), "conv-010")
    first = draft_area(at).key
    ok(at.sidebar.button(key="discard").click().run())
    assert at.sidebar.info[0].value.startswith("Draft discarded")
    assert store_of(data_dir).current_draft("conv-010") is None  # not redrafted by itself
    ok(at.run())
    assert store_of(data_dir).current_draft("conv-010") is None
    ok(at.sidebar.button(key="regenerate").click().run())
    second = draft_area(at).key
    assert second != first
    ok(at.sidebar.button_group(key="tone_conv-010").set_value("casual").run())
    third = draft_area(at)
    assert third.key != second and store_of(data_dir).current_draft(
        "conv-010"
    ).suggestion.register_ in ("tu", "casual")  # type: ignore[union-attr]


def test_a_stale_send_shows_a_conflict_and_keeps_the_text(data_dir: Path) -> None:
    at = open_conversation(signed_in("alice"), "conv-003")
    ok(draft_area(at).input("My reply, typed in this window").run())
    other = Desk(open_workspace(settings_of(data_dir)))  # another agent, another process
    other.send(
        "conv-003",
        "Answered from another window",
        agent="bob",
        expected_version=other.view("conv-003").conversation.version,
    )
    ok(at.sidebar.button(key="send").click().run())
    assert "changed in another window" in plain(at.sidebar.warning[0].value)
    assert at.sidebar.code[0].value == "My reply, typed in this window"
    agent_msgs = [m.text for m in store_of(data_dir).get("conv-003").messages if m.role == "agent"]
    assert agent_msgs == ["Answered from another window"]


def test_customer_text_renders_as_text_never_as_markup(data_dir: Path) -> None:
    at = open_conversation(signed_in("alice"), "conv-004")
    at.text_area(key="customer_says_text").input(XSS)
    ok(at.button(key="FormSubmitter:customer_says-Post as the customer").click().run())
    shown = [m.markdown[0].value for m in at.chat_message if m.name == "user"]
    assert shown[-1] == md_text(XSS)
    assert "\\<script\\>" in shown[-1] and "\\!\\[x\\]\\(http\\://evil/img\\.png\\)" in shown[-1]
    assert not any("<script>" in v or "![x](" in v for v in texts(at))
    assert draft_area(at).value  # a draft for the new message arrived


def test_new_conversation_for_a_demo_customer(data_dir: Path) -> None:
    at = ok(signed_in("alice"))
    at.selectbox(key="new_customer").set_value("C1001")
    at.selectbox(key="new_channel").set_value("whatsapp")
    at.text_area(key="new_text").input("Bonjour, quels sont vos horaires ?")
    ok(at.button(key="FormSubmitter:new_conversation-Start the conversation").click().run())
    cid = at.session_state["conversation"]
    rec = store_of(data_dir).get(cid)
    assert rec.customer_id == "C1001" and rec.channel == "whatsapp"
    assert at.subheader[1].value == "Camille Martin" and draft_area(at).value


def test_a_first_message_without_a_topic_shows_that_the_draft_asks_back(data_dir: Path) -> None:
    at = ok(signed_in("alice"))
    at.selectbox(key="new_customer").set_value("C1001")
    at.text_area(key="new_text").input("it doesn't work")
    ok(at.button(key="FormSubmitter:new_conversation-Start the conversation").click().run())
    assert any("Asks what it is about" in m.value for m in at.sidebar.markdown)
    assert draft_area(at).value.rstrip().endswith("?")


def test_a_draft_to_review_says_what_to_check(data_dir: Path) -> None:
    """With the hash embedder the meaning search ranks at random, so the two searches disagree
    and the sources share few of the words of a chatty question: the agent is told to check."""
    at = ok(signed_in("alice"))
    at.selectbox(key="new_customer").set_value("C1001")
    at.text_area(key="new_text").input(
        "How long does delivery take for my sister's birthday surprise party?"
    )
    ok(at.button(key="FormSubmitter:new_conversation-Start the conversation").click().run())
    draft = store_of(data_dir).current_draft(at.session_state["conversation"])
    assert draft is not None
    sug = draft.suggestion
    assert sug.needs_review and not sug.escalation.escalate and sug.review_hints
    shown = [plain(str(c.value)) for c in at.sidebar.caption]
    assert all(hint in shown for hint in sug.review_hints), shown


def test_french_ui_and_escalation_reasons(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOUFFLEUR_UI_LANG", "fr")
    at = open_conversation(signed_in("alice"), "conv-022")
    assert (
        at.sidebar.button(key="send").label == "Envoyer"
        and at.sidebar.header[0].value == "Copilote"
    )
    draft = store_of(data_dir).current_draft("conv-022")
    assert draft is not None and draft.suggestion.escalation.reasons
    labels = [r.label for r in draft.suggestion.escalation.reasons]
    assert any(label in " ".join(texts(at)) for label in labels)
    assert not any(label.startswith(("The ", "No ", "Customer ")) for label in labels)


def test_with_an_llm_configured_the_draft_streams_from_it(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    reply = (
        "Bonjour Camille, votre lampe (commande LUM-105097) arrive le 28 novembre avec Colissimo."
    )
    answer = {
        "reply": reply,
        "cited": [],
        "escalate": False,
        "reasons": [],
        "confidence": 0.8,
        "answerable": True,
    }
    with FakeOpenAIServer(model="test-model") as srv:
        monkeypatch.setenv("SOUFFLEUR_LLM_BASE_URL", srv.base_url)
        monkeypatch.setenv("SOUFFLEUR_LLM_MODEL", "test-model")
        monkeypatch.setenv("SOUFFLEUR_LLM_API_KEY", "test")
        monkeypatch.setenv("SOUFFLEUR_LLM_BUDGET_S", "60")  # wait for it, however slow CI is
        at = ok(
            signed_in("alice")
        )  # drafts the longest-waiting conversation with the default reply
        srv.reply(json.dumps(answer))
        open_conversation(at, "conv-001")
        assert srv.chat_requests and srv.chat_requests[-1].get("stream") is True
    assert draft_area(at).value == reply
    assert any("test\\-model" in c.value for c in at.sidebar.caption)
    draft = store_of(data_dir).current_draft("conv-001")
    assert draft is not None and draft.suggestion.drafter == "llm"


def test_a_slow_llm_shows_the_offline_draft_at_once_then_its_own(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    reply = "Bonjour Camille, votre commande LUM-105097 arrive le 28 novembre."
    answer = {"reply": reply, "cited": [], "escalate": False, "reasons": [], "confidence": 0.8}
    with FakeOpenAIServer(model="test-model") as srv:
        monkeypatch.setenv("SOUFFLEUR_LLM_BASE_URL", srv.base_url)
        monkeypatch.setenv("SOUFFLEUR_LLM_MODEL", "test-model")
        monkeypatch.setenv("SOUFFLEUR_LLM_API_KEY", "test")
        monkeypatch.setenv("SOUFFLEUR_LLM_BUDGET_S", "0.2")
        at = ok(signed_in("alice"))  # drafts the longest-waiting conversation (default reply)
        desk = services().desk  # the app's own (cached per process and configuration)
        desk.wait_late(str(at.session_state["conversation"]), timeout=10)
        srv.delay(1.5, json.dumps(answer))
        cid = "conv-001"
        open_conversation(at, cid)
        shown = draft_area(at).value
        assert shown != reply and "offline" in " ".join(c.value for c in at.sidebar.caption)
        assert any("still drafting" in c.value for c in at.sidebar.caption)
        assert desk.drafting_late(cid)
        desk.wait_late(cid, timeout=10)
        ok(at.run())
    assert draft_area(at).value == reply
    assert not any("still drafting" in c.value for c in at.sidebar.caption)


# -- knowledge -----------------------------------------------------------------------
def test_upload_a_good_and_a_bad_file_then_find_it_by_hit_testing(data_dir: Path) -> None:
    at = ok(signed_in("kim"))
    pdf = pdf_bytes(
        [
            "Horaires du service client",
            "Le service client répond du lundi au samedi, de 8 h à 20 h,",
            "par chat et par téléphone.",
        ],
        title="Horaires du service client",
    )
    at.file_uploader(key="kb_files").set_value(
        [
            ("horaires.pdf", pdf, "application/pdf"),
            ("broken.pdf", b"this is not a pdf", "application/pdf"),
        ]
    )
    ok(at.button(key="FormSubmitter:upload_docs-Upload and index").click().run())
    assert any(
        plain(s.value).startswith("horaires.pdf: 1 added; 1 chunks; language fr")
        for s in at.success
    )
    assert any(plain(e.value).startswith("broken.pdf:") for e in at.error)
    assert any(str(p.proto.value) == "100" for p in at.get("progress"))
    kb = open_workspace(settings_of(data_dir)).kb
    (doc,) = [d for d in kb.documents() if d.source_name == "horaires.pdf"]

    at.text_input(key="hit_query").input("à quelle heure répond le service client ?")
    ok(at.run())
    assert any(doc.title in plain(m.value) for m in at.markdown)
    assert any(c.value.startswith("rrf ") for c in at.caption)


def test_a_contradicting_upload_is_shown_and_decided_on_the_page(data_dir: Path) -> None:
    at = ok(signed_in("kim"))
    news = "# Nouveautés\n\nNouveau : l'emballage cadeau coûte désormais 4,90 € par article.\n"
    at.file_uploader(key="kb_files").set_value(("nouveautes.md", news.encode(), "text/markdown"))
    ok(at.button(key="FormSubmitter:upload_docs-Upload and index").click().run())
    assert any("possible conflict(s)" in plain(w.value) for w in at.warning)
    book = open_workspace(settings_of(data_dir)).kb.conflicts
    (c,) = [c for c in book.open() if c.new_value == "4,90 €"]
    assert c.old_value == "4,50 €" and c.old_doc == "gift-wrapping-fr"
    assert any("4,90 €" in m.value and "Nouveautés" in plain(m.value) for m in at.markdown)
    at.radio(key=f"conflict_keep_{c.id}").set_value("both")
    ok(at.run())
    at.text_input(key=f"conflict_scope_new_{c.id}").input("articles gravés")
    ok(at.button(key=f"conflict_decide_{c.id}").click().run())
    assert any("give both scopes" in plain(e.value) for e in at.error)  # one scope is missing
    assert book.get(c.id).is_open
    at.text_input(key=f"conflict_scope_old_{c.id}").input("autres commandes")
    ok(at.button(key=f"conflict_decide_{c.id}").click().run())
    said = f"#{c.id}: both kept: 4,90 € for articles gravés, 4,50 € for autres commandes."
    assert any(plain(s.value) == said for s in at.success)
    decided = book.get(c.id)
    assert (decided.status, decided.new_scope, decided.old_scope, decided.decided_by) == (
        "kept_both",
        "articles gravés",
        "autres commandes",
        "kim",
    )


def _counted(at: AppTest, what: str) -> int:
    """The number before ``what`` in the knowledge page's counters."""
    line = next(str(c.value) for c in at.caption if f" {what}" in str(c.value))
    return int(line.split(f" {what}")[0].split("·")[-1].strip())


def test_replace_and_delete_a_document(data_dir: Path) -> None:
    at = ok(signed_in("kim"))
    before = _counted(at, "documents")
    at.file_uploader(key="kb_files").set_value(
        ("note.md", b"# Note\n\nVersion one of the note.\n", "text/markdown")
    )
    ok(at.button(key="FormSubmitter:upload_docs-Upload and index").click().run())
    assert _counted(at, "documents") == before + 1  # counted after the upload, in that run
    at.selectbox(key="replace_source").set_value("note.md")
    at.file_uploader(key="replace_file").set_value(
        ("note.md", b"# Note\n\nVersion two of the note, longer.\n", "text/markdown")
    )
    ok(at.button(key="FormSubmitter:replace_doc-Replace").click().run())
    kb = open_workspace(settings_of(data_dir)).kb
    (note,) = [d for d in kb.documents() if d.source_name == "note.md"]
    assert note.version == 2
    at.selectbox(key="doc_pick").set_value(note.doc_id)
    ok(at.button(key="doc_delete").click().run())
    assert _counted(at, "documents") == before
    assert any(
        plain(s.value) == f"Deleted {note.doc_id}." for s in at.success
    ) and note.doc_id not in [d.doc_id for d in kb.documents()]


def test_order_feed_upload_shows_the_validation_report(data_dir: Path) -> None:
    at = ok(signed_in("kim"))
    orders_before = _counted(at, "orders")
    feed = (
        b"order_number,customer_id,created_at,status,total,currency\n"
        b"LUM-900001,C1001,2026-11-01T10:00:00+01:00,shipped,20,EUR\n"
        b"LUM-900002,C1002,not a date,shipped,20,EUR\n"
    )
    at.file_uploader(key="orders_file").set_value(("feed.csv", feed, "text/csv"))
    ok(at.button(key="FormSubmitter:orders_upload-Import").click().run())
    assert [m.value for m in at.metric] == ["1", "0", "1"]
    assert _counted(at, "orders") == orders_before + 1
    assert "some rows were not imported" in at.warning[0].value
    problems = frame_with(at, "problem")
    assert list(problems["row"]) == [3] and "created_at" in list(problems["field"])


def test_a_broken_policy_is_refused_and_the_previous_one_stays(data_dir: Path) -> None:
    at = ok(signed_in("kim"))
    policies = policies_of(data_dir)
    before = policies.current().settings.refund_limit
    good = str(at.text_area(key="policy_text").value)
    at.text_area(key="policy_text").input(
        good.replace(f"refund_limit: {before:g}", "refund_limit: -5", 1)
    )
    ok(at.button(key="policy_save").click().run())
    error = plain(at.error[0].value)
    assert "settings.refund_limit" in error and "the previous policy stays active" in error
    assert policies_of(data_dir).current().settings.refund_limit == before
    assert at.text_area(key="policy_text").value != good  # the broken text stays for fixing

    at.text_area(key="policy_text").input(
        good.replace(f"refund_limit: {before:g}", "refund_limit: 200", 1)
    )
    ok(at.button(key="policy_save").click().run())
    assert plain(at.success[0].value).startswith("Policy saved")
    # the editor lists every trigger, computed ones included, most serious first
    triggers = frame_with(at, "detector")
    assert {"human_request", "refund_over_limit", "no_knowledge"} <= set(triggers["code"])
    detectors = triggers.set_index("code")["detector"]
    assert detectors["foreign_order"].startswith("computed")
    assert detectors["human_request"].startswith("learned: human_request ≥ 0.6")
    assert list(triggers["priority"]) == sorted(triggers["priority"])
    assert policies_of(data_dir).current().settings.refund_limit == 200
    (latest, *_) = policies_of(data_dir).history()
    assert latest.author == "kim"  # who saved it is kept


def test_knowledge_gaps_are_listed_whole_without_what_a_human_handles_on_purpose(
    data_dir: Path,
) -> None:
    desk = Desk(open_workspace(settings_of(data_dir)))
    desk.ensure_draft("conv-015")  # a GDPR request: handed to a human on purpose, no gap
    asked = "Vendez-vous des ampoules pour aquarium ? Mon voisin a payé les siennes 49,90 € (réf. 4456789)."
    desk.ensure_draft(desk.new_conversation(None, asked))
    at = ok(signed_in("kim"))
    shown = [e.label for e in at.expander]
    quoted = " ".join(m.value for m in at.markdown).replace("\\", "")  # Markdown escapes
    assert any("aquarium" in label for label in shown)
    assert "Vendez-vous des ampoules pour aquarium" in quoted  # whole, as the customer wrote it
    assert "4456789" not in quoted and "49,90" not in quoted  # placeholders instead
    assert "RGPD" not in quoted and not any("rgpd" in label.lower() for label in shown)


# -- analytics -----------------------------------------------------------------------
def test_analytics_with_no_rows_then_with_a_send(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    empty = tmp_path / "empty"
    use_store(monkeypatch, empty)
    try:
        at = ok(signed_in("eve"))
        assert "No data yet" in at.info[0].value
    finally:
        st.cache_resource.clear()
    desk = Desk(open_workspace(settings_of(empty)))
    cid = desk.new_conversation(None, "Bonjour, où est ma commande ?")
    draft = desk.ensure_draft(cid)
    assert draft is not None
    desk.send(
        cid, draft.draft_text, agent="alice", expected_version=desk.view(cid).conversation.version
    )
    at = ok(signed_in("eve"))
    metrics = {m.label: m.value for m in at.metric}
    assert (
        metrics["Drafts"] == "1"
        and metrics["Handled"] == "1"
        and metrics["Sent as drafted"] == "100%"
    )
    st.cache_resource.clear()


# -- what the app added to the desk service ------------------------------------------
def test_a_discarded_draft_is_not_redrafted_until_asked(data_dir: Path) -> None:
    desk = Desk(open_workspace(settings_of(data_dir)))
    draft = desk.ensure_draft("conv-005")
    assert draft is not None and not desk.discarded("conv-005")
    assert desk.store.draft_status("conv-005", draft.message_id) == "open"
    desk.discard("conv-005", agent="alice")
    assert (
        desk.discarded("conv-005")
        and desk.store.draft_status("conv-005", draft.message_id) == "discarded"
    )
    desk.post_customer_message(
        "conv-005", "Vous êtes là ?"
    )  # a new customer message: drafting resumes
    assert not desk.discarded("conv-005") and desk.store.draft_status("conv-005", 10**9) is None
