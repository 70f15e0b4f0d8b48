"""The suggestion service with the offline drafter, on the demo store (instant embedder)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from copilot import Workspace
from copilot.demo import ANCHOR
from copilot.pipeline.escalation import Policy, PolicyError
from copilot.pipeline.offline import PROMPT_VERSION
from copilot.pipeline.pii import Masker
from copilot.pipeline.suggest import SuggestionService
from copilot.types import Conversation, DraftOptions, Turn
from knowledge import MiniLMEmbedder
from tests.conftest import open_demo


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    return open_demo(tmp_path_factory.mktemp("sugg"))


@pytest.fixture(scope="module")
def demo_minilm(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    """The demo store with the default embedder, for what depends on real ranking (~30 s)."""
    return open_demo(tmp_path_factory.mktemp("sugg-minilm"), MiniLMEmbedder())


def ask(
    ws: Workspace,
    customer: str | None,
    *texts: str,
    options: DraftOptions | None = None,
    channel: str = "web",
) -> object:
    turns = [Turn(role="customer" if i % 2 == 0 else "agent", text=t) for i, t in enumerate(texts)]
    return ws.service.suggest(
        Conversation(customer_id=customer, channel=channel, turns=turns), options
    )  # type: ignore[arg-type]


def test_french_delivery_question_uses_the_real_tracking_number(demo: Workspace) -> None:
    s = ask(
        demo,
        "C1001",
        "Bonjour, où en est ma commande LUM-105097 ? Je voudrais savoir quand elle arrive.",
    )
    assert s.language == "fr" and s.register_ == "vous"
    order = demo.orders.order_of("C1001", "LUM-105097")
    assert order is not None and order.tracking_number
    assert order.tracking_number in s.draft and "Camille" in s.draft and order.carrier in s.draft
    assert "order:LUM-105097" in s.cited_doc_ids
    assert not s.escalation.escalate
    assert (
        0.0 <= s.confidence <= 1.0 and s.model == "offline" and s.prompt_version == PROMPT_VERSION
    )
    assert s.timings.total_ms > 0 and s.timings.retrieval_ms > 0 and s.usage.total_tokens == 0


@pytest.mark.parametrize(
    ("customer", "text", "wanted", "unwanted"),
    [
        # "j'ai passé commande" once matched "mot de passe", and "Opaline" the bulb article
        (
            "C1001",
            "Bonjour, j'ai passé commande mardi (LUM-105097) pour une lampe de chevet Opaline. "
            "Pouvez-vous me dire quand je vais la recevoir ? Je pars en week-end le 27.",
            ("order-tracking-fr", "delivery-times-fr"),
            ("password-reset-fr", "bulb-sockets-fr", "product-care-fr"),
        ),
        # the ordered item's name ("plaid en lin") once ranked the care article first
        (
            "C1015",
            "Bonjour, je souhaiterais retourner le plaid en lin de ma commande n° 104713, il ne "
            "me plaît finalement pas. Est-ce encore possible ?",
            ("how-to-return-fr", "return-conditions-fr"),
            ("product-care-fr",),
        ),
        # chat shorthand: "mdp" is "mot de passe"
        (
            "C1013",
            "coucou j'arrive plus à me connecter à mon compte, j'ai fait mdp oublié 2 fois mais je reçois rien",
            ("password-reset-fr",),
            ("payment-instalments-fr", "refund-timing-fr"),
        ),
    ],
)
def test_the_draft_rests_on_the_article_the_question_is_about(
    demo_minilm: Workspace,
    customer: str,
    text: str,
    wanted: tuple[str, ...],
    unwanted: tuple[str, ...],
) -> None:
    s = ask(demo_minilm, customer, text)
    kb_docs = [d for d in s.cited_doc_ids if not d.startswith("order:")]
    assert kb_docs and kb_docs[0] in wanted, s.cited_doc_ids
    assert not set(kb_docs) & set(unwanted), s.cited_doc_ids


def test_an_example_section_is_not_told_as_the_customers_own_order(demo_minilm: Workspace) -> None:
    """The delivery article's "Un exemple" ("Vous commandez une lampe de chevet en Colissimo le
    mardi à 16 h…") once followed the customer's real order facts as if it were about them."""
    s = ask(
        demo_minilm,
        "C1001",
        "Commande LUM-105097 expédiée en Colissimo : combien de temps dure l'acheminement ?",
    )
    assert "6A98643261622" in s.draft and "delivery-times-fr" in s.cited_doc_ids
    assert "Vous commandez une lampe" not in s.draft


