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


def test_gap_questions_hide_amounts_and_answers_keep_them() -> None:
    text = "Can I get a $25 credit on order 4512345? A €100 gift card is fine."
    assert as_placeholders(text) == (
        "Can I get a [AMOUNT] credit on order [NUMBER]? A [AMOUNT] gift card is fine."
    )
    assert as_placeholders(text, amounts=False) == (
        "Can I get a $25 credit on order [NUMBER]? A €100 gift card is fine."
    )
