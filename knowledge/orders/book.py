"""The order book: orders and customers in SQL, imported from the feed, read per customer."""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from knowledge.db import migrate
from knowledge.orders.feed import read_feed
from knowledge.orders.itemvectors import ItemVectors
from knowledge.orders.model import Customer, ImportReport, Order, QuoteLookup, digits_of, order_key
from knowledge.orders.references import ReferenceShape, ends_with, keys_of, references
from knowledge.orders.tables import (
    MIGRATIONS,
    add_field_columns,
    customer_of_row,
    customers_table,
    order_of_row,
    orders_table,
)
from knowledge.orders.validation import validate_rows

SHAPES_TTL_S = 60.0


class OrderBook:
    """Orders and customers in SQL, with customer-scoped reads."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._shapes: tuple[float, list[ReferenceShape]] | None = None
        migrate(engine, "knowledge.orders", MIGRATIONS)
        add_field_columns(engine)
        self.item_vectors = ItemVectors(engine)  # what order resolution compares items by

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
        valid = validate_rows(rows, report)
        stamp = datetime.now(UTC).isoformat()
        with self.engine.begin() as conn:
            existing = _existing_keys(conn, list(valid))
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
        return [order_of_row(r) for r in rows]

    def order_of(self, customer_id: str, number: str) -> Order | None:
        """The order with this number if it belongs to ``customer_id``; None otherwise."""
        key, digits = order_key(number), digits_of(number)
        for order in self.orders_of(customer_id):
            if order_key(order.order_number) == key or (
                digits and digits_of(order.order_number) == digits
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
        for ref in references(text, self.shapes()):
            mine = [o for o in own_orders if ref.keys & keys_of(o)]
            if not mine and not ref.loose:
                mine = [o for o in own_orders if ends_with(o.order_number, ref.digits)]
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
        return customer_of_row(r) if r else None

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
        return customer_of_row(rows[0]) if len(rows) == 1 else None

    def customers(self) -> list[Customer]:
        with self.engine.connect() as conn:
            rows = (
                conn.execute(sa.select(customers_table).order_by(customers_table.c.name))
                .mappings()
                .all()
            )
        return [customer_of_row(r) for r in rows]

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


def _existing_keys(conn: sa.Connection, keys: list[str]) -> set[str]:
    """Which of these order keys the table holds already (asked 500 at a time)."""
    existing: set[str] = set()
    for start in range(0, len(keys), 500):
        part = keys[start : start + 500]
        existing.update(
            r[0]
            for r in conn.execute(
                sa.select(orders_table.c.order_key).where(orders_table.c.order_key.in_(part))
            )
        )
    return existing
