"""Database engine and ordered schema migrations (SQLite by default, PostgreSQL by URL).

Each package owns a *namespace* of migrations: a list of functions applied in order, once,
inside a transaction, and recorded in ``schema_versions``. Adding a column means appending a
function, never editing an old one.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

Migration = Callable[[Connection], None]

# PostgreSQL advisory lock held while migrating, so that several processes opening one fresh
# database at once (app replicas, the CLI) apply each step once instead of racing on CREATE TABLE.
_MIGRATION_LOCK_KEY = 0x536F7566  # "Souf"

_versions = sa.Table(
    "schema_versions",
    sa.MetaData(),
    sa.Column("namespace", sa.String(64), primary_key=True),
    sa.Column("version", sa.Integer, nullable=False),
)


def now() -> datetime:
    """The time to store: aware, in UTC (both backends store UTC)."""
    return datetime.now(UTC)


def as_utc(dt: datetime) -> datetime:
    """A timestamp read back from SQLite (naive, stored in UTC) as an aware one."""
    return dt if dt.tzinfo else dt.replace(tzinfo=UTC)


def make_engine(url: str) -> Engine:
    """An engine for ``url``; for SQLite, the file's folder is created and WAL is switched on;
    PostgreSQL sessions run in UTC."""
    if url.startswith("sqlite:///") and not url.startswith("sqlite:///:memory:"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    kwargs: dict[str, Any] = {}
    if url.startswith("sqlite"):
        kwargs["connect_args"] = {"timeout": 30, "check_same_thread": False}
    else:  # a server: a pooled connection cut by a restart or fail-over is replaced on checkout
        kwargs["pool_pre_ping"] = True
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

    elif engine.dialect.name == "postgresql":

        @sa.event.listens_for(engine, "connect")
        def _utc_session(dbapi_conn: Any, _record: Any) -> None:
            # Timestamps come back in the session's time zone: UTC, as they are stored on SQLite,
            # whatever the server's own ``timezone`` setting (displays and day boundaries agree).
            cur = dbapi_conn.cursor()
            cur.execute("SET TIME ZONE 'UTC'")
            cur.close()
            dbapi_conn.commit()  # a SET inside a transaction that is rolled back is undone

        @sa.event.listens_for(engine, "before_cursor_execute", retval=True)
        def _no_nul(
            _conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any, many: bool
        ) -> tuple[str, Any]:
            # PostgreSQL refuses NUL in text ("cannot contain NUL (0x00) characters"), SQLite
            # stores it: a pasted customer message or an order field carrying one must not fail
            # the whole write on one backend only. NUL carries no meaning in any of our texts.
            if many:
                return statement, [_without_nul(p) for p in parameters]
            return statement, _without_nul(parameters)

    return engine


def _without_nul(params: Any) -> Any:
    if isinstance(params, dict):
        if any(isinstance(v, str) and "\x00" in v for v in params.values()):
            return {
                k: v.replace("\x00", "") if isinstance(v, str) else v for k, v in params.items()
            }
        return params
    if isinstance(params, (list, tuple)) and any(
        isinstance(v, str) and "\x00" in v for v in params
    ):
        return type(params)(v.replace("\x00", "") if isinstance(v, str) else v for v in params)
    return params


def _lock_migrations(conn: Connection) -> None:
    """Serialise migrations across processes until the end of ``conn``'s transaction (PostgreSQL)."""
    if conn.dialect.name == "postgresql":
        conn.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MIGRATION_LOCK_KEY})


def migrate(engine: Engine, namespace: str, steps: Sequence[Migration]) -> int:
    """Apply the steps of ``namespace`` that have not run yet; return the schema version.

    On PostgreSQL an advisory lock serialises processes that start at once. SQLite has no such
    lock: two processes opening a new database together may both try to create a table, or
    meet in a lock upgrade SQLite refuses at once ("database is locked", no wait); the one that
    loses runs the whole migration again from what the winner committed.
    """
    for attempt in range(5):
        try:
            return _migrate_once(engine, namespace, steps)
        except (sa.exc.OperationalError, sa.exc.ProgrammingError, sa.exc.IntegrityError) as exc:
            raced = isinstance(exc, sa.exc.IntegrityError) or any(
                sign in str(exc) for sign in ("already exists", "database is locked")
            )
            if not raced or attempt == 4:
                raise
            time.sleep(0.05 * (attempt + 1))
    raise AssertionError("unreachable")


def _migrate_once(engine: Engine, namespace: str, steps: Sequence[Migration]) -> int:
    with engine.begin() as conn:
        _lock_migrations(conn)
        _versions.create(conn, checkfirst=True)
    with engine.begin() as conn:
        _lock_migrations(conn)
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


def unbounded_strings_on_postgresql(*tables: sa.Table) -> Migration:
    """A migration step that turns the ``VARCHAR(n)`` columns of the tables into ``TEXT`` on
    PostgreSQL (a no-op elsewhere).

    SQLite never enforces declared lengths, so an id, a file name or an order number longer than
    its column's ``String(n)`` is stored there; PostgreSQL refused it (value too long), failing a
    whole upload or import. ``TEXT`` gives PostgreSQL SQLite's behaviour; ``varchar`` to ``text``
    changes no stored value and rewrites no table.
    """

    def step(conn: Connection) -> None:
        if conn.dialect.name != "postgresql":
            return
        quote = conn.dialect.identifier_preparer
        for table in tables:
            bounded = [c for c in table.columns if isinstance(c.type, sa.String) and c.type.length]
            if bounded:
                conn.execute(
                    sa.text(
                        f"ALTER TABLE {quote.format_table(table)} "
                        + ", ".join(
                            f"ALTER COLUMN {quote.quote(c.name)} TYPE TEXT" for c in bounded
                        )
                    )
                )

    return step
