"""A store invented inside the test: its products, order prefix, carriers, currency and
categories appear nowhere in the code, so order resolution, follow-ups and return windows can
only work from the store's own data (feed and policy), as on a customer's next store."""

from __future__ import annotations

import json
import random
from datetime import date, timedelta
from pathlib import Path

import pytest

from copilot import Workspace, load_settings, open_workspace
from copilot.pipeline.escalation import DEFAULT_POLICY
from copilot.types import Conversation, Suggestion, Turn
from knowledge import HashEmbedder

ROOT = Path(__file__).resolve().parents[1]
TODAY = date(2026, 11, 24)
SYLLABLES = ["ka", "vor", "zu", "mel", "tri", "bo", "quen", "sa", "lix", "dra", "nu", "pel"]


def _word(rng: random.Random, n: int = 3) -> str:
    return "".join(rng.choice(SYLLABLES) for _ in range(n)).capitalize()


class Store:
    def __init__(self, seed: int) -> None:
        rng = random.Random(seed)
        self.prefix = "".join(rng.choice("BDFGHJKMNPQRTVWXZ") for _ in range(3))
        self.currency = rng.choice(["NOK", "SEK", "PLN", "CZK"])
        self.carriers = [_word(rng) + " Freight", _word(rng) + " Post"]
        self.products = [_word(rng, 3) for _ in range(4)]
        self.categories = [_word(rng, 2).lower() for _ in range(3)]
        self.windows = {self.categories[0]: 9, self.categories[1]: 45, self.categories[2]: 0}
        # the labels the help centre gives order statuses (the feed's own are English codes)
        self.statuses = [_word(rng, 3) for _ in range(3)]
        self.vocabulary = [
            self.prefix,
            *self.carriers,
            *self.products,
            *self.categories,
            *self.statuses,
        ]

    def number(self, serial: int) -> str:
        return f"{self.prefix}/2026/{serial:06d}"

    def order(
        self, serial: int, customer: str, product: int, status: str, **dates: date
    ) -> dict[str, object]:
        created = dates.get("created", TODAY - timedelta(days=10))
        return {
            "order_number": self.number(serial),
            "customer_id": customer,
            "customer_name": "Ilse Varga",
            "email": "ilse@example.net",
            "created_at": created.isoformat(),
            "status": status,
            "items": [
                {
                    "sku": f"SK{serial}",
                    "name": f"{self.products[product]} set",
                    "quantity": 1,
                    "unit_price": 120,
                    "category": self.categories[product % 3],
                }
            ],
            "total": 120,
            "currency": self.currency,
            "carrier": self.carriers[serial % 2],
            "tracking_number": f"TRK{serial:09d}",
            "estimated_delivery": (TODAY + timedelta(days=3)).isoformat(),
            "delivered_at": dates["delivered"].isoformat() if "delivered" in dates else None,
        }


@pytest.fixture(scope="module")
def store() -> Store:
    return Store(seed=4242)


