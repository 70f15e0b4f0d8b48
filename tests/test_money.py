"""One reader of amounts of money, for the escalation policy, the safety checks, the knowledge
gaps and the conflict check."""

from __future__ import annotations

from copilot.desk.desk import as_placeholders
from copilot.pipeline.escalation import Policy
from copilot.pipeline.safety import promised_amounts
from knowledge.money import money, parse_amount


def test_amounts_as_people_write_them() -> None:
    got = money(
        "4,50 € ; €1,250.00 ; 1 250,50 EUR ; $75 ; 75 dollars ; CHF 12 ; £9.99 ; 1.000.000 €"
    )
    assert [(m.value, m.currency) for m in got] == [
        (4.5, "EUR"),
        (1250.0, "EUR"),
        (1250.5, "EUR"),
        (75.0, "$"),
        (75.0, "$"),
        (12.0, "CHF"),
        (9.99, "GBP"),
        (1_000_000.0, "EUR"),
    ]
    assert [m.text for m in money("un bon de 30 € et 12 articles")] == ["30 €"]  # not "12"
    assert parse_amount("1,250") == 1250.0 and parse_amount("4,5") == 4.5


def test_a_refund_claimed_in_any_currency_and_a_promise_with_thousands_are_read() -> None:
    policy = Policy.default()
    # a customer of a British or Canadian store writes £ or $ (only € and CHF were read)
    assert policy.amounts_claimed("I want a refund of £180 for the delay") == [180.0]
    assert policy.amounts_claimed("Please refund me $1,200 now") == [1200.0]
    assert policy.amounts_claimed("I paid $1,200") == []  # no refund asked
    # "1 140 €" was read as 140 €: an offer over the limit went unnoticed
    assert promised_amounts("Nous vous remboursons 1 140 € dès demain.") == [1140.0]


def test_a_sum_claimed_outright_is_a_claim_and_a_price_is_not() -> None:
    policy = Policy.default()
    # no refund word, but a sum demanded: the refund limit applies to it
    assert policy.amounts_claimed("Je vous demande 350 £ pour le nouveau billet d'avion") == [350.0]
    assert policy.amounts_claimed("I'll keep it, but I expect €200 back") == [200.0]
    assert policy.amounts_claimed("j'exige au moins 80 € pour le dérangement") == [80.0]
    assert policy.amounts_claimed("Please reimburse the 45.50 EUR") == [45.5]
    # an amount that is a price, not a claim
    assert policy.amounts_claimed("je demande un billet à 180 £") == []
    assert policy.amounts_claimed("I want the £200 annual pass") == []
    assert policy.amounts_claimed("I expect the parcel for 12 € of shipping") == []


def test_gap_questions_hide_amounts_and_answers_keep_them() -> None:
    text = "Can I get a $25 credit on order 4512345? A €100 gift card is fine."
    assert as_placeholders(text) == (
        "Can I get a [AMOUNT] credit on order [NUMBER]? A [AMOUNT] gift card is fine."
    )
    assert as_placeholders(text, amounts=False) == (
        "Can I get a $25 credit on order [NUMBER]? A €100 gift card is fine."
    )
