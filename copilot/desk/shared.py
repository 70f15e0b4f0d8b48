"""State that every process of a workspace shares, kept in the database: the escalation policy
(with its history) and the confidence model.

Each save is a new numbered version with its author and time; nothing is overwritten, so a
knowledge manager can see who changed the policy and restore an older one. A process reads the
latest version at most every ``REFRESH_S`` seconds (one indexed query), so a change made in
one app or API process applies in all the others within seconds, with no restart.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Generic, TypeVar

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from knowledge.db import create_tables, migrate, now, unbounded_strings_on_postgresql

REFRESH_S = 2.0

metadata = sa.MetaData()
revisions = sa.Table(
    "shared_revisions",
    metadata,
    sa.Column("kind", sa.String(32), primary_key=True),  # policy | confidence
    sa.Column("version", sa.Integer, primary_key=True),
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("author", sa.String(128), nullable=True),
    sa.Column("note", sa.Text, nullable=False, default=""),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
)
MIGRATIONS = [create_tables(revisions), unbounded_strings_on_postgresql(revisions)]


@dataclass(frozen=True)
class Revision:
    kind: str
    version: int
    text: str
    author: str | None
    note: str
    created_at: datetime


class SharedState:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        migrate(engine, "copilot.shared", MIGRATIONS)  # the namespace databases already record

    def version(self, kind: str) -> int:
        """The latest version number (0: none yet)."""
        with self.engine.connect() as conn:
            got = conn.execute(
                sa.select(sa.func.max(revisions.c.version)).where(revisions.c.kind == kind)
            ).scalar()
        return int(got or 0)

    def get(self, kind: str, version: int | None = None) -> Revision | None:
        """A version, or the latest one."""
        q = sa.select(revisions).where(revisions.c.kind == kind)
        q = (
            q.where(revisions.c.version == version)
            if version is not None
            else q.order_by(revisions.c.version.desc()).limit(1)
        )
        with self.engine.connect() as conn:
            row = conn.execute(q).mappings().first()
        return _revision(row) if row else None

    def save(self, kind: str, text: str, *, author: str | None = None, note: str = "") -> Revision:
        """A new version (two processes saving at once each get their own number)."""
        for _ in range(5):
            try:
                with self.engine.begin() as conn:
                    latest = conn.execute(
                        sa.select(sa.func.max(revisions.c.version)).where(revisions.c.kind == kind)
                    ).scalar()
                    version = int(latest or 0) + 1
                    conn.execute(
                        sa.insert(revisions).values(
                            kind=kind,
                            version=version,
                            text=text,
                            author=author,
                            note=note,
                            created_at=now(),
                        )
                    )
            except IntegrityError:
                continue  # another process took that number: take the next
            saved = self.get(kind, version)
            assert saved is not None
            return saved
        raise RuntimeError(f"could not save a new {kind} version")

    def history(self, kind: str, limit: int = 50) -> list[Revision]:
        with self.engine.connect() as conn:
            rows = conn.execute(
                sa.select(revisions)
                .where(revisions.c.kind == kind)
                .order_by(revisions.c.version.desc())
                .limit(limit)
            ).mappings()
            return [_revision(r) for r in rows]


T = TypeVar("T")


class Watched(Generic[T]):
    """The parsed latest version of one kind, re-read when another process saved a new one."""

    def __init__(
        self,
        state: SharedState,
        kind: str,
        parse: Callable[[str], T],
        fallback: Callable[[], T],
        *,
        refresh_s: float = REFRESH_S,
    ) -> None:
        self.state = state
        self.kind = kind
        self.parse = parse
        self.fallback = fallback
        self.refresh_s = refresh_s
        self._lock = threading.Lock()
        self._value: tuple[int, T] | None = None
        self._checked = 0.0

    def current(self) -> T:
        with self._lock:
            fresh = time.monotonic() - self._checked < self.refresh_s
            if self._value is not None and fresh:
                return self._value[1]
            version = self.state.version(self.kind)
            self._checked = time.monotonic()
            if self._value is None or self._value[0] != version:
                latest = self.state.get(self.kind, version) if version else None
                value = self.parse(latest.text) if latest is not None else self.fallback()
                self._value = (version, value)
            return self._value[1]

    def forget(self) -> None:
        """Read the database again at the next call (after this process saved)."""
        with self._lock:
            self._value = None


def _revision(row: sa.RowMapping) -> Revision:
    return Revision(
        kind=row["kind"],
        version=row["version"],
        text=row["text"],
        author=row["author"],
        note=row["note"],
        created_at=row["created_at"],
    )
