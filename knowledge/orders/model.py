"""An order and its customer as the lookup hands them out, the feed's fields, and the import
report."""

from __future__ import annotations

import re
from dataclasses import dataclass, field, fields
from datetime import UTC, date, datetime
from typing import Any, Literal

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
REQUIRED = ("order_number", "customer_id", "created_at", "status")
FieldKind = Literal["text", "date", "datetime"]


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
    # The feed's optional fields, given as they are ("text") or as an ISO "date" / "datetime".
    # A new one is a line here: its column (added to existing databases when they open), its
    # validation and its reading back follow from it; showing it to the agent or the customer
    # is a choice made where orders are described.
    carrier: str | None = field(default=None, metadata={"feed": "text"})
    tracking_number: str | None = field(default=None, metadata={"feed": "text"})
    estimated_delivery: date | None = field(default=None, metadata={"feed": "date"})
    delivered_at: datetime | None = field(default=None, metadata={"feed": "datetime"})
    # the carrier's latest tracking event (for lost parcels)
    last_tracking_update: date | None = field(default=None, metadata={"feed": "date"})


OPTIONAL_FIELDS: tuple[tuple[str, FieldKind], ...] = tuple(
    (f.name, f.metadata["feed"]) for f in fields(Order) if "feed" in f.metadata
)
FIELDS = (
    *("order_number", "customer_id", "customer_name", "email", "created_at", "status"),
    *("items", "total", "currency"),
    *(name for name, _ in OPTIONAL_FIELDS),
)


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


def digits_of(number: str) -> str:
    return re.sub(r"\D", "", number)


def parse_datetime(value: Any) -> datetime:
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


def parse_date(value: Any) -> date:
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    text = str(value).strip()
    return parse_datetime(text).date() if ("T" in text or " " in text) else date.fromisoformat(text)
