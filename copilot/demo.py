"""The bundled demo store (Atelier Lumen): articles, FAQ table, customers, orders, conversations.

Dates in the demo files are written relative to :data:`ANCHOR`; loading shifts them by the days
elapsed since, so the demo always looks current (parcels in transit are still in transit).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from knowledge import OPTIONAL_FIELDS, Customer, FileResult, ImportReport
from knowledge.conflicts import StoredConflict, check_upload

if TYPE_CHECKING:
    from copilot.workspace import Workspace

DEMO_DIR = Path(__file__).parent / "demo"
ANCHOR = date(2026, 11, 20)
# the order's dates: when it was placed, and every optional field the feed gives as a date
_DATE_FIELDS = (
    "created_at",
    *(name for name, kind in OPTIONAL_FIELDS if kind in ("date", "datetime")),
)


@dataclass
class DemoReport:
    files: list[FileResult]
    orders: ImportReport
    customers: int
    conversations: int
    conflicts: list[StoredConflict] = field(default_factory=list)

    @property
    def documents(self) -> int:
        return sum(len([d for d in f.docs if d.status != "removed"]) for f in self.files)


def shift_dates(record: dict[str, Any], days: int) -> dict[str, Any]:
    """A copy of an order record with its dates moved ``days`` forward."""
    out = dict(record)
    for name in _DATE_FIELDS:
        value = out.get(name)
        if not value:
            continue
        if "T" in str(value):
            out[name] = (datetime.fromisoformat(str(value)) + timedelta(days=days)).isoformat()
        else:
            out[name] = (date.fromisoformat(str(value)) + timedelta(days=days)).isoformat()
    return out


def article_paths() -> list[tuple[str, Path]]:
    """(source name, path) of every demo knowledge file."""
    root = DEMO_DIR / "articles"
    files = sorted(p for p in root.rglob("*") if p.is_file() and p.suffix in {".md", ".csv"})
    return [(f"demo/{p.relative_to(root).as_posix()}", p) for p in files]


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    return [
        json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()
    ]


def demo_conversations() -> list[dict[str, Any]]:
    path = DEMO_DIR / "conversations.jsonl"
    return read_jsonl(path) if path.exists() else []


def load_demo(ws: Workspace, *, today: date | None = None) -> DemoReport:
    """Load (or reload: unchanged files are no-ops) the demo store into a workspace."""
    days = ((today or date.today()) - ANCHOR).days
    files = ws.kb.ingest_paths(article_paths())
    conflicts = check_upload(ws.kb, files).conflicts  # what a knowledge manager is shown
    customers = [
        Customer(
            customer_id=c["customer_id"],
            name=c.get("name", ""),
            email=c.get("email", ""),
            phone=c.get("phone", ""),
            lang=c.get("lang"),
            city=c.get("city", ""),
            country=c.get("country", ""),
        )
        for c in (
            read_jsonl(DEMO_DIR / "customers.jsonl")
            if (DEMO_DIR / "customers.jsonl").exists()
            else []
        )
    ]
    ws.orders.import_customers(customers)
    orders_path = DEMO_DIR / "orders.jsonl"
    records = read_jsonl(orders_path) if orders_path.exists() else []
    report = ws.orders.import_records(
        ((i + 1, shift_dates(r, days)) for i, r in enumerate(records)), source="demo/orders.jsonl"
    )
    return DemoReport(files, report, len(customers), load_conversations(ws), conflicts)


def load_conversations(ws: Workspace) -> int:
    """The sample conversations, as open conversations waiting in the inbox (once)."""
    from copilot.desk.store import ConversationStore, now

    store = ConversationStore(ws.engine)
    stamp = now()
    added = 0
    for conv in demo_conversations():
        if store.exists(conv["id"]):
            continue
        turns = [
            (t["role"], t["text"], stamp - timedelta(minutes=float(t.get("minutes_ago", 0))))
            for t in conv["turns"]
        ]
        store.create(
            customer_id=conv["customer_id"],
            channel=conv["channel"],
            turns=turns,
            conversation_id=conv["id"],
        )
        added += 1
    return added