@pytest.fixture(scope="module")
def ws(tmp_path_factory: pytest.TempPathFactory, store: Store) -> Workspace:
    settings = load_settings(
        data_dir=tmp_path_factory.mktemp("unseen") / "data", demo_autoload=False
    )
    ws = open_workspace(settings, embedder=HashEmbedder(), drafter=None)
    feed = [
        store.order(417, "U-1", 0, "in_transit"),
        store.order(988, "U-1", 1, "in_transit", created=TODAY - timedelta(days=40)),
        store.order(555, "U-2", 2, "in_transit"),
        store.order(610, "U-3", 0, "delivered", delivered=TODAY - timedelta(days=5)),
        store.order(611, "U-3", 1, "delivered", delivered=TODAY - timedelta(days=50)),
        store.order(612, "U-3", 2, "delivered", delivered=TODAY - timedelta(days=2)),
        store.order(720, "U-4", 1, "processing"),
        # sent by e-mail the moment it was bought: no carrier, no tracking number
        {
            **store.order(830, "U-6", 0, "delivered", created=TODAY - timedelta(days=3)),
            "carrier": None,
            "tracking_number": None,
            "delivered_at": f"{(TODAY - timedelta(days=3)).isoformat()}T00:04:00",
        },
    ]
    report = ws.orders.import_file("orders.jsonl", "\n".join(json.dumps(o) for o in feed).encode())
    assert report.problems == []
    kb = [
        {
            "doc_id": "delivery",
            "title": "Delivery",
            "lang": "en",
            "text": "# Delivery\n\nParcels are tracked online with the tracking number we e-mail you.",
        },
        {
            "doc_id": "pickup",
            "title": "Pickup points",
            "lang": "en",
            "text": "# Pickup points\n\nHow long your parcel is kept depends on the carrier.\n\n"
            "| Carrier | Parcel kept at the pickup point |\n|---|---|\n"
            + "".join(
                f"| {c} | {d} days |\n" for c, d in zip(store.carriers, (7, 21), strict=True)
            ),
        },
        {
            "doc_id": "statuses",
            "title": "What your order status means",
            "lang": "en",
            "text": "# What your order status means\n\n| Status | What it means |\n|---|---|\n"
            + "".join(
                f"| {label} | {meaning} |\n"
                for label, meaning in zip(
                    store.statuses,
                    (
                        "Your order is received and your payment is being checked.",
                        "Your parcel is on the delivery truck: it arrives today.",
                        "Your parcel was handed back to us and your order is refunded.",
                    ),
                    strict=True,
                )
            ),
        },
        {
            "doc_id": "warranty",
            "title": "Warranty",
            "lang": "en",
            "text": "# Warranty\n\nHow long your product is covered depends on what it is.\n\n"
            "| Product | Covered for |\n|---|---|\n"
            + "".join(
                f"| {c.capitalize()} | {y} years |\n"
                for c, y in zip(store.categories, (2, 5, 3), strict=True)
            ),
        },
        {
            "doc_id": "returns",
            "title": "Returns",
            "lang": "en",
            "text": "# Returns\n\nReturn windows depend on the product category, from delivery.",
        },
        {
            "doc_id": "exchanges",
            "title": "Exchanging an item",
            "lang": "en",
            "text": "# Exchanging an item\n\nWhat an exchange costs depends on the category.\n\n"
            "| Category | Exchange fee |\n|---|---|\n"
            + "".join(
                f"| {c.capitalize()} | {fee} {store.currency} per item |\n"
                for c, fee in zip(store.categories, (11, 13, 17), strict=True)
            ),
        },
    ]
    ws.kb.ingest_sources([("kb.jsonl", "\n".join(json.dumps(d) for d in kb).encode())])
    policy = DEFAULT_POLICY.read_text(encoding="utf-8").replace(
        "settings:\n",
        f"settings:\n  category_return_windows: {json.dumps(store.windows)}\n",
        1,
    )
    ws.policies.save(policy.replace("currency: EUR", f"currency: {store.currency}"))
    ws.service.today = lambda: TODAY
    return ws


def ask(ws: Workspace, customer: str, *texts: str) -> Suggestion:
    turns = [Turn(role="customer" if i % 2 == 0 else "agent", text=t) for i, t in enumerate(texts)]
    return ws.service.suggest(Conversation(customer_id=customer, channel="web", turns=turns))


def test_the_store_vocabulary_is_nowhere_in_the_code(store: Store) -> None:
    code = "\n".join(
        p.read_text(encoding="utf-8").lower()
        for pkg in ("copilot", "knowledge", "evals")
        for p in (ROOT / pkg).rglob("*.py")
        if "datasets" not in p.parts
    )
    assert [w for w in store.vocabulary if w.lower() in code] == []


@pytest.mark.parametrize("typed", ["{p} 2026 417", "#{P}2026417", "0417", "{p}.2026.000417"])
def test_a_number_typed_any_way_gets_the_order_facts(
    ws: Workspace, store: Store, typed: str
) -> None:
    s = ask(
        ws,
        "U-1",
        "hi, where is my parcel " + typed.format(P=store.prefix, p=store.prefix.lower()) + " ?",
    )
    assert s.order_numbers == [store.number(417)]
    assert "TRK000000417" in s.draft and store.carriers[417 % 2] in s.draft


def test_a_follow_up_that_only_gives_the_number_answers_the_earlier_question(
    ws: Workspace, store: Store
) -> None:
    s = ask(
        ws,
        "U-1",
        "Bonjour, où en est ma commande ?",
        "Bonjour ! Quel est le numéro de commande ?",
        "merci, c'est la 0417",
    )
    assert s.order_numbers == [store.number(417)] and s.intent == "order_status"
    assert "TRK000000417" in s.draft and "Avec plaisir" not in s.draft


