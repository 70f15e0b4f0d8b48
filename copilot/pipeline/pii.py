"""Mask personal data before text leaves the machine; unmask it in what comes back.

E-mail addresses, phone numbers (any format of the FR/BE/CH/CA/GB/US numbering plans, found
by ``phonenumbers``), IBANs in any case, card numbers, French social-security numbers, street
addresses and the names of the people in the conversation become placeholders such as
``[EMAIL_1]``; the mapping stays in memory, so the agent sees the real values.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

import phonenumbers

# what masked text holds in place of a value: [EMAIL_1], or unnumbered ([EMAIL], [AMOUNT])
PLACEHOLDER = re.compile(r"\[[A-Z_]+?(?:_\d+)?\]")
_NUMBERED = re.compile(r"\[([A-Z_]+?)_\d+\]")

_PHONE_REGIONS = ("FR", "BE", "CH", "CA", "GB", "US")
MIN_PHONE_DIGITS = 7
_DIGIT = re.compile(r"\d")

_PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    ("EMAIL", re.compile(r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b")),
    (
        "IBAN",
        re.compile(
            r"\b[A-Z]{2}\d{2}(?:[ ]?[A-Z0-9]{4}){3,7}(?:[ ]?[A-Z0-9]{1,3})?\b", re.IGNORECASE
        ),
    ),
    # French NIR: sex, year, month (or 20-99 for special cases), department (2A/2B), commune,
    # order, key; spaces optional
    (
        "NATIONAL_ID",
        re.compile(
            r"\b[12][ .]?\d{2}[ .]?(?:0[1-9]|1[0-2]|[2-9]\d)[ .]?(?:\d{2}|2[AB])[ .]?\d{3}[ .]?\d{3}"
            r"(?:[ .]?\d{2})?\b",
            re.IGNORECASE,
        ),
    ),
    ("CARD", re.compile(r"\b(?:\d[ -]?){12,18}\d\b")),
    ("PHONE", re.compile(r"(?<![\w(])\(\d{3}\)\s?\d{3}[ .-]\d{4}\b")),  # (555) 123-4567
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
    (  # English order: number (221B), then the name, then the kind of street
        "ADDRESS",
        re.compile(
            r"\b\d{1,5}[A-Za-z]?,?\s+(?:[A-Z][\w'-]+\s+){1,4}(?:Street|St|Road|Rd|Avenue|Ave|Lane|Ln|"
            r"Drive|Dr|Boulevard|Blvd|Way|Place|Pl|Court|Ct|Close|Crescent|Terrace|Square)\b\.?"
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


def _iban_valid(value: str) -> bool:
    """ISO 13616 check (mod 97): a lowercase IBAN is still one, a random code is not."""
    code = re.sub(r"\s", "", value).upper()
    rearranged = code[4:] + code[:4]
    digits = "".join(str(int(c, 36)) for c in rearranged if c.isalnum())
    return len(code) >= 15 and int(digits) % 97 == 1


@dataclass
class Masker:
    """Reversible masking, consistent within one conversation (same value, same placeholder)."""

    mapping: dict[str, str] = field(default_factory=dict)  # placeholder -> value
    _reverse: dict[str, str] = field(default_factory=dict)

    names: list[str] = field(default_factory=list)  # longest first

    @classmethod
    def for_names(cls, names: Iterable[str]) -> Masker:
        """A masker that masks these people's names too (see :meth:`add_names`)."""
        masker = cls()
        masker.add_names(names)
        return masker

    def add_names(self, names: Iterable[str]) -> None:
        """People whose names must not leave the machine (the customer, from the conversation
        or the order feed): the full name and each part of three letters or more."""
        known = set(self.names)
        for name in names:
            parts = [name.strip(), *re.split(r"[\s,]+", name.strip())]
            known |= {p for p in parts if len(p) >= 3 and not p.isdigit()}
        self.names = sorted(known, key=len, reverse=True)

    def mask(self, text: str) -> str:
        phones_done = False
        for kind, pattern in _PATTERNS:
            if kind == "PHONE" and not phones_done:  # after e-mails, IBANs, ids and cards
                text, phones_done = self._mask_phones(text), True

            def replace(m: re.Match[str], kind: str = kind) -> str:
                return self._placeholder(kind, m.group(0))

            text = pattern.sub(replace, text)
        for name in self.names:
            pattern = re.compile(rf"(?<![\w\[]){re.escape(name)}(?![\w\]])", re.IGNORECASE)
            text = pattern.sub(lambda m: self._placeholder("NAME", m.group(0)), text)
        return text

    def _mask_phones(self, text: str) -> str:
        if len(_DIGIT.findall(text)) < MIN_PHONE_DIGITS:
            return text  # no phone number is shorter: skip the six numbering-plan scans
        spans: list[tuple[int, int]] = []
        for region in _PHONE_REGIONS:
            for match in phonenumbers.PhoneNumberMatcher(
                text, region, leniency=phonenumbers.Leniency.VALID
            ):
                if not any(a < match.end and match.start < b for a, b in spans):
                    spans.append((match.start, match.end))
        for start, end in sorted(spans, reverse=True):
            text = text[:start] + self._placeholder("PHONE", text[start:end]) + text[end:]
        return text

    def _placeholder(self, kind: str, value: str) -> str:
        if kind == "CARD" and not _luhn(value):
            return value
        if kind == "IBAN" and not _iban_valid(value):
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


def unnumbered(text: str) -> str:
    """Masked text with its placeholders unnumbered: [NAME_2] and [NAME_1] both read [NAME]."""
    return _NUMBERED.sub(r"[\1]", text)
