from __future__ import annotations

import json

import pytest

from copilot import Workspace
from knowledge import OrderFeedError, order_key
from tests.builders import jsonl

ORDERS = [
    {
        "order_number": "LUM-104233",
        "customer_id": "C1",
        "customer_name": "Camille Martin",
        "email": "camille@example.fr",
        "created_at": "2026-11-10T10:00:00+01:00",
        "status": "shipped",
        "items": [{"sku": "LMP-1", "name": "Lampe Opaline", "quantity": 1, "unit_price": 89.0}],
        "total": 93.9,
        "currency": "EUR",
        "carrier": "Colissimo",
        "tracking_number": "6A12345678901",
        "estimated_delivery": "2026-11-21",
        "delivered_at": None,
    },
    {
        "order_number": "LUM-200001",
        "customer_id": "C2",
        "customer_name": "John Smith",
        "email": "john@example.com",
        "created_at": "2026-11-01T09:00:00+01:00",
        "status": "delivered",
        "items": [],
        "total": 45.0,
        "currency": "EUR",
        "carrier": "DHL Express",
        "tracking_number": "1234567890",
        "estimated_delivery": "2026-11-04",
        "delivered_at": "2026-11-04T15:00:00+01:00",
    },
]


def test_import_jsonl_and_scoped_lookup(ws: Workspace) -> None:
    report = ws.orders.import_file("orders.jsonl", jsonl(ORDERS))
    assert (report.inserted, report.updated, report.problems) == (2, 0, [])
    (mine,) = ws.orders.orders_of("C1")
    assert mine.order_number == "LUM-104233" and mine.tracking_number == "6A12345678901"
    assert mine.items[0].name == "Lampe Opaline" and mine.estimated_delivery is not None
    assert (
        ws.orders.customer("C1") is not None and ws.orders.customer("C1").name == "Camille Martin"
    )  # type: ignore[union-attr]


@pytest.mark.parametrize(
    "quoted",
    [
        "LUM-104233",
        "lum104233",
        "commande 104233",
        "#LUM 104233",
        "LUM 104 233",
        "n° lum-104233",
        "6A12345678901",
    ],
)
def test_own_order_is_found_whatever_the_formatting(ws: Workspace, quoted: str) -> None:
    ws.orders.import_file("orders.jsonl", jsonl(ORDERS))
    found = ws.orders.quoted("C1", f"Bonjour, où en est {quoted} ?")
    assert [o.order_number for o in found.own] == ["LUM-104233"]
    assert found.foreign == () and found.unknown == ()


@pytest.mark.parametrize(
    "quoted", ["LUM-200001", "lum200001", "commande 200001", "#LUM 200 001", "1234567890"]
)
def test_another_customers_order_is_never_returned(ws: Workspace, quoted: str) -> None:
    ws.orders.import_file("orders.jsonl", jsonl(ORDERS))
    found = ws.orders.quoted("C1", f"where is my order {quoted}?")
    assert found.own == ()
    (shown,) = found.foreign  # reported as quoted, nothing more
    assert shown in quoted
    assert ws.orders.order_of("C1", quoted) is None
    assert all(o.customer_id == "C1" for o in ws.orders.orders_of("C1"))


def test_unknown_numbers_and_anonymous_customers(ws: Workspace) -> None:
    ws.orders.import_file("orders.jsonl", jsonl(ORDERS))
    assert ws.orders.quoted("C1", "order LUM-999999 please").unknown == ("LUM-999999",)
    anon = ws.orders.quoted(None, "order LUM-104233")
    assert anon.own == () and anon.foreign == ("LUM-104233",)
    assert ws.orders.quoted("C1", "I paid 89 euros on 12/11").own == ()
    # a year is not an order ("Je ne retrouve pas de commande 2019" answered a labour-law
    # question); written as an order, it is looked up
    years = ws.orders.quoted(None, "égalité femmes-hommes en 2019, index femme 2018")
    assert (years.own, years.foreign, years.unknown) == ((), (), ())
    assert ws.orders.quoted(None, "ma commande #2019").unknown == ("2019",)
    assert ws.orders.quoted(None, "LUM-2019 ?").unknown == ("LUM-2019",)


