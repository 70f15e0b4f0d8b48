"""Checks on a draft before the agent sees it (defence in depth behind the prompt rules)."""

from __future__ import annotations

import re
from collections.abc import Iterable

from knowledge import OrderBook
from knowledge.money import money
from knowledge.text import fold, sentences, words

_NUMBER = re.compile(r"\d+(?:[.,]\d+)?")


def shingles(text: str, n: int = 8) -> set[tuple[str, ...]]:
    ws = words(text)
    return {tuple(ws[i : i + n]) for i in range(len(ws) - n + 1)}


def leaks_prompt(draft: str, prompt: str, n: int = 8) -> bool:
    """True when the draft repeats ``n`` consecutive words of the system prompt."""
    return bool(shingles(draft, n) & shingles(prompt, n))


def foreign_references(draft: str, customer_id: str | None, orders: OrderBook) -> tuple[str, ...]:
    """Order or tracking numbers in the draft that belong to someone else."""
    return orders.quoted(customer_id, draft).foreign


def unsupported_numbers(draft: str, sources: Iterable[str]) -> list[str]:
    """Numbers in the draft that appear in none of the sources (passages, order facts, messages)."""
    pool = " ".join(sources)
    known = {n.replace(",", ".") for n in _NUMBER.findall(pool)}
    out = []
    for n in _NUMBER.findall(draft):
        if n.replace(",", ".") not in known and len(n) > 1:
            out.append(n)
    return out


def foreign_identities(
    draft: str, customer_id: str | None, orders: OrderBook, *, said: str = ""
) -> tuple[str, ...]:
    """Names and e-mail addresses of other customers in the draft (except those the customer wrote)."""
    text, known = fold(draft), fold(said)
    found = []
    for c in orders.customers():
        if c.customer_id == customer_id:
            continue
        for value in (c.name, c.email):
            v = fold(value).strip()
            if v and v not in known and re.search(rf"(?<![\w@.-]){re.escape(v)}(?![\w@-])", text):
                found.append(value)
    return tuple(found)


_FULL_REFUND = re.compile(
    r"\b(full refund|refund(?:ed)? in full|fully refund\w*|complete refund|remboursement (?:integral|total|complet)"
    r"|rembours\w* (?:integralement|en totalite|entierement|totalement))\b"
)
_OFFER = re.compile(
    r"\b(rembours\w*|refund\w*|dedommag\w*|compensat\w*|indemni\w*|geste commercial|avoirs?|remises?|reductions?|rabais"
    r"|discount\w*|promo\w*|codes?|bons? d.achat|vouchers?|coupons?|off|offert\w*|free|gratuit\w*)\b"
)
_PERCENT = re.compile(r"(\d+(?:[.,]\d+)?)\s?%")
_CODE = re.compile(r"\b[A-Z]{3,}\d{2,}\b")


def unsupported_promises(draft: str, sources: Iterable[str]) -> list[str]:
    """Full refunds, percentages, amounts and codes the draft offers that no source states.

    ``sources`` are what the company says (passages, order facts), not the customer's words.
    """
    pool = fold(" ".join(sources))
    amounts = {m.value for m in money(pool)} | {
        float(n.replace(",", ".")) for n in _NUMBER.findall(pool)
    }
    percents = {float(n.replace(",", ".")) for n in _PERCENT.findall(pool)}
    out: list[str] = []
    for sentence in sentences(draft):
        folded = fold(sentence)
        full = _FULL_REFUND.search(folded)
        if full and not _FULL_REFUND.search(pool):
            out.append(full.group(0))
        if not _OFFER.search(folded):
            continue
        out += [
            m.group(0)
            for m in _PERCENT.finditer(folded)
            if float(m.group(1).replace(",", ".")) not in percents
        ]
        out += [m.text.strip() for m in money(folded) if m.value not in amounts]
        out += [code for code in _CODE.findall(sentence) if code.lower() not in pool]
    return out


_COMPENSATION = re.compile(
    r"\b(rembours\w*|refund\w*|dedommag\w*|compensat\w*|indemni\w*|geste commercial|avoirs?"
    r"|bons? d.achat|vouchers?|store credit|credit note)\b"
)


def promised_amounts(draft: str) -> list[float]:
    """Amounts the draft offers as a refund or compensation, whatever its sources say: a
    passage that states a 200 € goodwill gesture does not make it policy."""
    out: list[float] = []
    for sentence in sentences(draft):
        folded = fold(sentence)
        if _COMPENSATION.search(folded):
            out += [m.value for m in money(folded)]
    return out
