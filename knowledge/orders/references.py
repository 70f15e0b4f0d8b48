"""Order and tracking numbers as customers quote them in a message ("la 0417", "#LUM 104 233",
"commande n° 417"), read against the shapes of the store's own numbers."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from knowledge import money
from knowledge.orders.model import Order, digits_of, order_key

# An order number as customers type it: optional letters, then digits with separators.
_YEAR = re.compile(r"(?:19|20)\d\d")
# Letters, then digit groups separated by one space, hyphen, dot or slash ("OND/2026/000417",
# "ond 2026 417", "#0417", "TL.0004.1723").
_QUOTED = re.compile(
    r"(?<![\w])#?\s*(([A-Za-z]{1,6})?[\s\-_/#:.]{0,3}(\d+(?:[\s\-./]\d+){0,5}))(?![\w])"
)
# A date or an amount, not a reference: "12/11", "12.11.2026", "89.90"
_DATE_OR_AMOUNT = re.compile(r"\d{1,2}[./]\d{1,2}(?:[./]\d{2,4})?|\d+[.,]\d{2}")
# a number followed by a currency or a percent is an amount, not an order number
_AMOUNT_AFTER = re.compile(rf"\s?(?:[{money.SIGNS}%]|(?:{money.WORDS}|francs?)\b)", re.I)
# "order 615", "#423", "commande n° 417": a number said to be a reference
_CUE_BEFORE = re.compile(
    r"(?:#|\b(?:order|commande|cde|cmd|ref|booking|reservation|n°|no|num|number|numero)\.?)"
    r"\s*(?:[A-Za-z]{1,6}[\s\-_/#:.]{0,3})?$",
    re.IGNORECASE,
)
MIN_CUED_DIGITS = 3
# The last digits of an order, typed alone ("la 0417"): at least this many.
MIN_SUFFIX_DIGITS = 4
_NOT_A_PREFIX = {
    "order",
    "cmd",
    "ref",
    "no",
    "num",
    "nr",
    "nro",
    "is",
    "de",
    "la",
    "ma",
    "my",
    "the",
}
# A tracking number: one token of letters and digits with at least 6 digits.
_TRACKING = re.compile(r"\b(?=(?:[A-Za-z]*\d){6})[A-Za-z0-9]{8,30}\b")


@dataclass(frozen=True)
class ReferenceShape:
    """The shape of a store's order numbers, learned from its feed: the letters before the
    first digit and the length of each digit group ("OND/2026/000417" -> OND, (4, 6))."""

    prefix: str
    groups: tuple[int, ...]

    @classmethod
    def of(cls, number: str) -> ReferenceShape:
        m = re.match(r"[^0-9]*", number)
        prefix = re.sub(r"[^A-Z]", "", (m.group(0) if m else "").upper())
        return cls(prefix, tuple(len(g) for g in re.findall(r"\d+", number)))

    def canonical(self, typed_prefix: str, groups: list[str]) -> set[str]:
        """Keys (as :func:`order_key`) of the numbers of this shape that ``groups`` can be, as a
        customer types them: separators changed or left out, leading zeros dropped."""
        if typed_prefix and typed_prefix != self.prefix:
            return set()
        want, out = self.groups, set[str]()
        if not want:
            return out
        if len(groups) == len(want) and all(len(g) <= n for g, n in zip(groups, want, strict=True)):
            out.add(self.prefix + "".join(g.zfill(n) for g, n in zip(groups, want, strict=True)))
        digits = "".join(groups)
        total = sum(want)
        if len(groups) == 1 and len(digits) <= total:
            out.add(self.prefix + digits.zfill(total))  # leading zeros of the number dropped
            head = sum(want[:-1])
            if head < len(digits) and len(digits) - head <= want[-1]:
                # the fixed groups typed in full, the last one without its leading zeros
                out.add(self.prefix + digits[:head] + digits[head:].zfill(want[-1]))
        return out


@dataclass(frozen=True)
class Reference:
    """Something in a message that may be an order or tracking number."""

    raw: str  # as typed, for the reply ("la 0417" -> "0417")
    keys: frozenset[str]  # what it can be in full (order keys, digit strings)
    digits: str
    loose: bool  # written like a date or an amount: reported only when it matches an order


def references(text: str, shapes: Sequence[ReferenceShape]) -> list[Reference]:
    """Things in ``text`` that look like order or tracking numbers, with the full numbers of
    the store's shapes that each can be."""
    prefixes = {sh.prefix for sh in shapes if sh.prefix}
    out: dict[str, Reference] = {}
    for m in _QUOTED.finditer(text):
        prefix, number = m.group(2) or "", m.group(3)
        store_prefix = prefix.upper() in prefixes or (len(prefix) >= 2 and prefix.isupper())
        if prefix and (prefix.lower() in _NOT_A_PREFIX or not store_prefix):
            prefix = ""  # a word before the number ("la 0417", "it's 1723"), not its prefix
        raw = (f"{m.group(1).strip()}" if prefix else number).strip()
        digits = digits_of(number)
        if (
            _YEAR.fullmatch(digits)
            and not m.group(0).lstrip().startswith("#")
            and not prefix
            and not any(sh.groups == (4,) for sh in shapes)
        ):
            continue  # "en 2019", "femmes 2018": a year, not an order ("#2019", "LUM-2019" are)
        cued = m.group(0).lstrip().startswith("#") or bool(_CUE_BEFORE.search(text, 0, m.start(3)))
        if len(digits) < (MIN_CUED_DIGITS if cued else MIN_SUFFIX_DIGITS):
            continue
        if _AMOUNT_AFTER.match(text, m.end()):
            continue
        groups = re.findall(r"\d+", number)
        keys = {order_key(raw), digits, digits.lstrip("0")}
        for sh in shapes:
            keys |= sh.canonical(prefix.upper(), groups)
        loose = bool(_DATE_OR_AMOUNT.fullmatch(number.strip())) or bool(re.search(r"[./]", number))
        out.setdefault(raw, Reference(raw, frozenset(keys - {""}), digits, loose))
    for m in _TRACKING.finditer(text):
        raw = m.group(0)
        if not any(raw in seen or seen in raw for seen in out):
            out[raw] = Reference(
                raw, frozenset({order_key(raw), digits_of(raw)} - {""}), digits_of(raw), False
            )
    return list(out.values())


def ends_with(number: str, digits: str) -> bool:
    """``digits`` are the end of ``number``: its last digits ("0417" of OND/2026/000417), or its
    last group without its leading zeros ("417")."""
    groups = re.findall(r"\d+", number)
    if not groups or not digits:
        return False
    return "".join(groups).endswith(digits) or (
        len(groups) > 1 and groups[-1].lstrip("0") == digits.lstrip("0")
    )


def keys_of(order: Order) -> set[str]:
    """What a reference to ``order`` can read as: its number's key and digits, its tracking
    number's key."""
    digits = digits_of(order.order_number)
    keys = {order_key(order.order_number), digits, digits.lstrip("0")}
    if order.tracking_number:
        keys.add(order_key(order.tracking_number))
    return keys - {""}
