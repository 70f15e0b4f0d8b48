"""Dates and amounts as a customer reads and writes them: "1er décembre 2026", "€4.90", and
the deadline a message asks about ("before the 27th", "avant vendredi")."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta

from copilot.types import Lang
from knowledge.text import fold

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
# the month names a folded message may use, to their number
MONTHS = {
    **{fold(m): i + 1 for i, m in enumerate(_MONTHS_FR)},
    **{m.lower(): i + 1 for i, m in enumerate(_MONTHS_EN) if m != "May"},  # "may I..."
    **{m.lower()[:3]: i + 1 for i, m in enumerate(_MONTHS_EN) if m != "May"},
    "fevr": 2,
    "sept": 9,
}
# weekday names of a folded message, to date.weekday() (Monday 0)
WEEKDAYS = {
    **{
        d: i
        for i, d in enumerate(
            ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")
        )
    },
    **{
        d: i
        for i, d in enumerate(
            ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
        )
    },
}
_CURRENCY = {"EUR": "€", "CHF": "CHF", "GBP": "£", "USD": "$"}


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


_BEFORE = re.compile(
    r"\b(?P<op>before|by|avant|d.ici|pour)\s+(?:the\s+|le\s+|la\s+|samedi\s+|dimanche\s+|lundi\s+|mardi\s+"
    r"|mercredi\s+|jeudi\s+|vendredi\s+|monday\s+|tuesday\s+|wednesday\s+|thursday\s+|friday\s+"
    r"|saturday\s+|sunday\s+)*(?P<the>the\s+)?(?P<day>[0-3]?\d)(?P<ord>st|nd|rd|th|er)?\b"
    r"(?!\s*(?:days?|jours?|weeks?|semaines?|h\b|hours?|heures?|min|items?|articles?|%|€|\$|£))"
    r"(?:\s+(?:of\s+)?(?P<month>[a-z]+))?"
)
_WEEKDAYS = {
    **{
        d: i
        for i, d in enumerate(
            ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
        )
    },
    **{
        d: i
        for i, d in enumerate(
            ["lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche"]
        )
    },
}
_BEFORE_WEEKDAY = re.compile(
    r"\b(?P<op>before|by|avant|d.ici|pour)\s+(?:next\s+|this\s+)?(?P<wd>"
    + "|".join(_WEEKDAYS)
    + r")\b"
)


def asked_deadline(text: str, today: date) -> tuple[date, bool] | None:
    """The date a customer needs the parcel by ("before the 27th", "avant vendredi", "by
    Friday 4th", "d'ici le 2 décembre"), and whether that day itself is in time ("by", "d'ici",
    "pour") or not ("before", "avant")."""
    folded = fold(text)
    m = _BEFORE.search(folded)
    if (
        m is not None
        and m.group("op") in ("by", "pour")
        and not (m.group("ord") or m.group("the") or " le " in m.group(0))
        and m.group("month") not in MONTHS
    ):
        m = None  # "by 3 pm", "pour 2 personnes": not a date
    if m and 1 <= int(m.group("day")) <= 31:
        day = int(m.group("day"))
        month = MONTHS.get(m.group("month") or "", 0)
        year = today.year
        if not month:
            month = today.month if day >= today.day else today.month % 12 + 1
        if month < today.month:
            year += 1
        try:
            target = date(year, month, day)
        except ValueError:
            return None
        return target, m.group("op") not in ("before", "avant")
    m = _BEFORE_WEEKDAY.search(folded)
    if m:
        ahead = (_WEEKDAYS[m.group("wd")] - today.weekday()) % 7 or 7
        return today + timedelta(days=ahead), m.group("op") not in ("before", "avant")
    return None
