"""The orders and customers tables, their migrations (namespace ``knowledge.orders``), and
their rows read back as :class:`Order` and :class:`Customer`."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import sqlalchemy as sa

from knowledge.db import create_tables, unbounded_strings_on_postgresql
from knowledge.orders.model import OPTIONAL_FIELDS, Customer, Item, Order, parse_datetime

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

# the vectors of the feed's item names by embedder (see itemvectors): a name by its SHA-256
item_vectors_table = sa.Table(
    "item_vectors",
    metadata,
    sa.Column("embedder", sa.Text, primary_key=True),
    sa.Column("name_sha256", sa.Text, primary_key=True),
    sa.Column("vector", sa.LargeBinary, nullable=False),
)


def _add_last_tracking_update(conn: sa.Connection) -> None:
    """Orders imported before the feed had ``last_tracking_update`` (tables made by step 1)."""
    columns = {c["name"] for c in sa.inspect(conn).get_columns("orders")}
    if "last_tracking_update" not in columns:
        conn.execute(sa.text("ALTER TABLE orders ADD COLUMN last_tracking_update TEXT"))


def add_missing_columns(conn: sa.Connection) -> None:
    """A column for each optional field declared on Order since a database was made (run at
    each open, and as a migration step of older releases: it is idempotent)."""
    columns = {c["name"] for c in sa.inspect(conn).get_columns("orders")}
    for name, _ in OPTIONAL_FIELDS:
        if name not in columns:
            conn.execute(sa.text(f"ALTER TABLE orders ADD COLUMN {name} TEXT"))


def add_field_columns(engine: sa.Engine) -> None:
    """``add_missing_columns`` at an open; a process that opened the database at the same
    moment may have added a column first, which is the same outcome."""
    for attempt in range(3):
        try:
            with engine.begin() as conn:
                add_missing_columns(conn)
            return
        except (sa.exc.OperationalError, sa.exc.ProgrammingError):
            if attempt == 2:
                raise


MIGRATIONS = [
    create_tables(orders_table, customers_table),
    unbounded_strings_on_postgresql(orders_table, customers_table),
    _add_last_tracking_update,
    add_missing_columns,
    create_tables(item_vectors_table),
]


def order_of_row(r: Any) -> Order:
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
        created_at=parse_datetime(r["created_at"]),
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
    return parse_datetime(value) if kind == "datetime" else value


def customer_of_row(r: Any) -> Customer:
    return Customer(
        r["customer_id"],
        r["name"] or "",
        r["email"] or "",
        r["phone"] or "",
        r["lang"],
        r["city"] or "",
        r["country"] or "",
    )
