"""The order feed: import with a per-row validation report, and a customer-scoped lookup.

The lookup is the only way drafting reads orders, and it is scoped by construction: every
read takes the customer id, and an order number quoted in a message is returned only when it
belongs to that customer. Another customer's order is reported as "foreign" by the number as
quoted, never with its contents.
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from knowledge import money
from knowledge.db import create_tables, migrate, unbounded_strings_on_postgresql
from knowledge.errors import OrderFeedError

STATUSES = (
    "pending",
    "processing",
    "shipped",
    "in_transit",
    "out_for_delivery",
    "delivered",
    "delayed",
    "lost",
    "cancelled",
    "returned",
    "refunded",
)
# statuses after which nothing more is on its way to the customer
CLOSED_STATUSES = ("delivered", "cancelled", "returned", "refunded")
_STATUS_ALIASES = {
    "in transit": "in_transit",
    "out for delivery": "out_for_delivery",
    "canceled": "cancelled",
}
# The optional fields the feed gives as they are (text) or as an ISO date / date-time. A new
# one is a line here, a field of Order and a migration step (add_missing_columns below); its
# column, its validation and its reading back follow from this line.
OPTIONAL_FIELDS: tuple[tuple[str, Literal["text", "date", "datetime"]], ...] = (
    ("carrier", "text"),
    ("tracking_number", "text"),
    ("estimated_delivery", "date"),
    ("delivered_at", "datetime"),
    # the carrier's latest tracking event (for lost parcels)
    ("last_tracking_update", "date"),
)
FIELDS = (
    *("order_number", "customer_id", "customer_name", "email", "created_at", "status"),
    *("items", "total", "currency"),
    *(name for name, _ in OPTIONAL_FIELDS),
)
REQUIRED = ("order_number", "customer_id", "created_at", "status")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
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
SHAPES_TTL_S = 60.0
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

metadata = sa.MetaData()
orders_table = sa.Table(
    "orders",
    metadata,
    sa.Column("order_key", sa.String(64), primary_key=True),
    sa.Column("order_digits", sa.String(64), nullable=False, index=True),
    sa.Column("order_number", sa.String(64), nullable=False),
    sa.Column("customer_id", sa.String(128), nullable=False, index=True),
    sa.Column("customer_name", sa.Text, nullable=False, default=""),
    sa.Column("email", sa.Text, nullable=False, default=""),
    sa.Column("created_at", sa.String(40), nullable=False),
    sa.Column("status", sa.String(32), nullable=False),
    sa.Column("items", sa.Text, nullable=False, default="[]"),
    sa.Column("total", sa.Float, nullable=True),
    sa.Column("currency", sa.String(3), nullable=False, default="EUR"),
    sa.Column("updated_at", sa.String(40), nullable=False),
    *(sa.Column(name, sa.Text, nullable=True) for name, _ in OPTIONAL_FIELDS),
)
customers_table = sa.Table(
    "customers",
    metadata,
    sa.Column("customer_id", sa.String(128), primary_key=True),
    sa.Column("name", sa.Text, nullable=False, default=""),
    sa.Column("email", sa.Text, nullable=False, default=""),
    sa.Column("phone", sa.Text, nullable=False, default=""),
    sa.Column("lang", sa.String(8), nullable=True),
    sa.Column("city", sa.Text, nullable=False, default=""),
    sa.Column("country", sa.String(8), nullable=False, default=""),
    sa.Column("updated_at", sa.String(40), nullable=False),
)


def _add_last_tracking_update(conn: sa.Connection) -> None:
    """Orders imported before the feed had ``last_tracking_update`` (tables made by step 1)."""
    columns = {c["name"] for c in sa.inspect(conn).get_columns("orders")}
    if "last_tracking_update" not in columns:
        conn.execute(sa.text("ALTER TABLE orders ADD COLUMN last_tracking_update TEXT"))


def add_missing_columns(conn: sa.Connection) -> None:
    """The optional fields added to OPTIONAL_FIELDS since a database was made: each a column
    (append this step again to MIGRATIONS when adding one)."""
    columns = {c["name"] for c in sa.inspect(conn).get_columns("orders")}
    for name, _ in OPTIONAL_FIELDS:
        if name not in columns:
            conn.execute(sa.text(f"ALTER TABLE orders ADD COLUMN {name} TEXT"))


MIGRATIONS = [
    create_tables(orders_table, customers_table),
    unbounded_strings_on_postgresql(orders_table, customers_table),
    _add_last_tracking_update,
    add_missing_columns,
]


@dataclass(frozen=True)
class Item:
    sku: str
    name: str
    quantity: int
    unit_price: float | None
    category: str = ""  # the store's own category (return windows per category in the policy)


@dataclass(frozen=True)
class Order:
    order_number: str
    customer_id: str
    customer_name: str
    email: str
    created_at: datetime
    status: str
    items: tuple[Item, ...]
    total: float | None
    currency: str
    carrier: str | None
    tracking_number: str | None
    estimated_delivery: date | None
    delivered_at: datetime | None
    # the carrier's latest tracking event (the feed's optional last_tracking_update)
    last_tracking_update: date | None = None


@dataclass(frozen=True)
class Customer:
    customer_id: str
    name: str
    email: str = ""
    phone: str = ""
    lang: str | None = None
    city: str = ""
    country: str = ""


@dataclass(frozen=True)
class RowProblem:
    row: int
    field: str
    problem: str

    def __str__(self) -> str:
        return f"row {self.row}, {self.field}: {self.problem}"


@dataclass
class ImportReport:
    source: str
    inserted: int = 0
    updated: int = 0
    problems: list[RowProblem] = field(default_factory=list)

    @property
    def imported(self) -> int:
        return self.inserted + self.updated

    @property
    def invalid_rows(self) -> list[int]:
        return sorted({p.row for p in self.problems})


@dataclass(frozen=True)
class QuoteLookup:
    """Order numbers quoted in a message, split by whose they are."""

    own: tuple[Order, ...] = ()
    foreign: tuple[str, ...] = ()  # as quoted; belongs to someone else: contents never read
    unknown: tuple[str, ...] = ()  # looks like an order number, matches no order


def order_key(number: str) -> str:
    return re.sub(r"[^A-Z0-9]", "", number.upper())


def _digits(number: str) -> str:
    return re.sub(r"\D", "", number)


def _parse_datetime(value: Any) -> datetime:
    if isinstance(value, datetime):
        dt = value
    else:
        text = str(value).strip().replace("Z", "+00:00")
        dt = (
            datetime.fromisoformat(text)
            if "T" in text or " " in text
            else datetime.combine(date.fromisoformat(text), datetime.min.time())
        )
    return dt if dt.tzinfo else dt.replace(tzinfo=UTC)


def _parse_date(value: Any) -> date:
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    text = str(value).strip()
    return (
        _parse_datetime(text).date() if ("T" in text or " " in text) else date.fromisoformat(text)
    )


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


def validate_record(
    rec: dict[str, Any], row: int
) -> tuple[dict[str, Any] | None, list[RowProblem]]:
    """Normalise one feed record; return (values for the table, problems)."""
    problems: list[RowProblem] = []

    def bad(fieldname: str, problem: str) -> None:
        problems.append(RowProblem(row, fieldname, problem))

    def text(name: str) -> str:
        v = rec.get(name)
        if isinstance(v, bool | dict | list):
            if not any(p.field == name for p in problems):
                bad(name, f"must be text or a number, not {type(v).__name__}")
            return ""
        return "" if v is None else str(v).strip()

    for name in REQUIRED:
        if not text(name):
            bad(name, "is required")
    out: dict[str, Any] = {"order_number": text("order_number"), "customer_id": text("customer_id")}
    if out["order_number"] and not order_key(out["order_number"]):
        bad("order_number", f"'{out['order_number']}' has no letters or digits")
    out["customer_name"] = text("customer_name") or text("name")
    email = text("email")
    if email and not _EMAIL.match(email):
        bad("email", f"'{email}' is not an e-mail address")
    out["email"] = email
    if text("created_at"):
        try:
            out["created_at"] = _parse_datetime(rec["created_at"]).isoformat()
        except ValueError:
            bad(
                "created_at",
                f"'{text('created_at')}' is not an ISO date (YYYY-MM-DD or YYYY-MM-DDTHH:MM:SS)",
            )
    status = text("status").lower()
    status = _STATUS_ALIASES.get(status, status.replace(" ", "_").replace("-", "_"))
    if status and status not in STATUSES:
        bad("status", f"'{text('status')}' is not one of: {', '.join(STATUSES)}")
    out["status"] = status
    items, item_problems = _items(rec.get("items"))
    for problem in item_problems:
        bad("items", problem)
    out["items"] = json.dumps(items, ensure_ascii=False)
    out["total"] = None
    if text("total"):
        try:
            out["total"] = _parse_number(rec["total"])
            if out["total"] < 0:
                bad("total", "is negative")
        except ValueError:
            bad("total", f"'{text('total')}' is not an amount")
    currency = (text("currency") or "EUR").upper()
    if not re.fullmatch(r"[A-Z]{3}", currency):
        bad("currency", f"'{text('currency')}' is not a 3-letter ISO code such as EUR")
    out["currency"] = currency
    for name, kind in OPTIONAL_FIELDS:
        if not text(name):
            out[name] = None
        elif kind == "text":
            out[name] = text(name)
        else:
            try:
                out[name] = (_parse_date if kind == "date" else _parse_datetime)(
                    rec[name]
                ).isoformat()
            except ValueError:
                bad(name, f"'{text(name)}' is not an ISO date")
    if problems:
        return None, problems
    out["order_key"] = order_key(out["order_number"])
    out["order_digits"] = _digits(out["order_number"]) or out["order_key"]
    return out, []


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


def read_feed(name: str, data: bytes) -> list[tuple[int, dict[str, Any]]]:
    """(row number, record) pairs of a CSV, JSON or JSONL order feed."""
    ext = Path(name).suffix.lower()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise OrderFeedError(
            f"{name}: is not UTF-8 (byte {exc.start}).", "Re-save it as UTF-8."
        ) from exc
    if not text.strip():
        raise OrderFeedError(f"{name}: is empty.", "Upload an order feed with at least one order.")
    if ext == ".csv":
        try:
            dialect: Any = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
        except csv.Error:
            dialect = csv.excel
        reader = csv.DictReader(io.StringIO(text), dialect=dialect)
        header = [h.strip() for h in (reader.fieldnames or [])]
        missing = [f for f in REQUIRED if f not in header]
        if missing:
            raise OrderFeedError(
                f"{name}: the header has no column {', '.join(missing)} (found: {', '.join(header) or 'none'}).",
                f"Use the column names {', '.join(FIELDS)}.",
            )
        return [
            (i + 2, {k.strip(): v for k, v in row.items() if k}) for i, row in enumerate(reader)
        ]
    if ext == ".json":
        try:
            parsed = json.loads(text)
        except json.JSONDecodeError as exc:
            raise OrderFeedError(
                f"{name}: is not valid JSON (line {exc.lineno}: {exc.msg}).",
                "Fix it, or use JSONL.",
            ) from exc
        except (ValueError, RecursionError) as exc:
            raise OrderFeedError(
                f"{name}: cannot be read ({str(exc)[:80]}).", "Fix it, or use JSONL."
            ) from exc
        if isinstance(parsed, dict) and isinstance(parsed.get("orders"), list):
            parsed = parsed["orders"]
        if not isinstance(parsed, list):
            raise OrderFeedError(
                f"{name}: expected a list of orders.", 'Use [{"order_number": ...}, ...] or JSONL.'
            )
        return [
            (i + 1, r if isinstance(r, dict) else {"__invalid__": r}) for i, r in enumerate(parsed)
        ]
    if ext == ".jsonl":
        out: list[tuple[int, dict[str, Any]]] = []
        for lineno, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                rec = json.loads(line)
            except json.JSONDecodeError as exc:
                out.append(
                    (lineno, {"__invalid__": f"not valid JSON ({exc.msg} at column {exc.colno})"})
                )
                continue
            except (ValueError, RecursionError) as exc:  # an integer of 4300+ digits, deep nesting
                out.append((lineno, {"__invalid__": f"cannot be read ({str(exc)[:80]})"}))
                continue
            out.append(
                (
                    lineno,
                    rec if isinstance(rec, dict) else {"__invalid__": "expected a JSON object"},
                )
            )
        return out
    raise OrderFeedError(
        f"{name}: has extension {ext or '(none)'}.", "Order feeds are .csv, .json or .jsonl files."
    )


class OrderBook:
    """Orders and customers in SQL, with customer-scoped reads."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._shapes: tuple[float, list[ReferenceShape]] | None = None
        migrate(engine, "knowledge.orders", MIGRATIONS)

    # -- import ------------------------------------------------------------------------
    def import_file(self, name: str, data: bytes) -> ImportReport:
        return self.import_records(read_feed(name, data), source=name)

    def import_path(self, path: str | Path) -> ImportReport:
        p = Path(path)
        return self.import_file(p.name, p.read_bytes())

    def import_records(
        self, rows: Iterable[tuple[int, dict[str, Any]]], *, source: str = "feed"
    ) -> ImportReport:
        report = ImportReport(source)
        self._shapes = None  # new numbers may have a new shape
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
        stamp = datetime.now(UTC).isoformat()
        with self.engine.begin() as conn:
            keys = list(valid)
            existing: set[str] = set()
            for start in range(0, len(keys), 500):
                part = keys[start : start + 500]
                existing.update(
                    r[0]
                    for r in conn.execute(
                        sa.select(orders_table.c.order_key).where(
                            orders_table.c.order_key.in_(part)
                        )
                    )
                )
            for key, record in valid.items():
                values = {**record, "updated_at": stamp}
                if key in existing:
                    conn.execute(
                        sa.update(orders_table)
                        .where(orders_table.c.order_key == key)
                        .values(**values)
                    )
                    report.updated += 1
                else:
                    conn.execute(sa.insert(orders_table).values(**values))
                    report.inserted += 1
            # Customers seen in the feed get a card (name/e-mail) if they have none yet.
            seen: dict[str, dict[str, Any]] = {}
            for v in valid.values():
                seen.setdefault(v["customer_id"], {"name": v["customer_name"], "email": v["email"]})
            self._upsert_customers(
                conn,
                [Customer(cid, d["name"], d["email"]) for cid, d in seen.items()],
                only_missing=True,
            )
        return report

    def import_customers(self, customers: Sequence[Customer]) -> int:
        with self.engine.begin() as conn:
            self._upsert_customers(conn, customers, only_missing=False)
        return len(customers)

    @staticmethod
    def _upsert_customers(
        conn: sa.Connection, customers: Sequence[Customer], *, only_missing: bool
    ) -> None:
        stamp = datetime.now(UTC).isoformat()
        for c in customers:
            values = {
                "name": c.name,
                "email": c.email,
                "phone": c.phone,
                "lang": c.lang,
                "city": c.city,
                "country": c.country,
                "updated_at": stamp,
            }
            exists = conn.execute(
                sa.select(customers_table.c.customer_id).where(
                    customers_table.c.customer_id == c.customer_id
                )
            ).first()
            if exists and not only_missing:
                conn.execute(
                    sa.update(customers_table)
                    .where(customers_table.c.customer_id == c.customer_id)
                    .values(**values)
                )
            elif not exists:
                conn.execute(sa.insert(customers_table).values(customer_id=c.customer_id, **values))

    # -- customer-scoped reads ---------------------------------------------------------
    def orders_of(self, customer_id: str) -> list[Order]:
        with self.engine.connect() as conn:
            rows = (
                conn.execute(
                    sa.select(orders_table)
                    .where(orders_table.c.customer_id == customer_id)
                    .order_by(orders_table.c.created_at.desc())
                )
                .mappings()
                .all()
            )
        return [_order(r) for r in rows]

    def order_of(self, customer_id: str, number: str) -> Order | None:
        """The order with this number if it belongs to ``customer_id``; None otherwise."""
        key, digits = order_key(number), _digits(number)
        for order in self.orders_of(customer_id):
            if order_key(order.order_number) == key or (
                digits and _digits(order.order_number) == digits
            ):
                return order
        return None

    def quoted(
        self, customer_id: str | None, text: str, *, own: Sequence[Order] | None = None
    ) -> QuoteLookup:
        """Order numbers (or tracking numbers) quoted in ``text``, resolved for this customer.

        A reference is read the way the store writes its numbers (shapes learned from the
        feed): with other separators or none, any case, leading zeros dropped; the last
        digits alone ("la 0417") name an order of this customer when only one of theirs ends
        so. Another customer's order is reported as quoted, its contents never read."""
        own_orders = (
            list(own) if own is not None else self.orders_of(customer_id) if customer_id else []
        )
        found: dict[str, Order] = {}
        foreign: list[str] = []
        unknown: list[str] = []
        for ref in _references(text, self.shapes()):
            mine = [o for o in own_orders if ref.keys & _keys_of(o)]
            if not mine and not ref.loose:
                mine = [o for o in own_orders if _ends_with(o.order_number, ref.digits)]
                mine = mine or [
                    o
                    for o in own_orders
                    if (o.tracking_number or "").upper().endswith(ref.raw.upper())
                ]
            if len(mine) == 1:
                found[mine[0].order_number] = mine[0]
                continue
            if len(mine) > 1:
                continue  # the same last digits on several of their orders: ask which
            if self._exists(ref.keys):
                foreign.append(ref.raw)
            elif not ref.loose:
                unknown.append(ref.raw)
        return QuoteLookup(tuple(found.values()), tuple(foreign), tuple(unknown))

    def _exists(self, keys: frozenset[str]) -> bool:
        with self.engine.connect() as conn:
            return bool(
                conn.execute(
                    sa.select(sa.func.count())
                    .select_from(orders_table)
                    .where(
                        sa.or_(
                            orders_table.c.order_key.in_(keys),
                            orders_table.c.order_digits.in_(keys),
                            sa.func.upper(sa.func.coalesce(orders_table.c.tracking_number, "")).in_(
                                keys
                            ),
                        )
                    )
                ).scalar_one()
            )

    def shapes(self) -> list[ReferenceShape]:
        """The shapes of this store's order numbers, most frequent first (learned from the feed;
        re-learned after an import here, or a minute after the last time: another process's
        import of a new shape is seen within a minute)."""
        now = time.monotonic()
        if self._shapes is None or now - self._shapes[0] > SHAPES_TTL_S:
            counts: dict[ReferenceShape, int] = {}
            with self.engine.connect() as conn:
                for (number,) in conn.execute(sa.select(orders_table.c.order_number)):
                    shape = ReferenceShape.of(number)
                    counts[shape] = counts.get(shape, 0) + 1
            ranked = sorted(counts, key=lambda sh: -counts[sh])[:8]
            self._shapes = (now, ranked)
        return self._shapes[1]

    def customer(self, customer_id: str) -> Customer | None:
        with self.engine.connect() as conn:
            r = (
                conn.execute(
                    sa.select(customers_table).where(customers_table.c.customer_id == customer_id)
                )
                .mappings()
                .first()
            )
        return _customer(r) if r else None

    def customer_by_email(self, email: str) -> Customer | None:
        """The customer with this e-mail address (case and surrounding spaces ignored); None
        when no customer, or several, have it (never a guess between two customers)."""
        wanted = email.strip().lower()
        if not wanted:
            return None
        with self.engine.connect() as conn:
            rows = (
                conn.execute(
                    sa.select(customers_table).where(
                        sa.func.lower(sa.func.trim(customers_table.c.email)) == wanted
                    )
                )
                .mappings()
                .all()
            )
        return _customer(rows[0]) if len(rows) == 1 else None

    def customers(self) -> list[Customer]:
        with self.engine.connect() as conn:
            rows = (
                conn.execute(sa.select(customers_table).order_by(customers_table.c.name))
                .mappings()
                .all()
            )
        return [_customer(r) for r in rows]

    def count(self) -> int:
        with self.engine.connect() as conn:
            return int(
                conn.execute(sa.select(sa.func.count()).select_from(orders_table)).scalar_one()
            )

    def all_order_numbers(self) -> list[tuple[str, str]]:
        """(order number, customer id) of every order: for audits and leak checks, never for drafting."""
        with self.engine.connect() as conn:
            return [
                (r[0], r[1])
                for r in conn.execute(
                    sa.select(orders_table.c.order_number, orders_table.c.customer_id)
                )
            ]


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


