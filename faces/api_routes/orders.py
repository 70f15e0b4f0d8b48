"""Order routes: the order feed, pushed by the back office."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel

from faces.api_routes.auth import OrdersToken
from faces.api_routes.services import ServicesDep

router = APIRouter(tags=["orders"])


class OrdersOut(BaseModel):
    imported: int
    invalid_rows: list[int]
    problems: list[str]


@router.put("/v1/orders")
def upsert_orders(
    records: list[dict[str, Any]], _: OrdersToken, services: ServicesDep
) -> OrdersOut:
    """Create or update orders (the order feed's fields, see the README); a bad record is
    reported by its position and the others are stored."""
    report = services.ws.orders.import_records(enumerate(records, start=1), source="api")
    return OrdersOut(
        imported=report.imported,
        invalid_rows=report.invalid_rows,
        problems=[str(p) for p in report.problems],
    )