def test_sentences_are_chosen_by_the_specific_words_of_the_question() -> None:
    """ "commande" is in every article of a shop: a sentence sharing only it must not win over
    one sharing the rarer word the question is about."""
    from copilot.pipeline.drafter import Passage
    from copilot.pipeline.offline import select_sentences
    from knowledge.types import Chunk, Hit

    text = (
        "Vous choisissez le transporteur lors de la validation de la commande. "
        "Un lien de suivi vous est envoyé par e-mail dès l'expédition."
    )
    chunk = Chunk("c::1", "livraison", 1, 0, text, "Livraison", (), "fr")
    passages = [Passage("P1", Hit(chunk, 1.0, 1))]
    query = "le suivi de ma commande"
    flat = select_sentences(passages, query, "fr", 1)
    weighted = select_sentences(
        passages, query, "fr", 1, term_weights={"command": 0.1, "suivi": 3.0}
    )
    assert [s for s, _ in flat] == [
        "Vous choisissez le transporteur lors de la validation de la commande."
    ]
    assert [s for s, _ in weighted] == [
        "Un lien de suivi vous est envoyé par e-mail dès l'expédition."
    ]


@pytest.mark.parametrize(
    ("query", "figure"),
    [("How much is delivery to Toulouse?", True), ("Who does the delivery to Toulouse?", False)],
)
def test_a_question_asking_for_a_figure_gets_the_sentence_with_the_figure(
    query: str, figure: bool
) -> None:
    from copilot.pipeline.drafter import Passage
    from copilot.pipeline.offline import select_sentences
    from knowledge.types import Chunk, Hit

    # both sentences share one word with either question; the first one would win the tie
    text = "Delivery is made by Colissimo to your door. Delivery costs €4.90 per order."
    chunk = Chunk("c::1", "delivery", 1, 0, text, "Delivery", (), "en")
    (picked,) = select_sentences([Passage("P1", Hit(chunk, 1.0, 1))], query, "en", 1)
    assert ("€4.90" in picked[0]) is figure


def _picked(text: str, query: str, n: int, title: str = "Help") -> list[str]:
    """The sentences the offline drafter picks from one English passage holding ``text``."""
    from copilot.pipeline.drafter import Passage
    from copilot.pipeline.offline import select_sentences
    from knowledge.types import Chunk, Hit

    chunk = Chunk("c::1", "doc", 1, 0, text, title, (), "en")
    return [s for s, _ in select_sentences([Passage("P1", Hit(chunk, 1.0, 1))], query, "en", n)]


@pytest.mark.parametrize(
    ("query", "rows"),
    [
        # the question names the Saver row whole: the other fares' rows answer someone else
        ("Is a Saver ticket refundable if I cannot travel?", ["Saver"]),
        # "express" is one word of the "Night Express" label, not the row's name: rows of
        # both express services stay in the running
        ("Do you have an express service, and how much is it?", ["Day Courier", "Night Express"]),
    ],
)
def test_a_table_row_the_question_names_whole_is_quoted_without_its_siblings(
    query: str, rows: list[str]
) -> None:
    text = (
        "Refund conditions depend on the fare you bought.\n\n"
        "| Fare | Refund | Fee |\n|---|---|---|\n"
        "| Flexi | 100% until departure | no fee |\n"
        "| Classic | up to 7 days before departure | 15 per passenger |\n"
        "| Saver | not refundable | — |\n\n"
        "| Service | Speed | Price |\n|---|---|---|\n"
        "| Day Courier | express, same day | 12 |\n"
        "| Night Express | express, next morning | 15 |\n"
    )
    picked = _picked(text, query, 3, "Fares and services")
    labels = [s.split(" — ")[0] for s in picked if " — " in s]
    assert labels == rows, picked


