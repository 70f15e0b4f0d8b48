"""Validating the records of an order feed: the values for the orders table, or the problems
that name the row, the field and what is wrong."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable
from typing import Any

from knowledge.orders.model import (
    OPTIONAL_FIELDS,
    REQUIRED,
    STATUSES,
    ImportReport,
    RowProblem,
    digits_of,
    order_key,
    parse_date,
    parse_datetime,
)

_STATUS_ALIASES = {
    "in transit": "in_transit",
    "out for delivery": "out_for_delivery",
    "canceled": "cancelled",
}
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
# An amount above this in one order or item is a feed error, not a purchase.
MAX_AMOUNT = 10_000_000


def _parse_number(value: Any) -> float:
    """An amount: finite, at most :data:`MAX_AMOUNT` in size; ValueError otherwise."""
    if isinstance(value, bool):
        raise ValueError("a boolean is not an amount")
    if isinstance(value, int | float):
        try:
            number = float(value)
        except OverflowError as exc:  # an integer beyond any float
            raise ValueError(f"{value!r} is not a plausible amount") from exc
    else:
        text = str(value).strip().replace("\u00a0", "").replace(" ", "")
        if "," in text and "." not in text:
            text = text.replace(",", ".")
        number = float(text)
    if not math.isfinite(number) or abs(number) > MAX_AMOUNT:
        raise ValueError(f"{value!r} is not a plausible amount (finite, under {MAX_AMOUNT:,})")
    return number


class _Record:
    """One feed record being validated: its fields read as text, and what is wrong with it."""

    def __init__(self, rec: dict[str, Any], row: int) -> None:
        self.rec = rec
        self.row = row
        self.problems: list[RowProblem] = []

    def bad(self, fieldname: str, problem: str) -> None:
        self.problems.append(RowProblem(self.row, fieldname, problem))

    def text(self, name: str) -> str:
        v = self.rec.get(name)
        if isinstance(v, bool | dict | list):
            if not any(p.field == name for p in self.problems):
                self.bad(name, f"must be text or a number, not {type(v).__name__}")
            return ""
        return "" if v is None else str(v).strip()


def validate_record(
    rec: dict[str, Any], row: int
) -> tuple[dict[str, Any] | None, list[RowProblem]]:
    """Normalise one feed record; return (values for the table, problems)."""
    r = _Record(rec, row)
    out = _who(r)
    _when_and_status(r, out)
    _contents(r, out)
    _optional_fields(r, out)
    if r.problems:
        return None, r.problems
    out["order_key"] = order_key(out["order_number"])
    out["order_digits"] = digits_of(out["order_number"]) or out["order_key"]
    return out, []


def _who(r: _Record) -> dict[str, Any]:
    """The required fields checked; the order number, the customer and their e-mail."""
    for name in REQUIRED:
        if not r.text(name):
            r.bad(name, "is required")
    out: dict[str, Any] = {
        "order_number": r.text("order_number"),
        "customer_id": r.text("customer_id"),
    }
    if out["order_number"] and not order_key(out["order_number"]):
        r.bad("order_number", f"'{out['order_number']}' has no letters or digits")
    out["customer_name"] = r.text("customer_name") or r.text("name")
    email = r.text("email")
    if email and not _EMAIL.match(email):
        r.bad("email", f"'{email}' is not an e-mail address")
    out["email"] = email
    return out


def _when_and_status(r: _Record, out: dict[str, Any]) -> None:
    if r.text("created_at"):
        try:
            out["created_at"] = parse_datetime(r.rec["created_at"]).isoformat()
        except ValueError:
            r.bad(
                "created_at",
                f"'{r.text('created_at')}' is not an ISO date (YYYY-MM-DD or YYYY-MM-DDTHH:MM:SS)",
            )
    status = r.text("status").lower()
    status = _STATUS_ALIASES.get(status, status.replace(" ", "_").replace("-", "_"))
    if status and status not in STATUSES:
        r.bad("status", f"'{r.text('status')}' is not one of: {', '.join(STATUSES)}")
    out["status"] = status


def _contents(r: _Record, out: dict[str, Any]) -> None:
    """The order lines, the total and its currency."""
    items, item_problems = _items(r.rec.get("items"))
    for problem in item_problems:
        r.bad("items", problem)
    out["items"] = json.dumps(items, ensure_ascii=False)
    out["total"] = None
    if r.text("total"):
        try:
            out["total"] = _parse_number(r.rec["total"])
            if out["total"] < 0:
                r.bad("total", "is negative")
        except ValueError:
            r.bad("total", f"'{r.text('total')}' is not an amount")
    currency = (r.text("currency") or "EUR").upper()
    if not re.fullmatch(r"[A-Z]{3}", currency):
        r.bad("currency", f"'{r.text('currency')}' is not a 3-letter ISO code such as EUR")
    out["currency"] = currency


def _optional_fields(r: _Record, out: dict[str, Any]) -> None:
    for name, kind in OPTIONAL_FIELDS:
        if not r.text(name):
            out[name] = None
        elif kind == "text":
            out[name] = r.text(name)
        else:
            try:
                out[name] = (parse_date if kind == "date" else parse_datetime)(
                    r.rec[name]
                ).isoformat()
            except ValueError:
                r.bad(name, f"'{r.text(name)}' is not an ISO date")


def _items(items_raw: Any) -> tuple[list[dict[str, Any]], list[str]]:
    """The order lines of a feed record (a list, or its JSON text), and what is wrong with
    them; a bad line is left out."""
    problems: list[str] = []
    items: list[dict[str, Any]] = []
    if isinstance(items_raw, str) and items_raw.strip():
        try:
            items_raw = json.loads(items_raw)
        except json.JSONDecodeError:
            problems.append(
                'must be a JSON list like [{"sku": "A1", "name": "Lamp", "quantity": 1, "unit_price": 10.0}]',
            )
            items_raw = []
    if items_raw in (None, ""):
        items_raw = []
    if not isinstance(items_raw, list):
        problems.append("must be a list of items")
        items_raw = []
    for n, it in enumerate(items_raw, start=1):
        if not isinstance(it, dict) or not (it.get("name") or it.get("sku")):
            problems.append(f"item {n} needs at least a name or a sku")
            continue
        try:
            qty = int(it.get("quantity", 1))
            if qty <= 0:
                raise ValueError
        except (TypeError, ValueError):
            problems.append(
                f"item {n} quantity '{it.get('quantity')}' is not a positive whole number"
            )
            continue
        price = None
        if it.get("unit_price") not in (None, ""):
            try:
                price = _parse_number(it["unit_price"])
                if price < 0:
                    raise ValueError
            except (TypeError, ValueError):
                problems.append(
                    f"item {n} unit_price '{it.get('unit_price')}' is not a positive amount",
                )
                continue
        items.append(
            {
                "sku": str(it.get("sku") or ""),
                "name": str(it.get("name") or it.get("sku")),
                "quantity": qty,
                "unit_price": price,
                "category": str(it.get("category") or "").strip()[:80],
            }
        )
    return items, problems


def validate_rows(
    rows: Iterable[tuple[int, dict[str, Any]]], report: ImportReport
) -> dict[str, dict[str, Any]]:
    """The valid records of a feed by order key (the first of a number given twice); every
    problem goes to ``report``."""
    valid: dict[str, dict[str, Any]] = {}
    first_row: dict[str, int] = {}
    for row, rec in rows:
        if "__invalid__" in rec:
            report.problems.append(RowProblem(row, "line", str(rec["__invalid__"])))
            continue
        values, problems = validate_record(rec, row)
        if values is None:
            report.problems.extend(problems)
            continue
        key = values["order_key"]
        if key in valid:
            report.problems.append(
                RowProblem(
                    row,
                    "order_number",
                    f"'{values['order_number']}' already appears on row {first_row[key]}; this row was skipped",
                )
            )
            continue
        valid[key] = values
        first_row[key] = row
    return valid