def _references(text: str, shapes: Sequence[ReferenceShape]) -> list[Reference]:
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
        digits = _digits(number)
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
                raw, frozenset({order_key(raw), _digits(raw)} - {""}), _digits(raw), False
            )
    return list(out.values())


def _ends_with(number: str, digits: str) -> bool:
    """``digits`` are the end of ``number``: its last digits ("0417" of OND/2026/000417), or its
    last group without its leading zeros ("417")."""
    groups = re.findall(r"\d+", number)
    if not groups or not digits:
        return False
    return "".join(groups).endswith(digits) or (
        len(groups) > 1 and groups[-1].lstrip("0") == digits.lstrip("0")
    )


def _keys_of(order: Order) -> set[str]:
    digits = _digits(order.order_number)
    keys = {order_key(order.order_number), digits, digits.lstrip("0")}
    if order.tracking_number:
        keys.add(order_key(order.tracking_number))
    return keys - {""}


def _order(r: Any) -> Order:
    items = tuple(
        Item(
            i.get("sku", ""),
            i.get("name", ""),
            int(i.get("quantity", 1)),
            i.get("unit_price"),
            i.get("category", ""),
        )
        for i in json.loads(r["items"] or "[]")
    )
    return Order(
        order_number=r["order_number"],
        customer_id=r["customer_id"],
        customer_name=r["customer_name"] or "",
        email=r["email"] or "",
        created_at=_parse_datetime(r["created_at"]),
        status=r["status"],
        items=items,
        total=r["total"],
        currency=r["currency"],
        **{name: _read_back(r[name], kind) for name, kind in OPTIONAL_FIELDS},
    )


def _read_back(value: str | None, kind: str) -> Any:
    """An optional field as stored (text, ISO date or date-time) as the Order holds it."""
    if not value:
        return None
    if kind == "date":
        return date.fromisoformat(value)
    return _parse_datetime(value) if kind == "datetime" else value


def _customer(r: Any) -> Customer:
    return Customer(
        r["customer_id"],
        r["name"] or "",
        r["email"] or "",
        r["phone"] or "",
        r["lang"],
        r["city"] or "",
        r["country"] or "",
    )