@pytest.mark.parametrize(
    ("query", "rows"),
    [
        ("My bus was 52 minutes late, what do I get?", ["40 minutes or more"]),
        ("bus was ~35 mins late, what do I get?", ["20 to 39 minutes"]),
        # 52 is a line, not minutes: no row is theirs by its range
        (
            "The bus on line 52 was late, what part of the fare do I get back?",
            ["20 to 39 minutes", "40 minutes or more"],
        ),
    ],
)
def test_a_range_row_that_holds_the_quantity_asked_is_theirs(query: str, rows: list[str]) -> None:
    text = (
        "When your bus arrives late, you get part of the fare back.\n\n"
        "| Delay on arrival | Compensation |\n|---|---|\n"
        "| 20 to 39 minutes | 10% of the fare |\n"
        "| 40 minutes or more | 30% of the fare |\n"
    )
    picked = _picked(text, query, 3, "Late buses")
    assert [s.split(":")[0] for s in picked if "minutes" in s] == rows, picked


def test_the_row_of_their_own_case_is_quoted_even_when_general_sentences_score_higher() -> None:
    """ "Cancel my ticket" from a customer whose order is a Saver ticket: the general how-to
    sentences share more words with the question, but the Saver row is their answer."""
    from copilot.pipeline.drafter import Passage
    from copilot.pipeline.offline import select_sentences
    from knowledge.types import Chunk, Hit

    howto = (
        "To cancel a ticket, open My trips and choose Cancel ticket. "
        "A cancelled ticket is refunded to the card used for the booking."
    )
    table = (
        "| Fare | Refund | Fee |\n|---|---|---|\n"
        "| Flexi | 100% until departure | no fee |\n"
        "| Saver | not refundable | — |\n"
    )
    passages = [
        Passage("P1", Hit(Chunk("c::1", "cancel", 1, 0, howto, "Cancel a ticket", (), "en"), 2, 1)),
        Passage("P2", Hit(Chunk("c::2", "cancel", 1, 1, table, "Cancel a ticket", (), "en"), 1, 2)),
    ]
    kwargs = {"skip_examples": True, "own": ["Dover → Lille, Saver fare", "ticket saver"]}
    plain = [s for s, _ in select_sentences(passages, "can I cancel my ticket?", "en", 2, **kwargs)]
    theirs = [
        s
        for s, _ in select_sentences(
            passages, "can I cancel my ticket?", "en", 2, items=kwargs["own"], **kwargs
        )
    ]
    assert not any(s.startswith("Saver") for s in plain), plain
    assert any(s.startswith("Saver") for s in theirs), theirs
    assert not any(s.startswith("Flexi") for s in theirs), theirs


def _offline_draft(question: str, article: str) -> str:
    """The offline drafter's reply to one English question, from one passage holding
    ``article`` (no order)."""
    from copilot.pipeline.drafter import DraftRequest, Passage
    from copilot.pipeline.offline import OfflineDrafter
    from copilot.pipeline.reading import read_conversation
    from knowledge.types import Chunk, Hit

    conv = Conversation(turns=[Turn(role="customer", text=question)])
    chunk = Chunk("c::1", "doc", 1, 0, article, "Help", (), "en")
    req = DraftRequest(
        conv,
        read_conversation(conv),
        DraftOptions(),
        Policy.default(),
        None,
        [Passage("P1", Hit(chunk, 1.0, 1))],
        [],
    )
    return OfflineDrafter().draft(req).text


DELAYS = (
    "If your train arrives late, you are entitled to compensation based on the ticket price. "
    "A delay of 60 minutes or more gives compensation of 50% of the ticket price. "
    "A delay of 30 to 59 minutes gives compensation of 25% of the ticket price. "
    "Compensation for a late train is paid as a voucher or to your card. "
    "Claim within 30 days of travel in My account."
)


@pytest.mark.parametrize(
    ("question", "claim_sentence"),
    [
        # two questions joined by "and": the second one gets its own sentence
        ("My train was 65 minutes late, what compensation do I get and how do I claim it?", True),
        ("My train was 65 minutes late. What compensation do I get? How do I claim it?", True),
        # one question: no sentence more than usual
        ("My train was 65 minutes late, what compensation do I get for the late train?", False),
    ],
)
def test_a_second_question_in_the_message_gets_its_answer(
    question: str, claim_sentence: bool
) -> None:
    draft = _offline_draft(question, DELAYS)
    assert "50% of the ticket price" in draft, draft
    assert ("Claim within 30 days" in draft) is claim_sentence, draft