def test_the_order_named_by_its_product_is_the_one_described(ws: Workspace, store: Store) -> None:
    product = store.products[1]  # on the older of U-1's two orders on their way
    s = ask(ws, "U-1", f"when will my {product.lower()} set arrive?")
    assert s.order_numbers == [store.number(988)] and "TRK000000988" in s.draft


def test_several_plausible_orders_and_no_hint_get_a_clarify_question(
    ws: Workspace, store: Store
) -> None:
    s = ask(ws, "U-1", "where is my order??")
    assert s.order_numbers == [] and set(s.clarify_orders) == {store.number(417), store.number(988)}
    assert s.clarify == "order"
    assert store.number(417) in s.draft and store.number(988) in s.draft
    assert store.products[0] in s.draft and "TRK" not in s.draft  # lists them, tells nothing yet


def test_the_table_row_of_their_own_carrier_is_quoted_not_the_others(
    ws: Workspace, store: Store
) -> None:
    s = ask(ws, "U-1", f"how many days is my parcel kept at the pickup point? {store.number(417)}")
    mine, other = store.carriers[417 % 2], store.carriers[(417 + 1) % 2]
    assert s.order_numbers == [store.number(417)]
    days = (7, 21)[417 % 2]
    assert f"{mine}: {days} days" in s.draft and other not in s.draft, s.draft


def test_a_question_about_a_delivered_parcel_gets_its_tracking_number(
    ws: Workspace, store: Store
) -> None:
    s = ask(ws, "U-3", f"it says delivered but nothing in my mailbox, order {store.number(610)}")
    assert "TRK000000610" in s.draft and store.carriers[610 % 2] in s.draft
    s = ask(ws, "U-3", f"can I still return order {store.number(610)}?")
    assert "TRK000000610" not in s.draft  # a return question: the tracking number says nothing


def test_an_order_being_prepared_names_the_carrier_that_will_bring_it(
    ws: Workspace, store: Store
) -> None:
    s = ask(ws, "U-4", f"has my order {store.number(720)} shipped yet?")
    assert f"being prepared (carrier: {store.carriers[720 % 2]})" in s.draft, s.draft


def test_cancelling_a_delivered_order_says_until_when_it_can_be_returned(
    ws: Workspace, store: Store
) -> None:
    s = ask(ws, "U-3", f"I want to cancel {store.number(610)}")  # its category: 9 days
    assert "still within the return period" in s.draft and "9 days" in s.draft, s.draft


def test_an_order_singled_out_by_a_weekday_answers_a_question_of_any_kind(
    ws: Workspace, store: Store
) -> None:
    weekday = (TODAY - timedelta(days=2)).strftime("%A")  # the day 612 was delivered
    s = ask(ws, "U-3", f"I need an invoice for my order delivered on {weekday}")
    assert s.order_numbers == [store.number(612)], s.draft
    assert ask(ws, "U-3", "I need an invoice for my order").order_numbers == []  # which?


def test_beside_their_order_a_table_row_is_quoted_only_when_it_names_what_they_asked(
    ws: Workspace, store: Store
) -> None:
    s = ask(ws, "U-1", f"when will my parcel {store.number(417)} arrive? is my order on its way?")
    assert s.order_numbers == [store.number(417)] and "TRK000000417" in s.draft, s.draft
    assert not any(label in s.draft for label in store.statuses), s.draft
    named = store.statuses[1]
    s = ask(ws, "U-1", f"my order {store.number(417)} says {named}: what does {named} mean?")
    assert f"{named}: Your parcel is on the delivery truck" in s.draft, s.draft
    assert store.statuses[0] not in s.draft and store.statuses[2] not in s.draft, s.draft


def test_the_row_that_names_their_product_answers_even_without_a_word_of_the_question(
    ws: Workspace, store: Store
) -> None:
    s = ask(ws, "U-1", f"is the {store.products[1]} set of order {store.number(988)} covered?")
    assert s.order_numbers == [store.number(988)], s.draft
    assert f"{store.categories[1].capitalize()}: 5 years" in s.draft, s.draft
    assert "2 years" not in s.draft and "3 years" not in s.draft, s.draft


