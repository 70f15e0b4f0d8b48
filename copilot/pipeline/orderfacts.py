"""Order facts as sentences for the customer, computed from the order record and the policy.

Only orders that belong to the customer reach this module (see ``OrderBook.quoted``). Return
eligibility is computed from the delivery date and the policy's return window, never guessed
(``orderreturns``); which of their orders a reply is about is decided in ``orderchoice``, dates
and amounts are written by ``orderdates``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import date, timedelta

from copilot.pipeline.escalation import Policy
from copilot.pipeline.orderchoice import _close, clarify_question, pick_orders, refers_to_own_order
from copilot.pipeline.orderdates import asked_deadline, fmt_amount, fmt_date
from copilot.pipeline.orderreturns import return_sentences, return_windows
from copilot.types import Lang
from knowledge import Order
from knowledge.text import fold

# what other modules import from here (order resolution, dates and returns were here)
__all__ = [
    "OrderFacts",
    "_close",  # tests/test_orderfacts_items.py reads it here
    "clarify_question",
    "describe",
    "fmt_amount",
    "fmt_date",
    "pick_orders",
    "refers_to_own_order",
    "return_windows",
]

_STATUS = {
    "fr": {
        "pending": "est enregistrée et en attente de paiement",
        "processing": "est en cours de préparation",
        "shipped": "a été expédiée",
        "in_transit": "est en cours d’acheminement",
        "out_for_delivery": "est en cours de livraison aujourd’hui",
        "delivered": "a été livrée",
        "delayed": "a pris du retard",
        "lost": "a été déclarée perdue par le transporteur",
        "cancelled": "a été annulée",
        "returned": "nous a été retournée",
        "refunded": "a été remboursée",
    },
    "en": {
        "pending": "is registered and awaiting payment",
        "processing": "is being prepared",
        "shipped": "has been shipped",
        "in_transit": "is on its way",
        "out_for_delivery": "is out for delivery today",
        "delivered": "was delivered",
        "delayed": "is delayed",
        "lost": "has been reported lost by the carrier",
        "cancelled": "was cancelled",
        "returned": "has been returned to us",
        "refunded": "has been refunded",
    },
}


@dataclass(frozen=True)
class OrderFacts:
    """What the draft may say about one order: sentences, and the values they state (for evals)."""

    order_number: str
    sentences: tuple[str, ...]
    values: dict[str, str] = field(default_factory=dict)
    return_eligible: bool | None = None
    # what names this order in the store's own words: its items' names and categories (a
    # table row about "Promo" fares is theirs when these name it), and its carrier
    names: tuple[str, ...] = ()
    carrier: str | None = None
    # in French, the same sentences in the other register (tu <-> vous): a drafter that quotes
    # the knowledge word for word speaks the knowledge's register (see ``offline``)
    other_register: tuple[str, ...] = ()

    def in_other_register(self) -> OrderFacts:
        return replace(self, sentences=self.other_register, other_register=self.sentences)


def describe(
    order: Order,
    *,
    lang: Lang,
    formal: bool,
    intents: tuple[str, ...],
    policy: Policy,
    today: date,
    asked: str = "",
    country: str = "",
    in_both_registers: bool = True,
) -> OrderFacts:
    """Sentences about ``order`` for this customer, in their language and register (and, in
    French, in the other register: ``OrderFacts.other_register``)."""
    you = _you(lang, formal)
    values: dict[str, str] = {"order_number": order.order_number, "status": order.status}
    parts = [_status_sentence(order, lang, you, values, tracked=intents[:1] == ("order_status",))]
    parts += _estimate_sentences(order, lang, values, asked, today)
    money_intent = any(i in intents for i in ("refund", "return", "payment", "cancel"))
    if order.total is not None and (money_intent or order.status in ("refunded", "returned")):
        amount = fmt_amount(order.total, order.currency, lang)
        values["total"] = f"{order.total:.2f}"
        parts.append(f"Son montant est de {amount}." if lang == "fr" else f"Its total is {amount}.")
    eligible: bool | None = None
    if _window_asked(order, intents, policy):
        eligible = return_sentences(
            order, parts, values, lang=lang, you=you, s=policy.settings, today=today
        )
    threshold = policy.settings.free_shipping_from(country, order.currency)
    if threshold is not None and order.total is not None and _SHIPPING_COST.search(fold(asked)):
        parts.append(_free_shipping_sentence(order.total, threshold, order.currency, lang, values))
    names = [n for i in order.items or () for n in (i.name, i.category.replace("_", " ")) if n]
    other = (
        describe(
            order,
            lang=lang,
            formal=not formal,
            intents=intents,
            policy=policy,
            today=today,
            asked=asked,
            country=country,
            in_both_registers=False,
        ).sentences
        if lang == "fr" and in_both_registers
        else ()
    )
    return OrderFacts(
        order.order_number,
        tuple(parts),
        values,
        eligible,
        tuple(dict.fromkeys(names)),
        order.carrier or None,
        other,
    )


def _window_asked(order: Order, intents: tuple[str, ...], policy: Policy) -> bool:
    """A return or refund question; or cancelling what has been delivered, which is returning
    it when the policy gives each of its items a window of its own (a pass "cancelled within
    14 days of issue"). Items under the general window (a ticket the feed calls "delivered")
    are not."""
    return any(i in intents for i in ("return", "refund")) or (
        "cancel" in intents
        and order.status == "delivered"
        and bool(order.items)
        and all(policy.settings.has_own_window(i.category) for i in order.items)
    )


# a question about what delivery costs or whether it is free
_SHIPPING_COST = re.compile(
    r"\bfrais (de )?(port|livraison|d.envoi|d.expedition)\b|\b(livraison|port|envoi)( est| sont)? (gratuit|offert)"
    r"|\b(shipping|delivery|postage) (cost|fee|charge|price)s?\b|\bfree (shipping|delivery)\b"
    r"|\bcharged (for )?(shipping|delivery|postage)\b"
)


def _free_shipping_sentence(
    total: float, threshold: float, currency: str, lang: Lang, values: dict[str, str]
) -> str:
    """The order's total against the policy's free-delivery threshold for this customer."""
    at, mark = fmt_amount(threshold, currency, lang), fmt_amount(total, currency, lang)
    values["free_shipping_threshold"] = f"{threshold:.2f}"
    values["free_shipping"] = "yes" if total >= threshold else "no"
    if total >= threshold:
        return (
            f"Son montant ({mark}) atteint le seuil de livraison standard gratuite ({at})."
            if lang == "fr"
            else f"Its total ({mark}) reaches the free standard delivery threshold ({at})."
        )
    short = fmt_amount(threshold - total, currency, lang)
    return (
        f"Son montant ({mark}) est sous le seuil de livraison standard gratuite ({at}) : il manquait {short}."
        if lang == "fr"
        else f"Its total ({mark}) is under the free standard delivery threshold ({at}), by {short}."
    )


def _sent_electronically(order: Order) -> bool:
    """A "delivered" order with no carrier and no tracking number, delivered within hours of
    being placed: an e-ticket, a licence or a gift card the feed calls delivered, not a parcel."""
    return (
        order.status == "delivered"
        and not order.carrier
        and not order.tracking_number
        and order.delivered_at is not None
        and order.delivered_at - order.created_at < timedelta(days=1)
    )


def _status_sentence(
    order: Order, lang: Lang, you: dict[str, str], values: dict[str, str], *, tracked: bool
) -> str:
    """Where the order is: its status, with the delivery day, the carrier and the tracking
    number when they say something at that status (``tracked``: a question about where it is,
    which a delivered order's tracking number and a prepared one's carrier answer too)."""
    status = _STATUS[lang].get(order.status, order.status)
    if _sent_electronically(order):
        status = "a été émise" if lang == "fr" else "was issued"  # not a parcel: nothing delivered
    carrier = order.carrier or ""
    if lang == "fr":
        head = f"{you['Your_f']} commande {order.order_number} {status}"
    else:
        head = f"{you['Your']} order {order.order_number} {status}"
    if order.status == "delivered" and order.delivered_at:
        head += (
            f" le {fmt_date(order.delivered_at, lang)}"
            if lang == "fr"
            else f" on {fmt_date(order.delivered_at, lang)}"
        )
        values["delivered_at"] = order.delivered_at.date().isoformat()
    if carrier and order.status == "lost":
        head = head.replace(" par le transporteur", f" par {carrier}").replace(
            " by the carrier", f" by {carrier}"
        )
        values["carrier"] = carrier
    elif carrier and order.status in (
        "shipped",
        "in_transit",
        "out_for_delivery",
        "delayed",
        "delivered",
    ):
        head += f" avec {carrier}" if lang == "fr" else f" with {carrier}"
        values["carrier"] = carrier
    elif carrier and tracked and order.status == "processing":  # who will bring it
        head += f" (transporteur : {carrier})" if lang == "fr" else f" (carrier: {carrier})"
        values["carrier"] = carrier
    if order.tracking_number and (
        order.status in ("shipped", "in_transit", "out_for_delivery", "delayed", "lost")
        or (tracked and order.status == "delivered")
    ):
        head += (
            f" (numéro de suivi : {order.tracking_number})"
            if lang == "fr"
            else f" (tracking number: {order.tracking_number})"
        )
        values["tracking_number"] = order.tracking_number
    return head + "."


def _estimate_sentences(
    order: Order, lang: Lang, values: dict[str, str], asked: str, today: date
) -> list[str]:
    """When it should arrive, for an order on its way: "will it arrive before the 27th?" is
    answered yes or no from the estimate; an estimate in the past is a delay."""
    if not order.estimated_delivery or order.status not in (
        "processing",
        "shipped",
        "in_transit",
        "delayed",
    ):
        return []
    eta = fmt_date(order.estimated_delivery, lang)
    values["estimated_delivery"] = order.estimated_delivery.isoformat()
    deadline = asked_deadline(asked, today)
    if order.estimated_delivery >= today and deadline is not None:
        day, inclusive = deadline
        in_time = order.estimated_delivery <= day if inclusive else order.estimated_delivery < day
        return [
            (
                f"Oui, elle devrait arriver à temps : la livraison est prévue le {eta}."
                if in_time
                else f"Non, malheureusement : la livraison est prévue le {eta}, donc après la date souhaitée."
            )
            if lang == "fr"
            else (
                f"Yes, it should arrive in time: delivery is expected on {eta}."
                if in_time
                else f"No, I am afraid not: delivery is expected on {eta}, after the date you need."
            )
        ]
    if order.estimated_delivery >= today:
        return [
            f"La livraison est prévue le {eta}."
            if lang == "fr"
            else f"Delivery is expected on {eta}."
        ]
    return [
        f"La livraison était prévue le {eta} : elle a donc du retard, et je m’en excuse."
        if lang == "fr"
        else f"Delivery was expected on {eta}, so it is late, and I am sorry about that."
    ]


def _you(lang: Lang, formal: bool) -> dict[str, str]:
    if lang == "fr":
        return (
            {
                "Your_f": "Votre",
                "You_can": "Vous pouvez",
                "you_can_l": "vous pouvez",
                "you_have": "vous aurez",
                "you_are": "vous êtes",
            }
            if formal
            else {
                "Your_f": "Ta",
                "You_can": "Tu peux",
                "you_can_l": "tu peux",
                "you_have": "tu auras",
                "you_are": "tu es",
            }
        )
    return {"Your": "Your"}