def test_a_second_question_already_answered_adds_nothing() -> None:
    one = _offline_draft("My train was 65 minutes late, what compensation do I get?", DELAYS)
    two = _offline_draft(
        "My train was 65 minutes late, what compensation do I get and is it a percentage?",
        DELAYS,
    )
    assert len(re.findall(r"[.!?](?:\s|$)", two)) == len(re.findall(r"[.!?](?:\s|$)", one))


def test_a_sentence_that_says_nothing_new_is_not_repeated() -> None:
    """Two definitions of the sabbatical, the second inside the first, once both made the
    draft: a sentence whose words a chosen one already has is left for one that adds."""
    from copilot.pipeline.drafter import Passage
    from copilot.pipeline.offline import select_sentences
    from knowledge.types import Chunk, Hit

    text = (
        "Le congé sabbatique est un congé pour convenance personnelle, soumis à conditions, "
        "qui suspend le contrat de travail du salarié. "
        "Le congé sabbatique est un congé pour convenance personnelle accordé au salarié. "
        "Le congé sabbatique n'est pas rémunéré."
    )
    chunk = Chunk("c::1", "sabbatique", 1, 0, text, "Congé sabbatique", (), "fr")
    picked = [
        s
        for s, _ in select_sentences(
            [Passage("P1", Hit(chunk, 1.0, 1))], "congé sabbatique", "fr", 2
        )
    ]
    assert picked == [
        "Le congé sabbatique est un congé pour convenance personnelle, soumis à conditions, "
        "qui suspend le contrat de travail du salarié.",
        "Le congé sabbatique n'est pas rémunéré.",
    ]


def test_english_delivery_question_cites_the_delivery_articles(demo: Workspace) -> None:
    s = ask(
        demo,
        "C1041",
        "Hello, where is my order LUM-105126? The tracking hasn't changed since yesterday.",
    )
    assert s.language == "en" and "XY" in s.draft and "Sarah" in s.draft
    kb_docs = [d for d in s.cited_doc_ids if not d.startswith("order:")]
    assert kb_docs and all(d.endswith("-en") for d in kb_docs)
    assert any(
        d.startswith(("order-tracking", "delivery", "late-delivery", "faq")) for d in kb_docs
    )
    for c in s.citations:
        assert c.sentence in s.draft and c.chunk_ids


def test_human_request_with_a_legal_threat_escalates_with_two_reasons(demo: Workspace) -> None:
    s = ask(demo, "C1001", "je veux parler à un conseiller, sinon je contacte mon avocat")
    assert s.escalation.escalate
    assert {"human_request", "legal_threat"} <= set(s.escalation.codes)
    assert s.escalation.queue == "Complaints & legal"
    assert "Reasons:" in s.escalation.handoff_summary and "avocat" in s.escalation.handoff_summary
    assert s.needs_review
    fr = ask(
        demo,
        "C1001",
        "je veux parler à un conseiller, sinon je contacte mon avocat",
        options=DraftOptions(ui_lang="fr"),
    )
    assert (
        # most serious first: the reason that routes the conversation
        [r.label for r in fr.escalation.reasons][:2]
        == ["Menace juridique", "Demande un conseiller humain"]
        and "Motifs" in fr.escalation.handoff_summary
    )


def test_another_customers_order_gets_a_neutral_answer_and_a_reason(demo: Workspace) -> None:
    other = demo.orders.order_of("C1002", "LUM-105067")
    assert other is not None
    s = ask(
        demo, "C1050", "Hi, can you tell me where my parcel is? The order number is LUM-105067."
    )
    assert "foreign_order" in s.escalation.codes
    for secret in (
        other.tracking_number,
        other.customer_name,
        other.carrier,
        other.status.replace("_", " "),
        "Vase",
    ):
        assert secret and secret not in s.draft, secret
    assert "LUM-105067" in s.draft and s.order_numbers == []


