"""Which of the customer's orders a message names by its items: typos forgiven, and an item
named in the other language found by meaning (multilingual e5), never a guess when no order
stands out."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from copilot.pipeline.intents import IntentClassifier
from copilot.pipeline.orderfacts import _close, pick_orders
from knowledge import Item, Order

TODAY = date(2026, 11, 24)


def _order(n: int, name: str) -> Order:
    return Order(
        order_number=f"ZX-{n:05d}",
        customer_id="c1",
        customer_name="Ilse Varga",
        email="ilse@example.net",
        created_at=datetime(2026, 11, 10 + n),
        status="in_transit",
        items=(Item(sku=f"S{n}", name=name, quantity=1, unit_price=30.0),),
        total=30.0,
        currency="EUR",
        carrier="Post",
        tracking_number=None,
        estimated_delivery=date(2026, 11, 28),
        delivered_at=None,
    )


@pytest.fixture(scope="module")
def embed():
    return IntentClassifier.default().meanings


@pytest.mark.parametrize(
    ("a", "b", "close"),
    [
        ("bouiloire", "bouilloire", True),  # one letter dropped
        ("headphnes", "headphones", True),
        ("routeru", "routeur", False),  # a transposition is two edits: allowed from 8 letters
        ("lamp", "lame", False),  # short words must match exactly
        ("wallet", "pallet", True),  # one edit in a 6-letter word
        ("wallet", "mallets", False),
        ("blender", "tender", False),
    ],
)
def test_item_words_a_typo_apart(a: str, b: str, close: bool) -> None:
    assert _close(a, b) is close


def test_a_misspelt_item_designates_its_order() -> None:
    own = [_order(1, "Bouilloire inox 1,7 L"), _order(2, "Casque audio sans fil")]
    choice = pick_orders(own, [], ("order_status",), TODAY, "ma bouiloire est partie ?")
    assert [o.order_number for o in choice.orders] == ["ZX-00001"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # French phrases for English item names (and back): no shared word, only meaning
        ("ma commande du bracelet de la montre, elle en est où ?", "ZX-00002"),
        ("has my order with the train ticket to London shipped?", "ZX-00004"),
    ],
)
def test_an_item_named_in_the_other_language_designates_its_order(
    embed, text: str, expected: str
) -> None:
    own = [
        _order(1, "Desk lamp"),
        _order(2, "Smartwatch strap"),
        _order(3, "Wireless headphones"),
        _order(4, "Billet Paris → Londres"),
    ]
    without = pick_orders(own, [], ("order_status",), TODAY, text)
    assert not without.orders and without.ask_between  # words alone: ask which one
    choice = pick_orders(own, [], ("order_status",), TODAY, text, embed=embed)
    assert [o.order_number for o in choice.orders] == [expected]


def test_no_order_stands_out_so_the_reply_asks_which(embed) -> None:
    own = [_order(1, "Desk lamp"), _order(2, "Wireless headphones"), _order(3, "Leather wallet")]
    choice = pick_orders(
        own, [], ("order_status",), TODAY, "where is my order? the blue one", embed=embed
    )
    assert not choice.orders
    assert {o.order_number for o in choice.ask_between} == {"ZX-00001", "ZX-00002", "ZX-00003"}


@pytest.mark.parametrize(
    ("text", "names"),
    [
        (
            "hi, I want to return my order",
            ["“The River” 1000-piece jigsaw puzzle", "USB-C adapter"],
        ),
        ("has the kettle shipped?", ["Stainless steel kettle", "Kettle descaler"]),
        ("ma commande est où ?", ["Bouilloire inox 1,7 L", "Routeur Wi-Fi 6", "Lampe de bureau"]),
    ],
)
def test_a_message_that_names_no_item_designates_no_order(embed, text, names) -> None:
    own = [_order(n, name) for n, name in enumerate(names, 1)]
    choice = pick_orders(own, [], ("order_status",), TODAY, text, embed=embed)
    assert not choice.orders


def _delivered(n: int, name: str, created: datetime) -> Order:
    o = _order(n, name)
    return Order(
        **{
            **o.__dict__,
            "status": "delivered",
            "created_at": created,
            "delivered_at": created.replace(day=created.day + 2),
        }
    )


def test_a_day_or_month_the_message_names_designates_the_order_that_carries_it() -> None:
    # the dates an order carries: ordered, due, delivered, and those its item names hold (a
    # journey's, a show's, a service's date, as the feed writes it)
    own = [
        _delivered(1, "Quillon -> Varne, 20/12/2026, seat 14", datetime(2026, 11, 3)),
        _delivered(2, "Varne -> Quillon, 23 November 2026, seat 2", datetime(2026, 11, 4)),
    ]
    for text, number in (
        ("my ticket of 23 November, can I get a refund?", "ZX-00002"),
        ("mon billet du 20/12, je peux me faire rembourser ?", "ZX-00001"),
        ("mon billet de décembre, remboursable ?", "ZX-00001"),  # no order placed in December
        ("the one I ordered on Nov 3rd, refund please", "ZX-00001"),
    ):
        choice = pick_orders(own, [], ("refund",), TODAY, text)
        assert [o.order_number for o in choice.orders] == [number], text
    # nothing tells them apart: a refund of "my order" asks which, listing both
    choice = pick_orders(own, [], ("refund",), TODAY, "I want a refund for my ticket")
    assert not choice.orders and len(choice.ask_between) == 2
    # a question about a kind of item they have is the policy's, not a question back
    choice = pick_orders(own, [], ("other",), TODAY, "is my seat 14 by the window?")
    assert not choice.ask_between
