"""What a customer may return and until when: each item's return window (by its category, from
the policy), computed from the delivery date, never guessed."""

from __future__ import annotations

from datetime import date, timedelta

from copilot.pipeline.orderdates import fmt_date
from copilot.pipeline.policyschema import PolicySettings
from copilot.types import Lang
from knowledge import Order


def return_windows(order: Order, settings: PolicySettings) -> dict[int, list[str]]:
    """The order's items grouped by return window (days from delivery; 0: not returnable)."""
    groups: dict[int, list[str]] = {}
    for item in order.items or ():
        groups.setdefault(settings.return_window(item.category), []).append(item.name)
    return groups or {settings.return_window_days: []}


def return_sentences(
    order: Order,
    parts: list[str],
    values: dict[str, str],
    *,
    lang: Lang,
    you: dict[str, str],
    s: PolicySettings,
    today: date,
) -> bool | None:
    """What the customer may return and until when, from the delivery date and the window of
    each item's category; True/False when every item is still in / out of its window."""
    groups = return_windows(order, s)
    fr = lang == "fr"
    if order.status == "delivered" and order.delivered_at:
        return _delivered(
            order.delivered_at.date(), groups, parts, values, lang=lang, you=you, today=today
        )
    if order.status in ("shipped", "in_transit", "processing", "delayed", "out_for_delivery"):
        values["return_eligible"] = "after_delivery"
        days = max(groups)
        if days:
            parts.append(
                f"Une fois la commande reçue, {you['you_have']} {days} jours pour nous retourner un article."
                if fr
                else f"Once it arrives, you will have {days} days to return an item."
            )
        return bool(days)
    if order.status == "returned":
        parts.append(
            f"Le remboursement intervient sous {s.refund_delay_days} jours après réception du colis retourné."
            if fr
            else f"The refund is made within {s.refund_delay_days} days of receiving the returned parcel."
        )
    return None


def _delivered(
    delivered: date,
    groups: dict[int, list[str]],
    parts: list[str],
    values: dict[str, str],
    *,
    lang: Lang,
    you: dict[str, str],
    today: date,
) -> bool | None:
    """A delivered order's return sentences, one per window: not returnable, returnable until
    when, or no longer; True/False when every item is in / out of its window, else None."""
    named = len(groups) > 1  # different windows in one order: say which item has which
    fr = lang == "fr"
    verdicts: list[bool] = []
    for days, names in sorted(groups.items(), key=lambda g: -g[0]):
        what = _items(names, lang) if named else ("un article" if fr else "an item")
        if days == 0:
            verdicts.append(False)
            parts.append(
                f"{_cap(what) if named else 'Cet article'} ne peut pas être retourné (catégorie non retournable)."
                if fr
                else f"{_cap(what) if named else 'This item'} cannot be returned (a non-returnable category)."
            )
            values.setdefault("return_eligible", "no")
            continue
        deadline = delivered + timedelta(days=days)
        ok = today <= deadline
        verdicts.append(ok)
        values.setdefault("return_deadline", deadline.isoformat())
        values.setdefault("return_eligible", "yes" if ok else "no")
        if ok:
            last = (
                (" (c’est le dernier jour)" if fr else " (today is the last day)")
                if deadline == today
                else ""
            )
            parts.append(
                f"{_cap(you['you_are'])} encore dans le délai de retour : {you['you_can_l']} nous retourner {what} jusqu’au {fmt_date(deadline, lang)}{last} ({days} jours après la livraison)."
                if fr
                else f"You are still within the return period: you can return {what} until {fmt_date(deadline, lang)}{last} ({days} days after delivery)."
            )
        else:
            parts.append(
                f"Le délai de retour de {days} jours après la livraison{(' pour ' + what) if named else ''} est dépassé depuis le {fmt_date(deadline, lang)} : nous ne pouvons plus accepter de retour pour un changement d’avis."
                if fr
                else f"The {days}-day return period after delivery{(' for ' + what) if named else ''} ended on {fmt_date(deadline, lang)}, so we can no longer accept a return for a change of mind."
            )
    return all(verdicts) if all(v == verdicts[0] for v in verdicts) else None


def _items(names: list[str], lang: Lang) -> str:
    shown = names[:3]
    if lang == "fr":
        joined = ", ".join(shown[:-1]) + (" et " if len(shown) > 1 else "") + shown[-1]
        return f"l’article {joined}" if len(shown) == 1 else f"les articles {joined}"
    joined = ", ".join(shown[:-1]) + (" and " if len(shown) > 1 else "") + shown[-1]
    return f"the {joined}"


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]