_TU_WORDS = re.compile(r"\b(tu|ta|ton|tes|toi)\b", re.I)


def test_register_follows_the_customer_and_the_agent_can_override_it(demo: Workspace) -> None:
    tu = ask(demo, "C1024", "slt, tu peux me dire où en est ma commande ? 😡")
    assert tu.register_ == "tu"
    # the articles it quotes word for word say "vous": the whole reply does ("Ta commande…
    # vous pouvez…" would mix the two)
    assert "Votre commande" in tu.draft and not _TU_WORDS.search(tu.draft), tu.draft
    # ...but the greeting names them as they wrote: by the first name, as an informal reply
    # would (the full name belongs to a formal message)
    customer = demo.orders.customer("C1024")
    assert customer is not None
    full = customer.name
    greeting = tu.draft.splitlines()[0]
    assert full.split()[0] in greeting and full not in greeting, tu.draft
    chosen = ask(
        demo,
        "C1024",
        "slt, tu peux me dire où en est ma commande ? 😡",
        options=DraftOptions(tone="casual"),
    )
    assert "Ta commande" in chosen.draft  # the register an agent picks is kept
    thanks = ask(demo, "C1024", "trop bien merci 🙂")  # nothing quoted: the customer's own
    assert _TU_WORDS.search(thanks.draft) or "dispo" in thanks.draft, thanks.draft
    formal = ask(
        demo,
        "C1024",
        "slt, tu peux me dire où en est ma commande ?",
        options=DraftOptions(tone="formal"),
    )
    assert formal.register_ == "vous" and "Votre commande" in formal.draft
    casual_en = ask(demo, "C1041", "hey thx, where's my stuff? 📦")
    assert casual_en.register_ == "casual" and casual_en.draft.startswith("Hi ")


def test_sms_channel_and_shorter_option_respect_length_limits(demo: Workspace) -> None:
    long = ask(
        demo,
        "C1005",
        "Bonjour, comment retourner un article et sous quel délai serai-je remboursé ?",
        options=DraftOptions(length="longer"),
    )
    sms = ask(
        demo,
        "C1005",
        "Bonjour, comment retourner un article et sous quel délai serai-je remboursé ?",
        channel="sms",
    )
    assert len(sms.draft) <= 320 < len(long.draft)
    short = ask(
        demo,
        "C1005",
        "Bonjour, comment retourner un article ?",
        options=DraftOptions(length="shorter"),
    )
    assert len(short.draft) <= 600


def test_regenerate_gives_another_grounded_variant(demo: Workspace) -> None:
    q = "How do I return an item and when will I be refunded?"
    a = ask(demo, "C1044", q)
    b = ask(demo, "C1044", q, options=DraftOptions(variant=1))
    assert a.draft != b.draft
    assert b.citations and all(c.sentence in b.draft for c in b.citations)


def test_return_eligibility_is_computed_from_the_delivery_date(demo: Workspace) -> None:
    inside = ask(
        demo, "C1005", "Bonjour, je voudrais retourner ma commande LUM-104902, est-ce possible ?"
    )
    assert "jusqu’au" in inside.draft and "(30 jours après la livraison)" in inside.draft
    outside = ask(
        demo, "C1044", "I'd like to return the lamp from order lum104609, is it still possible?"
    )
    assert "return period after delivery ended on" in outside.draft
    # ... and the reply stops there: no how-to-return steps to contradict it
    assert "no longer accept a return for a change of mind" in outside.draft
    assert all(c.doc_ids[0].startswith("order:") for c in outside.citations)


def test_a_reply_about_their_order_leaves_out_the_other_steps_of_an_order(
    demo: Workspace,
) -> None:
    # their order is stated: a sentence about cancelling does not answer a return of a
    # delivered order, nor one about pending orders a parcel on its way
    back = ask(demo, "C1021", "coucou, je peux encore renvoyer le coussin de la commande 104758 ?")
    assert back.order_numbers and "jusqu’au" in back.draft
    assert "annul" not in back.draft.casefold()
    where = ask(demo, "C1040", "Bonjour, où en est ma commande #105105 ? Le vase est-il parti ?")
    assert where.order_numbers and "annul" not in where.draft.casefold()
    # a step that speaks of the one asked stays: a refund is what a return comes to
    from copilot.pipeline.offline import _about_another_step
    from copilot.pipeline.reading import detect_intents

    def steps(sentence: str) -> set[str]:
        return set(detect_intents(sentence))

    assert _about_another_step(steps("A shipped order can no longer be cancelled."), ("return",))
    assert not _about_another_step(steps("We refund you within 14 days of receipt."), ("return",))
    assert not _about_another_step(steps("Cancelled orders are refunded."), ("other",))


