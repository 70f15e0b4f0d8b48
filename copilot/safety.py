"""Checks on a draft before the agent sees it (defence in depth behind the prompt rules)."""

from __future__ import annotations

import re
from collections.abc import Iterable

from knowledge import OrderBook
from knowledge.text import words

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
