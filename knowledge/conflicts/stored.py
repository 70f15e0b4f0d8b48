"""The pairs found, as the knowledge database keeps them (table ``knowledge_conflicts``,
migration namespace ``knowledge.conflicts``), with the knowledge manager's decision."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from knowledge.conflicts.detection import Conflict
from knowledge.db import create_tables, unbounded_strings_on_postgresql

metadata = sa.MetaData()
conflicts_table = sa.Table(
    "knowledge_conflicts",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column(
        "pair", sa.String(64), nullable=False, unique=True
    ),  # the two sentences, either order
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("new_doc", sa.Text, nullable=False),
    sa.Column("new_title", sa.Text, nullable=False),
    sa.Column("new_sentence", sa.Text, nullable=False),
    sa.Column("new_value", sa.Text, nullable=False),
    sa.Column("old_doc", sa.Text, nullable=False),
    sa.Column("old_title", sa.Text, nullable=False),
    sa.Column("old_sentence", sa.Text, nullable=False),
    sa.Column("old_value", sa.Text, nullable=False),
    # open | kept_new | kept_old | kept_both | gone (a side left its document)
    sa.Column("status", sa.String(16), nullable=False, default="open"),
    sa.Column("new_scope", sa.Text, nullable=False, default=""),
    sa.Column("old_scope", sa.Text, nullable=False, default=""),
    sa.Column("found_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("decided_by", sa.String(128), nullable=True),
)
MIGRATIONS = [create_tables(conflicts_table), unbounded_strings_on_postgresql(conflicts_table)]


@dataclass(frozen=True)
class StoredConflict(Conflict):
    id: int = 0
    status: str = "open"
    new_scope: str = ""
    old_scope: str = ""
    found_at: datetime | None = None
    decided_at: datetime | None = None
    decided_by: str | None = None

    @property
    def is_open(self) -> bool:
        return self.status == "open"

    def sides(self) -> tuple[tuple[str, str, str, str, str], tuple[str, str, str, str, str]]:
        """(doc, title, sentence, value, scope) of the new side, then of the existing one."""
        return (
            (self.new_doc, self.new_title, self.new_sentence, self.new_value, self.new_scope),
            (self.old_doc, self.old_title, self.old_sentence, self.old_value, self.old_scope),
        )


def pair_key(c: Conflict) -> str:
    ends = sorted([f"{c.new_doc}\x00{c.new_sentence}", f"{c.old_doc}\x00{c.old_sentence}"])
    return hashlib.sha256("\x01".join(ends).encode()).hexdigest()


def _utc(value: datetime | None) -> datetime | None:
    return value if value is None or value.tzinfo else value.replace(tzinfo=UTC)


def row_where(conn: Connection, where: Any) -> Any:
    return conn.execute(sa.select(conflicts_table).where(where)).mappings().first()


def stored_of_row(row: Any) -> StoredConflict:
    got = dict(row)
    got.pop("pair")
    got["found_at"] = _utc(got["found_at"])
    got["decided_at"] = _utc(got["decided_at"])
    return StoredConflict(**got)