def test_their_own_return_window_is_not_followed_by_the_general_rule(demo: Workspace) -> None:
    s = ask(
        demo,
        "C1046",
        "Hi, I bought the Ligne wall shelf (LUM-104878) but never put it up. "
        "Is there still time to return it?",
    )
    assert "until 2 December 2026 (30 days after delivery)" in s.draft
    assert "30 days from the delivery date" not in s.draft  # the general rule, restated
    # without their order, the general rule is the answer
    general = ask(demo, None, "How long do I have to return an item?")
    assert "30 days" in general.draft


def test_no_supporting_knowledge_escalates(demo: Workspace) -> None:
    s = ask(demo, None, "Quelle est la capitale de la Mongolie extérieure au XIIe siècle ?")
    assert s.escalation.escalate and set(s.escalation.codes) & {"no_knowledge", "low_confidence"}


def test_small_talk_is_answered_without_escalation_or_a_second_greeting(demo: Workspace) -> None:
    s = ask(
        demo,
        "C1001",
        "Où est ma commande LUM-105097 ?",
        "Elle arrive vendredi.",
        "Merci beaucoup, bonne journée !",
    )
    assert not s.escalation.escalate and s.intent == "chit_chat"
    assert not s.draft.startswith("Bonjour") and "LUM-105097" not in s.draft


def test_refund_above_the_limit_needs_a_supervisor(demo: Workspace) -> None:
    s = ask(demo, "C1001", "I want a refund of 480 € now.")
    assert "refund_over_limit" in s.escalation.codes and "480" in s.escalation.reasons[0].detail


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("My lamp caught fire last night!", "safety"),
        ("Ma lampe a pris feu hier soir", "safety"),
        ("I never placed this order, my card was stolen", "fraud"),
        ("Supprimez toutes mes données conformément au RGPD", "gdpr"),
        ("C'EST INADMISSIBLE, VOUS ÊTES DES INCOMPÉTENTS", "anger"),
        ("This is the third time I'm writing about this!", "repeated_contact"),
    ],
)
def test_policy_triggers(demo: Workspace, text: str, code: str) -> None:
    s = ask(demo, "C1001", text)
    assert code in s.escalation.codes


def test_everyday_messages_do_not_trigger_the_policy() -> None:
    policy = Policy.default()
    for text in [
        "Est-il possible de payer en plusieurs fois ?",
        "Where is my parcel?",
        "Bonjour, je voudrais retourner un article",
        "Can I change my delivery address?",
        "Merci pour votre aide !",
        "Je n'ai pas reçu l'e-mail de confirmation",
    ]:
        assert policy.pattern_hits(text) == {}, text


def test_repeated_contacts_from_history_escalate(demo: Workspace) -> None:
    conv = Conversation(
        customer_id="C1001",
        turns=[Turn(role="customer", text="Où est ma commande LUM-105097 ?")],
        prior_contacts=3,
    )
    assert "repeated_contact_history" in demo.service.suggest(conv).escalation.codes