def test_csv_feed_with_a_validation_report_per_row(ws: Workspace) -> None:
    csv_text = (
        "order_number,customer_id,customer_name,email,created_at,status,items,total,currency,carrier,tracking_number,estimated_delivery,delivered_at\n"
        'LUM-1,C1,Camille,camille@example.fr,2026-11-01,shipped,"[{""sku"": ""A"", ""name"": ""Lamp"", ""quantity"": 2, ""unit_price"": 10}]",24.90,EUR,Colissimo,6A1,2026-11-05,\n'
        "LUM-2,C1,Camille,not-an-email,2026-11-02,teleported,,abc,EURO,,,tomorrow,\n"
        ",C3,Nobody,,2026-11-03,pending,,,,,,,\n"
        "LUM-1,C1,Camille,camille@example.fr,2026-11-01,delivered,,24.90,EUR,,,,\n"
        'LUM-3,C2,John,john@example.com,2026-11-03,pending,"[{""name"": ""Vase"", ""quantity"": 0}]",12,EUR,,,,\n'
    )
    report = ws.orders.import_file("feed.csv", csv_text.encode())
    assert report.inserted == 1 and report.invalid_rows == [3, 4, 5, 6]
    problems = {(p.row, p.field) for p in report.problems}
    assert {
        (3, "email"),
        (3, "status"),
        (3, "total"),
        (3, "currency"),
        (3, "estimated_delivery"),
        (4, "order_number"),
        (5, "order_number"),
        (6, "items"),
    } <= problems
    assert "teleported" in str(next(p for p in report.problems if p.field == "status"))
    (order,) = ws.orders.orders_of("C1")
    assert order.items[0].quantity == 2 and order.total == 24.90


def test_reimport_updates_by_order_number(ws: Workspace) -> None:
    ws.orders.import_file("orders.jsonl", jsonl(ORDERS))
    changed = dict(
        ORDERS[0],
        status="delivered",
        delivered_at="2026-11-20T11:00:00+01:00",
        order_number="lum 104233",
    )
    report = ws.orders.import_file("orders.json", json.dumps([changed]).encode())
    assert (report.inserted, report.updated) == (0, 1)
    (order,) = ws.orders.orders_of("C1")
    assert order.status == "delivered" and order.delivered_at is not None


def test_malformed_jsonl_lines_are_reported_and_the_rest_imported(ws: Workspace) -> None:
    data = jsonl(ORDERS[:1]) + b"\n{oops\n[1]\n"
    report = ws.orders.import_file("orders.jsonl", data)
    assert report.inserted == 1 and report.invalid_rows == [2, 3]


def test_feed_level_errors() -> None:
    from knowledge.orders import read_feed

    with pytest.raises(OrderFeedError, match="no column order_number"):
        read_feed("x.csv", b"id,customer\n1,2\n")
    with pytest.raises(OrderFeedError, match="empty"):
        read_feed("x.jsonl", b"")
    with pytest.raises(OrderFeedError, match=r"\.xml"):
        read_feed("x.xml", b"<orders/>")


def test_order_key_normalisation() -> None:
    assert order_key("lum-104 233") == order_key("#LUM104233") == "LUM104233"


@pytest.mark.parametrize("total", ["NaN", "inf", 1e308, "-1e400", True])
def test_non_finite_and_absurd_amounts_are_refused(ws: Workspace, total: object) -> None:
    rec = dict(ORDERS[0], total=total)
    report = ws.orders.import_file("orders.jsonl", jsonl([rec]))
    assert report.imported == 0 and [p.field for p in report.problems] == ["total"]


def _store_order(number: str, customer: str, tracking: str | None = None) -> dict[str, object]:
    return {
        "order_number": number,
        "customer_id": customer,
        "customer_name": customer,
        "created_at": "2026-10-01",
        "status": "in_transit",
        "items": [{"sku": "S1", "name": "Item", "quantity": 1, "unit_price": 10}],
        "total": 10,
        "currency": "NOK",
        "tracking_number": tracking,
    }


def _random_prefix(seed: int) -> str:
    import random

    rng = random.Random(seed)
    return "".join(rng.choice("BCDFGHJKMNPQRSTVWXZ") for _ in range(3))


