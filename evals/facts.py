"""What the offline judge reads in a text: atomic facts and claims (EVALS.md §1.5–1.7).

Atomic facts (amounts, numbers, dates, durations, order and tracking numbers, e-mails) are
extracted with regular expressions and normalisers, so that "1 290,00 €" in a draft and "1290"
in a passage are the same fact. A claim is a sentence that says something about the store, an
order or a policy: greetings, sign-offs, apologies and hand-off formulas are not, by the
judge's own list (it never reads a drafter's phrase bank).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import timedelta
from functools import lru_cache

from copilot.pipeline.escalation import PolicySettings
from copilot.pipeline.orderfacts import fmt_amount, fmt_date, return_windows
from knowledge import Order
from knowledge.text import content_terms, fold

_MONTHS = {
    **{
        m: i + 1
        for i, m in enumerate(
            [
                "janvier",
                "fevrier",
                "mars",
                "avril",
                "mai",
                "juin",
                "juillet",
                "aout",
                "septembre",
                "octobre",
                "novembre",
                "decembre",
            ]
        )
    },
    **{
        m: i + 1
        for i, m in enumerate(
            [
                "january",
                "february",
                "march",
                "april",
                "may",
                "june",
                "july",
                "august",
                "september",
                "october",
                "november",
                "december",
            ]
        )
    },
}
_DATE_WORDS = re.compile(r"\b(\d{1,2})(?:er)?\s+(" + "|".join(_MONTHS) + r")\s+(\d{4})\b")
_DATE_ISO = re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b")
_DATE_SLASH = re.compile(r"\b(\d{1,2})/(\d{1,2})/(\d{4})\b")
_ID = re.compile(r"\b[a-z]{2,5}-?\d{5,}\b|\b(?=(?:[a-z]*\d){6})[a-z0-9]{8,}\b")
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_NUMBER = re.compile(
    r"(?<![\w.])\d{1,3}(?:[ \u202f.]\d{3})+(?:,\d+)?(?![\d])|(?<![\w.])\d+(?:[.,]\d+)?(?![\d])"
)


def normalise(text: str) -> str:
    """Case, accents, spaces and number formats folded, for fact matching."""
    t = fold(text).replace("\u202f", " ").replace("\u00a0", " ")
    t = re.sub(r"(?<=\d)[ .](?=\d{3}\b)", "", t)  # 1 290 / 1.290 -> 1290
    t = re.sub(r"(?<=\d),(?=\d)", ".", t)  # 4,90 -> 4.90
    t = re.sub(r"(\d+)\.00\b", r"\1", t)  # 480.00 -> 480
    t = re.sub(r"\s+", " ", t)
    return t.strip()


def atomic_facts(text: str) -> frozenset[str]:
    """Dates (ISO), identifiers, e-mails and numbers stated in ``text``, normalised.
    Memoised: every sentence of a draft is checked against the same passages."""
    if len(text) > 20000:
        return _atomic_facts(text)
    return _atomic_facts_cached(text)


@lru_cache(maxsize=8192)
def _atomic_facts_cached(text: str) -> frozenset[str]:
    return _atomic_facts(text)


def _atomic_facts(text: str) -> frozenset[str]:
    t = normalise(text)
    facts: set[str] = set()
    for d, m, y in _DATE_WORDS.findall(t):
        facts.add(f"{int(y):04d}-{_MONTHS[m]:02d}-{int(d):02d}")
    for y, m, d in _DATE_ISO.findall(t):
        facts.add(f"{y}-{m}-{d}")
    for d, m, y in _DATE_SLASH.findall(t):
        facts.add(f"{int(y):04d}-{int(m):02d}-{int(d):02d}")
    stripped = _DATE_ISO.sub(" ", _DATE_SLASH.sub(" ", _DATE_WORDS.sub(" ", t)))
    facts.update(m.replace("-", "") for m in _ID.findall(stripped))
    facts.update(_EMAIL.findall(stripped))
    stripped = _EMAIL.sub(" ", _ID.sub(" ", stripped))
    for n in _NUMBER.findall(stripped):
        value = n.replace(" ", "")
        value = re.sub(r"\.0+$", "", value)
        facts.add(value)
    return frozenset(facts)


# What is not a claim, in any drafter's words (the judge's own list: it never reads a drafter's
# phrase bank, so a drafter cannot make its own sentences exempt). On normalised text (lower
# case, no accents). A sentence that also states a figure or an identifier stays a claim.
NOT_CLAIMS = [
    # greetings, thanks, welcome
    r"^(bonjour|bonsoir|hello|hi|hey|salut|dear|good (morning|afternoon|evening))\b.{0,60}$",
    r"^(merci|thank you|thanks|many thanks|you.re welcome|avec plaisir|de rien|je vous en prie)\b.{0,80}$",
    # sign-offs and offers of more help
    r".{0,40}\b(n.hesitez pas|n.hesite pas|let me know|feel free|je reste a votre disposition|"
    r"je reste dispo|i remain (available|at your disposal)|happy to help|belle journee|"
    r"bonne journee|bonne soiree|"
    r"have a (nice|good|great|lovely) (day|evening|weekend)|best regards|cordialement|"
    r"kind regards|a bientot)\b.{0,80}$",
    # empathy and apologies
    r"^(je comprends (votre|ta|ton|vos|tes|que|la situation)|"
    r"i understand (your|that|how|this situation|the situation)|"
    r"((i.m |i am |we.re |we are )?(so |very |truly )?sorry|(je suis )?(desole|navre)e?s?) "
    r"(for|about|that|you|to hear|pour|que|de|d.)|we apologi[sz]e|i apologi[sz]e|"
    r"nous nous excusons|toutes nos excuses|je vous prie de nous excuser)\b.{0,160}$",
    # hand-offs and promises to come back: what happens next in this conversation
    r".{0,80}\b(je (vous |te |la |le |les |lui )*(transmets|transfere|mets en relation)|"
    r"(i am|i.m|we are|we.re) (passing|transferring|forwarding|escalating|checking|looking "
    r"into|reporting|referring)|(demande|dossier|signalement|request|case|report)\b.{0,60}"
    r"\b(est|a ete|has been|is being) (transmise?|transferee?|passed|forwarded|transferred|"
    r"escalated)|"
    r"(prend|prendra|reprend) (le relais|(votre|ta|sa) demande|(votre|ton) dossier)|"
    r"(takes?|taking|will take) over|(reviens|reviendra|reviendrons|revenons|revient) vers "
    r"(vous|toi)|get back to you|(will|shall) contact you|vous contactera|je verifie|"
    r"un (conseiller|responsable|collegue) va)\b.{0,160}$",
    # the assistant's own refusal of an out-of-scope request
    r"^(je ne peux pas donner suite|i am not able to act on|i cannot act on|i can.t help with)\b.{0,120}$",
]
_NOT_CLAIMS = [re.compile(p) for p in NOT_CLAIMS]


def is_claim(sentence: str) -> bool:
    """A sentence that says something about the store, an order or a policy: not a greeting,
    a sign-off, an apology, a hand-off formula or a question back to the customer. One that
    states a figure or an identifier is always a claim."""
    norm = normalise(sentence).strip()
    if not (content_terms(sentence, "fr") or content_terms(sentence, "en")):
        return False
    if atomic_facts(sentence):
        return True
    if norm.endswith("?"):
        return False  # a question back to the customer asserts nothing
    return not any(p.match(norm) for p in _NOT_CLAIMS)


def order_text(order: Order, return_window_days: int | PolicySettings | None = None) -> str:
    """Everything the order record says, in forms a draft may use (for fact matching); with the
    policy's return window (one number, or the policy's settings: a window per item category),
    the return deadlines recomputed from the delivery date, so that the drafter's date
    arithmetic is checked rather than taken on trust."""
    parts = [
        order.order_number,
        order.status.replace("_", " "),
        order.carrier or "",
        order.tracking_number or "",
        order.currency,
    ]
    if order.total is not None:
        parts += [
            f"{order.total:.2f}",
            fmt_amount(order.total, order.currency, "fr"),
            fmt_amount(order.total, order.currency, "en"),
        ]
    for d in (
        order.created_at.date(),
        order.estimated_delivery,
        order.delivered_at.date() if order.delivered_at else None,
    ):
        if d:
            parts += [d.isoformat(), fmt_date(d, "fr"), fmt_date(d, "en")]
    parts += [f"{i.name} {i.quantity} {i.unit_price or ''}" for i in order.items]
    if isinstance(return_window_days, PolicySettings):
        windows = sorted(return_windows(order, return_window_days))
    else:
        windows = [] if return_window_days is None else [return_window_days]
    for days in windows:
        if not order.delivered_at or not days:
            continue
        deadline = order.delivered_at.date() + timedelta(days=days)
        parts += [
            deadline.isoformat(),
            fmt_date(deadline, "fr"),
            fmt_date(deadline, "en"),
            f"{days} jours",
            f"{days} days",
        ]
    return " ; ".join(parts)


def identifiers(order: Order) -> set[str]:
    ids = {normalise(order.order_number).replace("-", "")}
    if order.tracking_number:
        ids.add(normalise(order.tracking_number))
    if order.email:
        ids.add(order.email.lower())
    return ids


def facts_found(values: Iterable[str], text: str) -> int:
    """How many of the required order ``values`` ``text`` states (a draft, or the ORDER FACTS
    an LLM would be given)."""
    norm, facts = normalise(text), atomic_facts(text)
    return sum(1 for value in values if fact_in(value, norm) or bool(atomic_facts(value) & facts))


def fact_in(fact: str, norm_draft: str) -> bool:
    nf = normalise(fact)
    if nf and nf in norm_draft:
        return True
    facts = atomic_facts(fact)
    return bool(facts) and facts <= atomic_facts(norm_draft)