def test_a_broken_policy_is_refused_and_the_previous_one_stays(
    demo: Workspace, tmp_path: Path
) -> None:
    from copilot.workspace import PolicyStore
    from knowledge import make_engine

    engine = make_engine(f"sqlite:///{tmp_path / 'p.db'}")
    store = PolicyStore(engine, tmp_path / "policy.yaml", refresh_s=0)
    good = store.text()
    with pytest.raises(PolicyError, match="not valid YAML"):
        store.save("triggers: [unclosed")
    with pytest.raises(PolicyError, match="not a valid regular expression") as bad_regex:
        store.save(good.replace(r"'\b(mon|notre", r"'\b((mon|notre", 1))
    line = next(i for i, x in enumerate(good.splitlines(), 1) if r"'\b(mon|notre" in x)
    assert f"line {line}, triggers.2.patterns" in str(bad_regex.value)
    with pytest.raises(PolicyError, match=r"line \d+, triggers.0.label.fr: Field required"):
        store.save(good.replace('fr: "Demande un conseiller humain"', "", 1))
    with pytest.raises(PolicyError, match="defined twice"):
        store.save(good.replace("code: anger", "code: human_request", 1))
    with pytest.raises(PolicyError, match="refund_limit"):
        store.save(good.replace("refund_limit: 150", "refund_limit: -5"))
    with pytest.raises(PolicyError, match="queue"):
        store.save(good.replace("queue: complaints", "queue: nowhere", 1))
    assert not store.history() and store.current().settings.refund_limit == 150
    store.save(good.replace("refund_limit: 150", "refund_limit: 500"))
    assert store.current().settings.refund_limit == 500
    assert [r.version for r in store.history()] == [1]


def test_a_trigger_a_knowledge_manager_adds_behaves_like_a_shipped_one(demo: Workspace) -> None:
    text = Policy.default().model.model_dump_json()
    import json

    data = json.loads(text)
    data["triggers"].append(
        {
            "code": "cancel_contract",
            "label": {"en": "Wants to end the contract", "fr": "Veut résilier le contrat"},
            "queue": "complaints",
            "patterns": [r"\bresilier?\b"],
            "priority": 5,  # ahead of every shipped trigger
            "handoff": {
                "en": "Our contracts team takes over your cancellation.",
                "fr": "Notre service contrats reprend votre demande de résiliation.",
            },
        }
    )
    policy = Policy(Policy.parse(json.dumps(data)).model)
    assert policy.is_hard("cancel_contract") and policy.is_hard("legal_threat")
    assert not policy.is_hard("no_knowledge")
    assert policy.ranked(["lost_parcel", "cancel_contract", "safety"]) == [
        "cancel_contract",
        "safety",
        "lost_parcel",
    ]
    service = SuggestionService(demo.kb, demo.orders, policy=policy, today=lambda: ANCHOR)
    s = service.suggest(
        Conversation(
            customer_id="C1001",
            turns=[Turn(role="customer", text="Je veux résilier, je vais saisir le tribunal !")],
        )
    )
    assert s.escalation.escalate and s.escalation.codes[:2] == ["cancel_contract", "legal_threat"]
    assert s.escalation.queue == "Complaints & legal"
    # hard: the draft is a hand-off, in the trigger's own words, like for a shipped trigger
    assert not s.citations
    assert "Notre service contrats reprend votre demande de résiliation." in s.draft


def test_pii_masking_round_trip() -> None:
    m = Masker()
    text = "Mail jean.dupont@example.fr, tél 06 12 34 56 78, IBAN FR76 3000 6000 0112 3456 7890 189, carte 4970 1012 3456 7890 (non Luhn) et 4539 1488 0343 6467, 12 rue des Lilas, Lyon"
    masked = m.mask(text)
    for secret in (
        "jean.dupont@example.fr",
        "06 12 34 56 78",
        "FR76 3000",
        "4539 1488 0343 6467",
        "12 rue des Lilas",
    ):
        assert secret not in masked, secret
    assert (
        "[EMAIL_1]" in masked
        and "[PHONE_1]" in masked
        and "[IBAN_1]" in masked
        and "[CARD_1]" in masked
        and "[ADDRESS_1]" in masked
    )
    assert "4970 1012 3456 7890" in masked  # fails the Luhn check: not a card number
    assert m.unmask(masked) == text
    assert m.mask("again jean.dupont@example.fr") == "again [EMAIL_1]"