@pytest.mark.parametrize(
    "typed",
    [
        "{P}/2026/000417",  # as the feed writes it
        "{p} 2026 000417",  # spaces, lower case
        "{P}2026000417",  # no separators
        "{p}.2026.000417",  # dots
        "#{P}-2026-417",  # other separators, leading zeros dropped
        "{P} 2026 417",
        "{p}2026417",  # no separators and no leading zeros
        "2026/000417",  # no prefix
        "0417",  # the last digits, unique among this customer's orders
        "000417",
    ],
)
def test_references_are_read_in_the_shape_the_feed_uses(ws: Workspace, typed: str) -> None:
    prefix = _random_prefix(13)  # a store prefix that appears nowhere in the code
    feed = [
        _store_order(f"{prefix}/2026/000417", "K-1"),
        _store_order(f"{prefix}/2026/000988", "K-1"),
        _store_order(f"{prefix}/2026/000555", "K-2"),
    ]
    ws.orders.import_file("orders.jsonl", jsonl(feed))
    text = "bjr, c'est la " + typed.format(P=prefix, p=prefix.lower()) + " svp"
    found = ws.orders.quoted("K-1", text)
    assert [o.order_number for o in found.own] == [f"{prefix}/2026/000417"], found
    assert found.foreign == ()


@pytest.mark.parametrize("typed", ["{P}/2026/000555", "{p} 2026 555", "{P}2026555", "#2026-555"])
def test_another_customers_order_is_refused_however_it_is_typed(ws: Workspace, typed: str) -> None:
    prefix = _random_prefix(21)
    feed = [
        _store_order(f"{prefix}/2026/000417", "K-1"),
        _store_order(f"{prefix}/2026/000555", "K-2"),
    ]
    ws.orders.import_file("orders.jsonl", jsonl(feed))
    found = ws.orders.quoted("K-1", "where is " + typed.format(P=prefix, p=prefix.lower()))
    assert found.own == () and len(found.foreign) == 1


def test_last_digits_shared_by_two_of_their_orders_resolve_to_none(ws: Workspace) -> None:
    feed = [_store_order("A-11-4417", "K-1"), _store_order("A-12-4417", "K-1")]
    ws.orders.import_file("orders.jsonl", jsonl(feed))
    found = ws.orders.quoted("K-1", "my order 4417?")
    assert found.own == () and found.foreign == ()
    assert [o.order_number for o in ws.orders.quoted("K-1", "order 11-4417").own] == ["A-11-4417"]


@pytest.mark.parametrize("number", ["48213307", "X7Q-2B-99881", "ORD" + "7" * 40, "2026-11-0042-B"])
def test_unusual_feed_ids_still_resolve(ws: Workspace, number: str) -> None:
    ws.orders.import_file("orders.jsonl", jsonl([_store_order(number, "K-1")]))
    found = ws.orders.quoted("K-1", f"Hello, any news on {number.lower()} ?")
    assert [o.order_number for o in found.own] == [number]


def test_dates_and_amounts_are_not_references(ws: Workspace) -> None:
    ws.orders.import_file("orders.jsonl", jsonl([_store_order("A-2026-1211", "K-1")]))
    found = ws.orders.quoted("K-2", "I paid 1211 € on 12/11 and 12.11.2026, about 15.90")
    assert (found.own, found.foreign, found.unknown) == ((), (), ())


@pytest.mark.parametrize("text", ["order 417 please", "c'est la commande #417", "n° 417"])
def test_a_cued_serial_without_its_zeros_names_their_order(ws: Workspace, text: str) -> None:
    feed = [_store_order("QX/2026/000417", "K-1"), _store_order("QX/2026/000988", "K-1")]
    ws.orders.import_file("orders.jsonl", jsonl(feed))
    assert [o.order_number for o in ws.orders.quoted("K-1", text).own] == ["QX/2026/000417"]


def test_a_bare_three_digit_number_is_not_a_reference(ws: Workspace) -> None:
    ws.orders.import_file("orders.jsonl", jsonl([_store_order("QX/2026/000417", "K-1")]))
    assert ws.orders.quoted("K-1", "I waited 417 minutes").own == ()


