"""Mask personal data before text leaves the machine; unmask it in what comes back.

E-mail addresses, phone numbers, IBANs, card numbers and street addresses become placeholders
such as ``[EMAIL_1]``; the mapping stays in memory, so the agent sees the real values.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    ("EMAIL", re.compile(r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b")),
    ("IBAN", re.compile(r"\b[A-Z]{2}\d{2}(?:[ ]?[A-Z0-9]{4}){3,7}(?:[ ]?[A-Z0-9]{1,3})?\b")),
    ("CARD", re.compile(r"\b(?:\d[ -]?){12,18}\d\b")),
    (
        "PHONE",
        re.compile(
            r"(?<![\w+])(?:\+\d{1,3}[ .-]?)?(?:\(?0?\d\)?[ .-]?)(?:\d{2}[ .-]?){4}\b|\+\d{1,3}(?:[ .-]?\d{2,4}){3,5}\b"
        ),
    ),
    (
        "ADDRESS",
        re.compile(
            r"\b\d{1,4}(?:\s?(?:bis|ter))?,?\s+(?:rue|avenue|av\.|boulevard|bd|place|chemin|impasse|allée|allee|quai|route|cours|street|st\.|road|rd\.|lane|avenue|drive)\s+[^\n,.;]{2,60}",
            re.IGNORECASE,
        ),
    ),
]


def _luhn(number: str) -> bool:
    digits = [int(c) for c in number if c.isdigit()]
    checksum = 0
    for i, digit in enumerate(reversed(digits)):
        doubled = digit * 2 if i % 2 else digit
        checksum += doubled - 9 if doubled > 9 else doubled
    return len(digits) >= 13 and checksum % 10 == 0


@dataclass
class Masker:
    """Reversible masking, consistent within one conversation (same value, same placeholder)."""

    mapping: dict[str, str] = field(default_factory=dict)  # placeholder -> value
    _reverse: dict[str, str] = field(default_factory=dict)

    def mask(self, text: str) -> str:
        for kind, pattern in _PATTERNS:

            def replace(m: re.Match[str], kind: str = kind) -> str:
                return self._placeholder(kind, m.group(0))

            text = pattern.sub(replace, text)
        return text

    def _placeholder(self, kind: str, value: str) -> str:
        if kind == "CARD" and not _luhn(value):
            return value
        if value in self._reverse:
            return self._reverse[value]
        n = sum(1 for p in self.mapping if p.startswith(f"[{kind}_")) + 1
        placeholder = f"[{kind}_{n}]"
        self.mapping[placeholder] = value
        self._reverse[value] = placeholder
        return placeholder

    def unmask(self, text: str) -> str:
        for placeholder, value in self.mapping.items():
            text = text.replace(placeholder, value)
        return text
