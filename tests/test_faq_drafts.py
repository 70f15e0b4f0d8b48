"""FAQ drafts from resolved conversations: what is proposed (agents' own answers where nothing
supported the draft), grouped, masked and deduplicated; approval (ingested with provenance, or
refused for personal data), rejection, the CLI and the Knowledge page."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from copilot import Workspace, open_workspace
from copilot.desk.desk import Desk, Gap
from copilot.desk.faqdrafts import (
    ANSWER_PROMPT,
    COVERED,
    FaqDraftError,
    FaqDrafts,
    PersonalDataError,
    article_from_gap,
)
from copilot.desk.store import DraftRecord
from faces.cli import main
from tests.builders import xlsx_bytes
from tests.conftest import use_store
from tests.test_app import data_dir, demo_store, ok, settings_of, signed_in
from tests.test_orders import ORDERS

__all__ = ["data_dir", "demo_store"]  # the fixtures, used below

FAQ = [
    ["question", "answer"],
    [
        "How long do I have to return an item?",
        "You have 30 days from delivery to return an unused item in its original packaging; "
        "the return label is free.",
    ],
    [
        "How much does delivery cost?",
        "Standard delivery costs 4.90 € and is free from 60 € of purchase.",
    ],
    [
        "How can I contact customer service?",
        "Write to service@shop.example: we answer within one working day.",
    ],
]
PICKUP = "Can I pick up my order at your workshop in Lyon?"
PICKUP_AGAIN = "Is it possible to pick up an order at the Lyon workshop?"
PICKUP_ANSWER = (
    "Yes: orders can be collected at our Lyon workshop from Tuesday to Saturday, two days "
    "after you receive the ready-for-pickup e-mail."
)


@pytest.fixture
def desk(ws: Workspace) -> Desk:
    """A small FAQ and two customers with orders (Camille Martin, C1; John Smith, C2)."""
    assert ws.kb.ingest_file("faq.xlsx", xlsx_bytes(FAQ)).ok
    ws.orders.import_records(enumerate(ORDERS, start=1), source="orders.jsonl")
    return Desk(ws)


def reply(
    desk: Desk,
    customer: str | None,
    question: str,
    answer: str | None = None,
    *,
    edit: str = "",
    discard: bool = False,
    agent: str = "alice",
) -> tuple[str, DraftRecord]:
    """A customer asks, the copilot drafts, the agent sends: ``answer`` (their own text), or
    the draft with ``edit`` appended; ``discard`` throws the draft away first."""
    cid = desk.new_conversation(customer, question)
    draft = desk.ensure_draft(cid)
    assert draft is not None
    if discard:
        desk.discard(cid, agent=agent)
    text = answer if answer is not None else draft.draft_text + edit
    desk.send(cid, text, agent=agent, expected_version=desk.view(cid).conversation.version)
    return cid, draft


def unsupported(draft: DraftRecord) -> bool:
    s = draft.suggestion
    return not s.citations or bool({"no_knowledge", "low_confidence"} & set(s.escalation.codes))


def test_only_the_agents_own_answers_to_unsupported_questions_are_proposed(desk: Desk) -> None:
    rewritten, d1 = reply(desk, "C2", PICKUP, PICKUP_ANSWER)
    scratch, d2 = reply(
        desk,
        None,
        "Do you sell replacement glass shades for the Opaline lamp?",
        "Yes, the Opaline's glass shade is sold alone as a spare part, reference OPA-SHADE.",
        discard=True,
    )
    _, d3 = reply(desk, None, "Do you ship parcels to Iceland?")
    _, d4 = reply(desk, None, "Do you offer engraving on your lamps?", edit=" Thanks!")
    _, d5 = reply(
        desk,
        None,
        "How long do I have to return an item I bought?",
        "Hello! You can send it back within thirty days of delivery, unused and in its box.",
    )
    _, d6 = reply(
        desk,
        "C1",
        "I want to speak to a human right now, not a bot!",
        "I'm Alice from the team, happy to help: what is the question about your order?",
    )
    assert all(unsupported(d) for d in (d1, d2, d3, d4))  # what the history was made of
    assert not unsupported(d5) and d6.suggestion.escalation.escalate

    faqs = FaqDrafts(desk.ws, desk.store)
    found = faqs.propose(author="kim")
    proposed = {c for d in found.new for c in d.conversation_ids}
    assert proposed == {rewritten, scratch}  # not as drafted, polished, supported, handed over
    pickup = next(d for d in found.new if rewritten in d.conversation_ids)
    assert (pickup.question, pickup.answer, pickup.status) == (PICKUP, PICKUP_ANSWER, "pending")
    feedback = {f["conversation_id"]: f["id"] for f in desk.store.feedback_rows()}
    assert pickup.feedback_ids == (feedback[rewritten],) and pickup.created_by == "kim"
    assert faqs.propose().new == []  # the same history proposes nothing twice


def test_two_customers_asking_the_same_thing_make_one_entry(desk: Desk) -> None:
    first, _ = reply(desk, "C1", PICKUP, "Yes, at the workshop, Tuesday to Saturday.")
    second, _ = reply(desk, "C2", PICKUP_AGAIN, PICKUP_ANSWER, agent="bob")
    other, _ = reply(
        desk, None, "Do you rent lamps for film shoots?", "No, we only sell them, sorry."
    )
    faqs = FaqDrafts(desk.ws, desk.store)
    found = faqs.propose()
    assert len(found.new) == 2
    (pickup,) = [d for d in found.new if first in d.conversation_ids]
    assert pickup.conversation_ids == (first, second)
    assert pickup.examples == (PICKUP, PICKUP_AGAIN) and len(pickup.feedback_ids) == 2
    assert pickup.answer == PICKUP_ANSWER  # the latest agent's wording
    assert other not in pickup.conversation_ids

    third, _ = reply(desk, None, "Can I pick up my order at the workshop in Lyon tomorrow?", "Yes.")
    again = faqs.propose()
    assert again.new == [] and [d.id for d in again.extended] == [pickup.id]
    assert faqs.get(pickup.id).conversation_ids == (first, second, third)


def test_a_question_the_knowledge_already_answers_is_not_proposed(desk: Desk) -> None:
    cid, draft = reply(desk, "C2", PICKUP, PICKUP_ANSWER)
    assert unsupported(draft)
    faqs = FaqDrafts(desk.ws, desk.store)
    assert [r.conversation_id for r in faqs.replies()] == [cid]  # a candidate, until...
    article = f"# Picking up an order\n\n{PICKUP_ANSWER} Bring your order number.\n"
    assert desk.ws.kb.ingest_file("pickup.md", article.encode()).ok  # ...the article came
    found = faqs.propose()
    assert found.new == [] and faqs.entries() == []
    (covered,) = found.covered
    assert covered.doc_id == "pickup" and covered.question == PICKUP and covered.share >= COVERED


def test_personal_data_is_masked_in_the_proposal(desk: Desk) -> None:
    reply(
        desk,
        "C1",
        "Hello, Camille Martin here (camille@example.fr, 06 12 34 56 78): can I pick up "
        "my next orders at your Lyon workshop? Paid 240 € last time.",
        "Hi Camille, yes: order LUM-104233 can be collected at the workshop, we will write to "
        "camille@example.fr when it is ready. Pickup costs 2.50 €. Alice",
    )
    (d,) = FaqDrafts(desk.ws, desk.store).propose().new
    for secret in ("Camille", "Martin", "camille@example.fr", "12 34 56", "104233", "Alice"):
        assert secret not in d.question + d.answer + " ".join(d.examples)
    assert d.question == (
        "Hello, [NAME] here ([EMAIL], [PHONE]): can I pick up my next orders at your Lyon "
        "workshop? Paid [AMOUNT] last time."
    )
    assert d.answer.startswith("Hi [NAME], yes: order [NUMBER] can be collected")
    assert "[EMAIL]" in d.answer and "2.50 €" in d.answer  # the store's price stays


def test_approving_ingests_a_searchable_faq_with_its_provenance(desk: Desk) -> None:
    first, _ = reply(desk, "C1", PICKUP, "Yes, Tuesday to Saturday.")
    second, _ = reply(desk, "C2", PICKUP_AGAIN, PICKUP_ANSWER)
    faqs = FaqDrafts(desk.ws, desk.store)
    (draft,) = faqs.propose().new
    answer = PICKUP_ANSWER + " Questions: service@shop.example."  # published by the FAQ: no PII
    approved = faqs.approve(draft.id, by="kim", answer=answer)
    assert (approved.status, approved.decided_by, approved.answer) == ("approved", "kim", answer)
    assert approved.doc_id == f"faq-draft-{draft.id}"

    hit = desk.ws.kb.search("pick up an order at the Lyon workshop", k=1)[0]
    assert hit.doc_id == approved.doc_id and "Tuesday to Saturday" in hit.chunk.text
    doc = desk.ws.kb.document(approved.doc_id)
    assert doc is not None and doc.source_name == "faq-drafts" and doc.format == "faq"
    assert doc.metadata["conversation_ids"] == [first, second]
    assert doc.metadata["feedback_ids"] == list(draft.feedback_ids)
    assert doc.metadata["approved_by"] == "kim" and doc.metadata["examples"] == [
        PICKUP,
        PICKUP_AGAIN,
    ]

    with pytest.raises(FaqDraftError, match="already approved by kim"):
        faqs.approve(draft.id, by="kim")
    with pytest.raises(FaqDraftError, match="already approved"):
        faqs.reject(draft.id, by="lea")
    _, asked_again = reply(desk, None, "Can I pick up my order at the Lyon workshop?", "Yes.")
    assert approved.doc_id in asked_again.suggestion.cited_doc_ids  # the copilot knows it now
    assert faqs.propose().new == []


def test_personal_data_is_refused_on_approval_and_nothing_is_ingested(desk: Desk) -> None:
    reply(desk, "C2", PICKUP, "Hi John! Yes, at the workshop from Tuesday to Saturday.")
    faqs = FaqDrafts(desk.ws, desk.store)
    (draft,) = faqs.propose().new
    assert draft.answer.startswith("Hi [NAME]!")
    before = desk.ws.kb.stats()
    for answer, reason in (
        (None, "the placeholder [NAME] in the answer"),  # as proposed: the name's placeholder
        ("Yes. Ask jeanne.martin@example.org.", "an e-mail address (jeanne.martin@example.org)"),
        ("Yes, like order LUM-200001.", "an order or tracking number (LUM-200001)"),
        ("Yes, call +33 6 12 34 56 78.", "a phone number"),
        ("Yes, John Smith did.", "a customer's name or e-mail (John Smith)"),
        ("Yes, [NAME_1] did.", "the placeholder [NAME_1] in the answer"),  # numbered too
    ):
        with pytest.raises(PersonalDataError, match="still holds personal data") as info:
            faqs.approve(draft.id, by="kim", answer=answer)
        assert reason in str(info.value) and "nothing was added" in str(info.value)
    with pytest.raises(FaqDraftError, match="no answer"):
        faqs.approve(draft.id, by="kim", answer="  ")
    assert desk.ws.kb.stats() == before and desk.ws.kb.document(f"faq-draft-{draft.id}") is None
    assert faqs.get(draft.id).status == "pending"

    rejected = faqs.reject(draft.id, by="kim")
    assert (rejected.status, rejected.decided_by) == ("rejected", "kim")
    with pytest.raises(FaqDraftError, match="already rejected by kim"):
        faqs.reject(draft.id, by="kim")
    with pytest.raises(FaqDraftError, match="no FAQ draft 99"):
        faqs.approve(99, by="kim")


def test_an_approval_whose_ingestion_fails_leaves_the_draft_pending(desk: Desk) -> None:
    reply(desk, "C2", PICKUP, PICKUP_ANSWER)
    faqs = FaqDrafts(desk.ws, desk.store)
    (draft,) = faqs.propose().new
    squatter = json.dumps({"doc_id": f"faq-draft-{draft.id}", "title": "Other", "text": "Other."})
    assert desk.ws.kb.ingest_file("other.jsonl", squatter.encode()).ok  # owns the FAQ's id
    with pytest.raises(FaqDraftError) as info:
        faqs.approve(draft.id, by="kim", answer="Yes, at the workshop.")
    assert "belongs to 'other.jsonl'; nothing of this file was indexed); it is pending" in str(
        info.value
    )
    assert f"Delete the document faq-draft-{draft.id} (from other.jsonl)" in str(info.value)
    after = faqs.get(draft.id)
    assert (after.status, after.decided_by, after.doc_id) == ("pending", None, None)
    squatter_doc = desk.ws.kb.document(f"faq-draft-{draft.id}")
    assert after.answer == draft.answer and squatter_doc is not None
    assert squatter_doc.title == "Other"  # untouched
    assert desk.ws.kb.delete(f"faq-draft-{draft.id}")
    assert faqs.approve(draft.id, by="kim").status == "approved"  # approved once it can be


def test_an_approved_faq_that_contradicts_an_article_is_listed_as_a_conflict(desk: Desk) -> None:
    reply(desk, "C2", PICKUP, PICKUP_ANSWER)
    faqs = FaqDrafts(desk.ws, desk.store)
    (draft,) = faqs.propose().new
    answer = "No. Standard delivery costs 5.90 € and is free from 60 € of purchase."
    approved = faqs.approve(draft.id, by="kim", answer=answer)
    (c,) = desk.ws.kb.conflicts.open()  # the FAQ says 4.90 €: the manager decides
    assert (c.new_doc, c.new_value, c.old_value) == (approved.doc_id, "5.90 €", "4.90 €")


def test_an_article_from_a_gap_never_replaces_a_file_of_the_same_name() -> None:
    gap = Gap(count=1, terms=set(), words={}, examples=["Do you rent lamps?"])
    article = article_from_gap(gap)
    body = article.body.replace(ANSWER_PROMPT["en"], "No, we only sell them.")
    name, _ = article.file("Do you rent lamps?", body)
    assert name == "do-you-rent-lamps.md"
    with pytest.raises(FaqDraftError, match=r"already has a file named do-you-rent-lamps\.md"):
        article.file("Do you rent lamps?", body, taken={name})


def test_the_faq_commands(
    desk: Desk, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    use_store(monkeypatch, desk.ws.settings.data_dir)
    monkeypatch.delenv("SOUFFLEUR_LLM_BASE_URL", raising=False)
    reply(desk, "C1", PICKUP, "Yes, Tuesday to Saturday.")
    reply(desk, "C2", PICKUP_AGAIN, PICKUP_ANSWER)
    reply(desk, None, "Do you rent lamps for film shoots?", "No, we only sell them, sorry.")

    assert main(["faq", "propose", "--by", "kim"]) == 0
    out = capsys.readouterr().out
    assert "new      #1 pending  en  2 question(s) from 2 conversation(s)" in out
    assert f"   Q: {PICKUP}\n      also asked: {PICKUP_AGAIN}\n   A: {PICKUP_ANSWER}" in out
    assert "3 replies agents wrote to unsupported questions, in no FAQ draft yet: 2 new FAQ" in out

    assert (
        main(["faq", "approve", "1", "--by", "kim", "--answer", "Yes, Tuesday to Saturday."]) == 0
    )
    assert "approved #1: ingested as faq-draft-1" in capsys.readouterr().out
    assert main(["faq", "approve", "2", "--answer", "Mail jeanne@example.org"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: FAQ draft 2 still holds personal data: an e-mail address")
    assert main(["faq", "reject", "2", "--by", "kim"]) == 0
    assert "rejected #2" in capsys.readouterr().out
    assert main(["faq", "reject", "2"]) == 2
    assert "FAQ draft 2 was already rejected by kim" in capsys.readouterr().err

    assert main(["faq", "list", "--status", "approved"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("#1 approved by kim") and "-> faq-draft-1" in out and "#2" not in out
    assert main(["faq", "list", "--status", "pending"]) == 0
    assert "no pending FAQ draft" in capsys.readouterr().out
    assert main(["search", "pick up an order at the Lyon workshop", "-k", "1"]) == 0
    assert "[faq-draft-1, en]" in capsys.readouterr().out


# -- the Knowledge page --------------------------------------------------------------
def test_the_faq_drafts_tab_proposes_approves_and_rejects(data_dir: Path) -> None:
    desk = Desk(open_workspace(settings_of(data_dir)))
    _, d1 = reply(desk, "C1001", "Do you rent lamps for film shoots?", "No, we only sell them.")
    _, d2 = reply(
        desk, "C1005", "Bonjour, faites-vous des lampes sur mesure ?", "Non, pas de sur-mesure."
    )
    assert unsupported(d1) and unsupported(d2)
    at = ok(signed_in("kim"))
    ok(at.button(key="faq_propose").click().run())
    assert "2 new FAQ drafts" in at.success[0].value
    (rent,) = [d for d in FaqDrafts(desk.ws).entries() if "film" in d.question]
    (custom,) = [d for d in FaqDrafts(desk.ws).entries() if d.id != rent.id]
    assert at.text_area(key=f"faq_a_{rent.id}").value == "No, we only sell them."

    at.text_area(key=f"faq_a_{rent.id}").input("No. Write to someone@example.org")
    ok(at.button(key=f"faq_approve_{rent.id}").click().run())
    assert "an e-mail address (someone@example.org)" in at.error[0].value.replace("\\", "")
    assert desk.ws.kb.document(f"faq-draft-{rent.id}") is None

    at.text_area(key=f"faq_a_{rent.id}").input("No: our lamps are for sale only.")
    ok(at.button(key=f"faq_approve_{rent.id}").click().run())
    assert f"indexed as faq-draft-{rent.id}" in at.success[0].value.replace("\\", "")
    ok(at.button(key=f"faq_reject_{custom.id}").click().run())
    assert [d.status for d in FaqDrafts(desk.ws).entries()] == ["approved", "rejected"]
    assert not [b for b in at.button if str(b.key).startswith("faq_approve_")]  # none pending
    hit = open_workspace(settings_of(data_dir)).kb.search("rent lamps for a film shoot", k=1)[0]
    assert hit.doc_id == f"faq-draft-{rent.id}"


def test_a_knowledge_gap_becomes_an_faq_draft_or_an_article(data_dir: Path) -> None:
    desk = Desk(open_workspace(settings_of(data_dir)))
    asked = "Do you rent lamps for film shoots?"
    _, draft = reply(desk, "C1001", asked, "No, we only sell them.")
    assert unsupported(draft)
    at = ok(signed_in("kim"))
    (gap,) = [e for e in at.expander if "film" in e.label]  # a knowledge gap
    n = next(str(b.key) for b in gap.button if str(b.key).startswith("gap_faq_"))[8:]
    ok(at.button(key=f"gap_faq_{n}").click().run())
    assert "created" in at.success[0].value
    (faq,) = FaqDrafts(desk.ws).entries()
    assert (faq.origin, faq.examples, faq.answer) == ("gap", (asked,), "No, we only sell them.")
    ok(at.button(key=f"gap_faq_{n}").click().run())  # twice: the same draft
    assert "already holds these questions" in at.success[0].value
    assert len(FaqDrafts(desk.ws).entries()) == 1

    ok(at.button(key=f"gap_article_{n}").click().run())
    assert at.text_input(key="article_title").value == asked
    body = at.text_area(key="article_body").value
    assert f"- {asked}" in body
    ok(at.button(key="article_save").click().run())
    assert "no answer yet" in at.error[0].value  # the answer is still to write
    at.text_area(key="article_body").input(
        body.replace("(Write the answer here.)", "We sell our lamps; we do not rent them.")
    )
    ok(at.button(key="article_save").click().run())
    name = "do-you-rent-lamps-for-film-shoots.md"
    assert any(name in s.value.replace("\\", "") for s in at.success)
    doc = open_workspace(settings_of(data_dir)).kb.document("do-you-rent-lamps-for-film-shoots")
    assert doc is not None and doc.source_name == name and doc.title == asked
