"""Amounts of money as people write them, in French and English: "4,50 €", "€1,250.00",
"1 250,50 EUR", "$75", "75 dollars", "CHF 12", "1.000.000 €". One reader for every part that
needs them (the refund a customer claims, what a draft promises, the amounts a knowledge
manager should not see in a gap, figures that disagree between two documents).

A ``$`` or "dollars" says a dollar currency without saying which: its currency is ``"$"``, and
the reader of a store's policy decides (a Canadian store's "$75" is CAD).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# folded (lower case, no accents) spellings -> currency
CURRENCIES: dict[str, str] = {
    "€": "EUR",
    "eur": "EUR",
    "euro": "EUR",
    "euros": "EUR",
    "$": "$",
    "dollar": "$",
    "dollars": "$",
    "usd": "USD",
    "cad": "CAD",
    "£": "GBP",
    "gbp": "GBP",
    "chf": "CHF",
}
SIGNS = "€$£"
# the currency words, longest first, for a regular expression ("euros|euro|eur|...")
WORDS = "|".join(
    sorted((re.escape(c) for c in CURRENCIES if c not in SIGNS), key=len, reverse=True)
)
# a figure: digits with thousands marks (space, narrow space, dot, comma) and decimals
NUMBER = r"\d{1,3}(?:[ \u202f.,]\d{3})+(?:[.,]\d{1,2})?|\d+(?:[.,]\d{1,2})?"
_MONEY = re.compile(
    rf"(?:(?P<pre>[€$£])|\b(?P<preword>{WORDS})\b)\s?(?P<n1>{NUMBER})"
    rf"|(?P<n2>{NUMBER})\s?(?:(?P<post>[€$£])|(?P<postword>{WORDS})\b)",
    re.I,
)


@dataclass(frozen=True)
class Money:
    value: float
    currency: str  # EUR, USD, CAD, GBP, CHF, or "$" (a dollar currency)
    text: str  # as written
    start: int
    end: int


def parse_amount(text: str) -> float:
    """A figure as written: "4,50", "1 250,50", "1,250.00", "1.000.000" (a mark written
    twice, or a comma before three digits, groups thousands; else the last mark is decimal)."""
    t = text.replace("\u202f", "").replace(" ", "")
    if "," in t and "." in t:
        mark = "," if t.rfind(",") > t.rfind(".") else "."
    elif t.count(",") == 1 and len(t.rpartition(",")[2]) != 3:
        mark = ","
    elif t.count(".") == 1:
        mark = "."
    else:
        mark = ""
    head, _, tail = t.rpartition(mark) if mark else (t, "", "")
    head = head.replace(",", "").replace(".", "")
    return float(f"{head}.{tail}" if tail else head)


def money(text: str) -> list[Money]:
    """The amounts of money ``text`` states, in order."""
    out = []
    for m in _MONEY.finditer(text):
        unit = (m["pre"] or m["preword"] or m["post"] or m["postword"]).lower()
        out.append(Money(parse_amount(m["n1"] or m["n2"]), CURRENCIES[unit], m.group(0), *m.span()))
    return out
