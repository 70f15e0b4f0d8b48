"""Database engine and ordered schema migrations (SQLite by default, PostgreSQL by URL).

Each package owns a *namespace* of migrations: a list of functions applied in order, once,
inside a transaction, and recorded in ``schema_versions``. Adding a column means appending a
function, never editing an old one.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

Migration = Callable[[Connection], None]

_versions = sa.Table(
    "schema_versions",
    sa.MetaData(),
    sa.Column("namespace", sa.String(64), primary_key=True),
    sa.Column("version", sa.Integer, nullable=False),
)


def make_engine(url: str) -> Engine:
    """An engine for ``url``; for SQLite, the file's folder is created and WAL is switched on."""
    if url.startswith("sqlite:///") and not url.startswith("sqlite:///:memory:"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    kwargs: dict[str, Any] = {}
    if url.startswith("sqlite"):
        kwargs["connect_args"] = {"timeout": 30, "check_same_thread": False}
    engine = sa.create_engine(url, **kwargs)
    if engine.dialect.name == "sqlite":

        @sa.event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

    return engine


def migrate(engine: Engine, namespace: str, steps: Sequence[Migration]) -> int:
    """Apply the steps of ``namespace`` that have not run yet; return the schema version."""
    with engine.begin() as conn:
        _versions.create(conn, checkfirst=True)
    with engine.begin() as conn:
        row = conn.execute(
            sa.select(_versions.c.version).where(_versions.c.namespace == namespace)
        ).first()
        current = row[0] if row else 0
        for number, step in enumerate(steps, start=1):
            if number <= current:
                continue
            step(conn)
            if current == 0:
                conn.execute(sa.insert(_versions).values(namespace=namespace, version=number))
            else:
                conn.execute(
                    sa.update(_versions)
                    .where(_versions.c.namespace == namespace)
                    .values(version=number)
                )
            current = number
    return current


def create_tables(*tables: sa.Table) -> Migration:
    """A migration step that creates the given tables (and their indexes)."""

    def step(conn: Connection) -> None:
        for table in tables:
            table.create(conn, checkfirst=True)

    return step