def test_a_database_made_before_last_tracking_update_gains_the_column(tmp_path) -> None:
    import sqlalchemy as sa

    from knowledge import OrderBook, make_engine
    from knowledge.db import migrate
    from knowledge.orders import MIGRATIONS

    engine = make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    with engine.begin() as conn:  # the orders table as the first two steps made it
        conn.execute(
            sa.text(
                "CREATE TABLE orders (order_key VARCHAR(64) PRIMARY KEY, order_digits VARCHAR(64)"
                " NOT NULL, order_number VARCHAR(64) NOT NULL, customer_id VARCHAR(128) NOT NULL,"
                " customer_name TEXT NOT NULL, email TEXT NOT NULL, created_at VARCHAR(40) NOT"
                " NULL, status VARCHAR(32) NOT NULL, items TEXT NOT NULL, total FLOAT, currency"
                " VARCHAR(3) NOT NULL, carrier TEXT, tracking_number VARCHAR(64),"
                " estimated_delivery VARCHAR(40), delivered_at VARCHAR(40), updated_at"
                " VARCHAR(40) NOT NULL)"
            )
        )
    migrate(engine, "knowledge.orders", MIGRATIONS[:2])
    book = OrderBook(engine)
    row = {
        "order_number": "QX-77",
        "customer_id": "K9",
        "created_at": "2026-11-01",
        "status": "in_transit",
        "estimated_delivery": "2026-11-10",
        "last_tracking_update": "2026-11-06",
    }
    report = book.import_file("feed.jsonl", json.dumps(row).encode())
    assert report.inserted == 1, report
    (order,) = book.orders_of("K9")
    assert order.last_tracking_update is not None
    assert order.last_tracking_update.isoformat() == "2026-11-06"


def test_the_optional_fields_are_one_table_read_and_stored_alike(ws: Workspace) -> None:
    import dataclasses
    from datetime import date, datetime

    import sqlalchemy as sa

    from knowledge.orders import OPTIONAL_FIELDS, Order, add_missing_columns, orders_table

    names = [name for name, _ in OPTIONAL_FIELDS]
    assert set(names) <= {f.name for f in dataclasses.fields(Order)}
    assert set(names) <= set(orders_table.c.keys())
    record = {
        "order_number": "ZX-1",
        "customer_id": "C9",
        "created_at": "2026-11-01",
        "status": "in_transit",
        "carrier": "Parcelo",
        "tracking_number": "PX123456789",
        "estimated_delivery": "2026-11-05",
        "delivered_at": "2026-11-04T10:30:00+01:00",
        "last_tracking_update": "2026-11-03",
    }
    report = ws.orders.import_records([(1, record)], source="test")
    assert report.imported == 1, report.problems
    order = ws.orders.order_of("C9", "ZX-1")
    assert order is not None
    got = {name: getattr(order, name) for name in names}
    assert got["carrier"] == "Parcelo" and got["tracking_number"] == "PX123456789"
    assert got["estimated_delivery"] == date(2026, 11, 5)
    assert isinstance(got["delivered_at"], datetime) and got["delivered_at"].day == 4
    assert got["last_tracking_update"] == date(2026, 11, 3)
    # a date field is checked as a date, whatever field it is
    bad = ws.orders.import_records([(1, {**record, "last_tracking_update": "soon"})], source="t")
    assert [(p.field, p.problem) for p in bad.problems] == [
        ("last_tracking_update", "'soon' is not an ISO date")
    ]
    # a database made before a field existed gets its column (the migration step is idempotent)
    engine = sa.create_engine("sqlite://")
    with engine.begin() as conn:
        conn.execute(sa.text("CREATE TABLE orders (order_key TEXT PRIMARY KEY)"))
        add_missing_columns(conn)
        add_missing_columns(conn)
        columns = {c["name"] for c in sa.inspect(conn).get_columns("orders")}
    assert set(names) <= columns
    # and a database opened after a field was declared gets its column at the open
    from knowledge import OrderBook

    engine = sa.create_engine(f"sqlite:///{ws.settings.data_dir / 'older.db'}")
    OrderBook(engine)
    with engine.begin() as conn:
        conn.execute(sa.text("ALTER TABLE orders DROP COLUMN last_tracking_update"))
    OrderBook(engine).import_records([(1, record)], source="test")
    assert OrderBook(engine).order_of("C9", "ZX-1") == order