@pytest.mark.parametrize("text", ["it doesn't work", "ça marche plus 😩", "je peux l'échanger ?"])
def test_a_first_message_that_says_nothing_of_its_topic_gets_asked_what_it_is_about(
    ws: Workspace, text: str
) -> None:
    s = ask(ws, "U-3", text)  # three delivered orders: none is the obvious one
    assert s.clarify == "details" and not s.escalation.escalate
    assert s.citations == [] and s.order_numbers == [] and s.draft.rstrip().endswith("?")
    assert any("does not say what it is about" in line for line in s.context["order_facts"])


def test_the_same_words_after_a_named_topic_are_not_asked_about(
    ws: Workspace, store: Store
) -> None:
    product = store.products[0].lower()
    s = ask(
        ws, "U-3", f"my {product} set arrived broken", "Sorry! What happens?", "it doesn't work"
    )
    assert s.clarify is None and "does not say" not in " ".join(s.context["order_facts"])
    s = ask(ws, "U-1", "where is it? 0417")  # the order its last digits name answers it
    assert s.clarify is None and s.order_numbers == [store.number(417)]


def test_a_follow_up_naming_the_product_answers_the_question(ws: Workspace, store: Store) -> None:
    product = store.products[0]
    s = ask(
        ws, "U-1", "where is my order?", "Which order do you mean?", f"the {product.lower()} one"
    )
    assert s.order_numbers == [store.number(417)] and "TRK000000417" in s.draft


@pytest.mark.parametrize(
    ("serial", "expected"),
    [
        (610, "still within the return period"),  # 9-day category, delivered 5 days ago
        (611, "return period after delivery ended"),  # 45-day category, 50 days ago
        (612, "cannot be returned"),  # a category with no returns
    ],
)
def test_return_windows_come_from_the_category_in_the_policy(
    ws: Workspace, store: Store, serial: int, expected: str
) -> None:
    s = ask(ws, "U-3", f"Can I still return my order {store.number(serial)}?")
    assert s.order_numbers == [store.number(serial)]
    assert expected in s.draft, s.draft
    if serial == 610:
        assert "28 November 2026" in s.draft and "9 days" in s.draft


def test_an_item_that_cannot_be_returned_gets_the_rule_of_its_own_category(
    ws: Workspace, store: Store
) -> None:
    """Past the return verdict the draft stops, except for the knowledge's row about their own
    case: what exchanging an item of their category costs (and no other category's row)."""
    s = ask(ws, "U-3", f"Can I exchange my order {store.number(612)} for another one?")
    assert s.order_numbers == [store.number(612)]
    assert "cannot be returned" in s.draft and f"17 {store.currency}" in s.draft, s.draft
    assert f"11 {store.currency}" not in s.draft and f"13 {store.currency}" not in s.draft


def test_an_order_sent_electronically_is_issued_not_delivered(ws: Workspace, store: Store) -> None:
    """The feed calls it delivered, but nothing travelled: no carrier, no tracking number,
    delivered minutes after it was placed (an e-ticket, a licence, a gift card)."""
    s = ask(ws, "U-6", f"Hi, about my order {store.number(830)}: what is its status?")
    assert f"{store.number(830)} was issued on 21 November 2026" in s.draft, s.draft
    parcel = ask(ws, "U-3", f"Hi, about my order {store.number(610)}: what is its status?")
    assert "was delivered on" in parcel.draft, parcel.draft


def test_another_customers_order_reads_as_an_unknown_one(ws: Workspace, store: Store) -> None:
    foreign = ask(ws, "U-1", f"where is {store.prefix} 2026 555?")
    unknown = ask(ws, "U-1", f"where is {store.prefix} 2026 999?")
    assert foreign.order_numbers == unknown.order_numbers == []
    assert foreign.draft.replace("555", "N") == unknown.draft.replace("999", "N")
    assert "TRK000000555" not in foreign.draft


@pytest.mark.parametrize(
    ("question", "answer"),
    [
        ("will my order {n} arrive before the 30th?", "Yes, it should arrive in time"),
        ("will my order {n} arrive before the 26th?", "No, I am afraid not"),
        ("ma commande {n} arrivera avant le 30 ?", "Oui, elle devrait arriver à temps"),
        ("i need order {n} by the 27th", "Yes, it should arrive in time"),  # ETA is the 27th
    ],
)
def test_a_date_question_gets_a_yes_or_no_from_the_estimate(
    ws: Workspace, store: Store, question: str, answer: str
) -> None:
    s = ask(ws, "U-1", question.format(n=store.number(417)))  # expected on 27 November
    assert answer in s.draft, s.draft
