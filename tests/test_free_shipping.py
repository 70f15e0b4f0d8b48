"""Free standard delivery: the policy's threshold for the customer's country, else the order's
currency, else the general one, stated against the order's total when the customer asks what
delivery cost or whether it was free."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from copilot.pipeline.escalation import DEFAULT_POLICY
from copilot.pipeline.orderfacts import describe
from copilot.pipeline.policyrules import Policy, PolicyError
from knowledge import Order

TODAY = date(2026, 11, 24)


def _policy(settings: str) -> Policy:
    text = DEFAULT_POLICY.read_text(encoding="utf-8")
    return Policy.parse(text.replace("settings:\n", f"settings:\n{settings}", 1))


def _order(total: float, currency: str = "SEK") -> Order:
    return Order(
        order_number="QX-1",
        customer_id="U-1",
        customer_name="Ilse Varga",
        email="ilse@example.net",
        created_at=datetime(2026, 11, 20),
        status="processing",
        items=[],
        total=total,
        currency=currency,
    )


POLICY = "  free_shipping_threshold: 500\n  free_shipping_thresholds: {dk: 300, NOK: 700}\n"


@pytest.mark.parametrize(
    ("country", "currency", "total", "expected"),
    [
        ("DK", "SEK", 320, "reaches the free standard delivery threshold (300.00 SEK)"),
        ("", "NOK", 650, "under the free standard delivery threshold (700.00 NOK), by 50.00 NOK"),
        ("SE", "SEK", 450, "under the free standard delivery threshold (500.00 SEK), by 50.00 SEK"),
    ],
)
def test_the_threshold_of_their_country_else_currency_else_the_general_one(
    country: str, currency: str, total: float, expected: str
) -> None:
    facts = describe(
        _order(total, currency),
        lang="en",
        formal=True,
        intents=("order_status",),
        policy=_policy(POLICY),
        today=TODAY,
        asked="why was I charged for delivery?",
        country=country,
    )
    assert any(expected in s for s in facts.sentences), facts.sentences


def test_only_a_question_about_delivery_costs_gets_it_and_in_french() -> None:
    policy = _policy(POLICY)
    kw = {"lang": "fr", "formal": True, "intents": ("order_status",), "policy": policy}
    asked = describe(_order(450), today=TODAY, asked="la livraison est gratuite ?", **kw)
    assert any("il manquait 50,00" in s for s in asked.sentences), asked.sentences
    other = describe(_order(450), today=TODAY, asked="elle arrive quand ?", **kw)
    assert not any("seuil" in s for s in other.sentences)


def test_a_negative_threshold_is_refused_with_its_key() -> None:
    with pytest.raises(PolicyError, match="NOK: -1"):
        _policy("  free_shipping_thresholds: {NOK: -1}\n")