@pytest.mark.parametrize(
    ("customer", "question", "fact"),
    [
        (None, "How much is delivery to Toulouse, and is it ever free?", "€4.90"),
        (None, "Proposez-vous une livraison express ? À quel prix ?", "12,90 €"),
        (None, "r u open on saturdays?", "10:00–16:00"),
    ],
)
def test_prices_and_hours_kept_in_tables_reach_the_draft(
    demo_minilm: Workspace, customer: str | None, question: str, fact: str
) -> None:
    s = ask(demo_minilm, customer, question)
    assert fact in s.draft  # type: ignore[attr-defined]
    (row,) = [c for c in s.citations if fact in c.sentence]  # type: ignore[attr-defined]
    assert row.sentence in s.draft and "|" not in row.sentence  # type: ignore[attr-defined]


def test_the_order_whose_items_the_customer_names_is_the_one_described(demo: Workspace) -> None:
    s = ask(demo, "C1043", "Hiya, any tracking yet for my lampshade + stool order? 😊")
    assert "LUM-105053" in s.draft and "6A18316221014" in s.draft  # type: ignore[attr-defined]
    # four delivered orders: the item named picks an older one over the latest
    s = ask(
        demo, "C1033", "Bonjour, je voudrais retourner ma lampe Céramique Sable, c'est possible ?"
    )
    assert "LUM-104048" in s.draft and "LUM-104506" not in s.draft  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("text", "own"),
    [
        ("any tracking yet for my lampshade + stool order?", True),
        ("where is my parcel", True),
        ("j'ai commandé une lampe", True),
        ("my sister wants to order a lamp", False),
        ("tell me about my rights to return an item", False),
    ],
)
def test_which_messages_are_about_an_order_of_theirs(text: str, own: bool) -> None:
    from copilot.pipeline.orderfacts import refers_to_own_order

    assert refers_to_own_order(text) is own


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("my IBAN is fr76 3000 6000 0112 3456 7890 189", "3456 7890"),
        ("call me on (555) 123-4567 tonight", "123-4567"),
        ("appelez le 06 39 98 01 17", "39 98 01 17"),
        ("tel +32 470 12 34 56 svp", "470 12 34 56"),
        ("ring 020 7946 0018 please", "7946 0018"),
        ("I live at 221B Baker Street, London", "Baker Street"),
        ("mon numéro de sécu : 1 85 05 78 006 084 36", "006 084"),
        ("Hello, Camille Martin here, camille asks", "Camille"),
    ],
)
def test_masking_probes(text: str, secret: str) -> None:
    from copilot.pipeline.pii import Masker

    m = Masker()
    m.add_names(["Camille Martin"])
    masked = m.mask(text)
    assert secret.lower() not in masked.lower(), masked
    assert m.unmask(masked) == text


def test_masking_leaves_order_numbers_dates_and_random_codes_alone() -> None:
    from copilot.pipeline.pii import Masker

    text = "Order LUM-104233 of 12/11/2026, code AB12 CDEF GHIJ KLMN, total 93.90 EUR"
    assert Masker().mask(text) == text


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("where's my order??", "order_status"),
        ("wheres my package", "order_status"),
        ("where r my earbuds", "order_status"),
        ("where are my shoes?", "order_status"),
        ("whereas the lamp is fine, the shade is not", "other"),
        ("somewhere safe to leave it?", "other"),
    ],
)
def test_where_questions_are_read_in_chat_spelling(text: str, intent: str) -> None:
    from copilot.pipeline.reading import detect_intents

    assert detect_intents(text)[0] == intent


def test_the_quote_shown_for_each_sentence_contains_it(demo: Workspace) -> None:
    """Each drafted sentence cites the passage that holds it, and the quote the agent sees is
    that passage's sentence (Markdown stripped), not an excerpt picked for the question."""
    from copilot.demo import demo_conversations
    from copilot.pipeline.offline import plain
    from knowledge.text import fold

    checked = 0
    for raw in demo_conversations():
        conv = Conversation(
            customer_id=raw["customer_id"],
            turns=[Turn(role=t["role"], text=t["text"]) for t in raw["turns"]],
        )
        for c in demo.service.suggest(conv).citations:
            if not c.snippets:
                continue  # an order fact or a question to the customer: no passage to quote
            said = fold(plain(c.sentence)).rstrip(".!?… ")
            assert all(said in fold(q) for q in c.snippets), (c.sentence, c.snippets)
            assert not any("**" in q or "](" in q for q in c.snippets)
            checked += 1
    assert checked >= 30
