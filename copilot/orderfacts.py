"""Order facts as sentences for the customer, computed from the order record and the policy.

Only orders that belong to the customer reach this module (see ``OrderBook.quoted``). Return
eligibility is computed from the delivery date and the policy's return window, never guessed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from copilot.escalation import Policy
from copilot.types import Lang
from knowledge import Order
from knowledge.text import STOPWORDS, content_terms, fold, words

_MONTHS_FR = [
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
]
_MONTHS_EN = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]
_CURRENCY = {"EUR": "€", "CHF": "CHF", "GBP": "£", "USD": "$"}

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


def fmt_date(d: date | datetime, lang: Lang) -> str:
    if isinstance(d, datetime):
        d = d.date()
    if lang == "fr":
        day = "1er" if d.day == 1 else str(d.day)
        return f"{day} {_MONTHS_FR[d.month - 1]} {d.year}"
    return f"{d.day} {_MONTHS_EN[d.month - 1]} {d.year}"


def fmt_amount(value: float, currency: str, lang: Lang) -> str:
    symbol = _CURRENCY.get(currency, currency)
    if lang == "fr":
        num = f"{value:,.2f}".replace(",", "\u202f").replace(".", ",")
        return f"{num} {symbol}"
    num = f"{value:,.2f}"
    return f"{symbol}{num}" if symbol in ("€", "£", "$") else f"{num} {symbol}"


@dataclass(frozen=True)
class OrderFacts:
    """What the draft may say about one order: sentences, and the values they state (for evals)."""

    order_number: str
    sentences: tuple[str, ...]
    values: dict[str, str] = field(default_factory=dict)
    return_eligible: bool | None = None


def describe(
    order: Order, *, lang: Lang, formal: bool, intents: tuple[str, ...], policy: Policy, today: date
) -> OrderFacts:
    """Sentences about ``order`` for this customer, in their language and register."""
    s = policy.settings
    you = _you(lang, formal)
    values: dict[str, str] = {"order_number": order.order_number, "status": order.status}
    status = _STATUS[lang].get(order.status, order.status)
    carrier = order.carrier or ""
    parts: list[str] = []

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
    if order.tracking_number and order.status in (
        "shipped",
        "in_transit",
        "out_for_delivery",
        "delayed",
        "lost",
    ):
        head += (
            f" (numéro de suivi : {order.tracking_number})"
            if lang == "fr"
            else f" (tracking number: {order.tracking_number})"
        )
        values["tracking_number"] = order.tracking_number
    parts.append(head + ".")

    if order.estimated_delivery and order.status in (
        "processing",
        "shipped",
        "in_transit",
        "delayed",
    ):
        eta = fmt_date(order.estimated_delivery, lang)
        values["estimated_delivery"] = order.estimated_delivery.isoformat()
        if order.estimated_delivery >= today:
            parts.append(
                f"La livraison est prévue le {eta}."
                if lang == "fr"
                else f"Delivery is expected on {eta}."
            )
        else:
            parts.append(
                f"La livraison était prévue le {eta} : elle a donc du retard, et je m’en excuse."
                if lang == "fr"
                else f"Delivery was expected on {eta}, so it is late, and I am sorry about that."
            )

    money_intent = any(i in intents for i in ("refund", "return", "payment", "cancel"))
    if order.total is not None and (money_intent or order.status in ("refunded", "returned")):
        amount = fmt_amount(order.total, order.currency, lang)
        values["total"] = f"{order.total:.2f}"
        parts.append(f"Son montant est de {amount}." if lang == "fr" else f"Its total is {amount}.")

    eligible: bool | None = None
    if any(i in intents for i in ("return", "refund")):
        if order.status == "delivered" and order.delivered_at:
            deadline = order.delivered_at.date() + timedelta(days=s.return_window_days)
            eligible = today <= deadline
            values["return_deadline"] = deadline.isoformat()
            values["return_eligible"] = "yes" if eligible else "no"
            if eligible:
                parts.append(
                    f"{you['You_can']} nous retourner un article jusqu’au {fmt_date(deadline, lang)} ({s.return_window_days} jours après la livraison)."
                    if lang == "fr"
                    else f"You can return an item until {fmt_date(deadline, lang)} ({s.return_window_days} days after delivery)."
                )
            else:
                parts.append(
                    f"Le délai de retour de {s.return_window_days} jours après la livraison est dépassé depuis le {fmt_date(deadline, lang)} : nous ne pouvons plus accepter de retour pour un changement d’avis."
                    if lang == "fr"
                    else f"The {s.return_window_days}-day return period after delivery ended on {fmt_date(deadline, lang)}, so we can no longer accept a return for a change of mind."
                )
        elif order.status in ("shipped", "in_transit", "processing", "delayed", "out_for_delivery"):
            eligible = True
            values["return_eligible"] = "after_delivery"
            parts.append(
                f"Une fois la commande reçue, {you['you_have']} {s.return_window_days} jours pour nous retourner un article."
                if lang == "fr"
                else f"Once it arrives, you will have {s.return_window_days} days to return an item."
            )
        elif order.status == "returned":
            parts.append(
                f"Le remboursement intervient sous {s.refund_delay_days} jours après réception du colis retourné."
                if lang == "fr"
                else f"The refund is made within {s.refund_delay_days} days of receiving the returned parcel."
            )
    return OrderFacts(order.order_number, tuple(parts), values, eligible)


def _you(lang: Lang, formal: bool) -> dict[str, str]:
    if lang == "fr":
        return (
            {"Your_f": "Votre", "You_can": "Vous pouvez", "you_have": "vous aurez"}
            if formal
            else {"Your_f": "Ta", "You_can": "Tu peux", "you_have": "tu auras"}
        )
    return {"Your": "Your"}


_MY_ORDER = re.compile(
    r"\b(ma|mon|mes|ta|ton|tes|notre|nos)\s+(commandes?|colis|livraisons?|paquets?|achats?|lampes?|articles?|remboursements?|retours?|suspensions?|lampadaires?)\b"
    r"|\b(my|our)\s+(?:[\w+&'-]+\s+){0,3}?(?<!\bto )(orders?|parcels?|packages?|deliver(y|ies)|purchases?|items?|lamps?|refunds?|returns?)\b"
    r"|\bj.ai (commande|recu|achete|renvoye|retourne)|\bi (ordered|bought|received|sent back|returned)\b",
    re.IGNORECASE,
)


def refers_to_own_order(text: str) -> bool:
    """The customer talks about an order of theirs ("my parcel", "ma commande", "j'ai commandé")."""
    return bool(_MY_ORDER.search(fold(text)))


def pick_orders(
    own: list[Order], quoted: list[Order], intents: tuple[str, ...], today: date, text: str = ""
) -> list[Order]:
    """The orders the reply should talk about: those quoted, else the most relevant recent one
    when the question is mainly about an order of theirs (a general question about returns
    gets the policy, not the customer's last order)."""
    if quoted:
        return quoted[:2]
    if not own or not intents or intents[0] == "chit_chat" or not refers_to_own_order(text):
        return []
    main = intents[0]
    if main in ("return", "refund"):
        pool = [o for o in own if o.status in ("delivered", "returned", "refunded")] or own
    elif main in ("order_status", "cancel"):
        pool = [
            o for o in own if o.status not in ("delivered", "cancelled", "returned", "refunded")
        ] or own
    else:
        return []
    # the order whose items the customer names ("my lampshade + stool order"), else the latest
    asked = _item_terms(text)
    return [
        max(
            pool, key=lambda o: (len(asked & _item_terms(*(i.name for i in o.items))), o.created_at)
        )
    ]


def _item_terms(*texts: str) -> set[str]:
    """Words that can name an item (a stop word in neither language), stemmed both ways: a
    message may be in either language, and so may the item names."""
    kept = " ".join(
        w
        for w in words(" ".join(texts))
        if len(w) > 2 and not any(w in s for s in STOPWORDS.values())
    )
    return set(content_terms(kept, "en")) | set(content_terms(kept, "fr"))
