"""The app's users and sign-in sessions, in the database (shared by every app process).

- Users are made with ``souffleur users add NAME --role agent|knowledge|evaluator|admin``;
  their passwords are stored as Argon2id hashes (``argon2-cffi``), never in clear.
- Sign-in: five wrong passwords in a row lock the account for 15 minutes (``souffleur users
  unlock NAME`` lifts it); the message never tells whether the user exists.
- A session is a random token whose SHA-256 is stored with an expiry (12 hours); the app keeps
  the token in the page's address, so a reload keeps the user signed in, and signing out
  revokes it.

Where the app's users come from, in order: these accounts; else ``users.toml`` (see
``copilot.desk.access``); else, in demo mode only (``SOUFFLEUR_DEMO_USERS``, ``make run``), the
one-click demo users.
"""

from __future__ import annotations

import json
import secrets
from datetime import datetime, timedelta

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy.engine import Engine

from copilot.desk.access import ROLES, AccessError, Role, User, token_digest
from knowledge.db import as_utc, create_tables, migrate, now, unbounded_strings_on_postgresql

MAX_FAILURES = 5
LOCKOUT = timedelta(minutes=15)
SESSION_TTL = timedelta(hours=12)
MIN_PASSWORD = 10
# the CLI's role names -> the app's roles (admin: every role)
ROLE_NAMES: dict[str, frozenset[Role]] = {
    "agent": frozenset({"agent"}),
    "knowledge": frozenset({"knowledge_manager"}),
    "evaluator": frozenset({"evaluator"}),
    "admin": frozenset(ROLES),
}

metadata = sa.MetaData()
users_table = sa.Table(
    "users",
    metadata,
    sa.Column("username", sa.String(64), primary_key=True),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("email", sa.Text, nullable=False, default=""),
    sa.Column("roles", sa.Text, nullable=False),  # JSON list
    sa.Column("password_hash", sa.Text, nullable=False),
    sa.Column("failures", sa.Integer, nullable=False, default=0),
    sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
)
sessions_table = sa.Table(
    "sessions",
    metadata,
    sa.Column("token_sha256", sa.String(64), primary_key=True),
    sa.Column("username", sa.String(64), nullable=False, index=True),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
)
MIGRATIONS = [
    create_tables(users_table, sessions_table),
    unbounded_strings_on_postgresql(users_table, sessions_table),
]
_hasher = PasswordHasher()
# compared against when the user does not exist, so both cases take the same time
_DUMMY_HASH = _hasher.hash(secrets.token_hex(16))


class Accounts:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        migrate(engine, "copilot.accounts", MIGRATIONS)  # the namespace databases already record

    # -- users -------------------------------------------------------------------------
    def add(
        self, username: str, *, roles: list[str], password: str, name: str = "", email: str = ""
    ) -> User:
        username = username.strip()
        if (
            not username
            or not username.replace("-", "").replace("_", "").replace(".", "").isalnum()
        ):
            raise AccessError(
                f"'{username}' is not a usable user name.",
                "Use letters, digits, '.', '-' or '_' (e.g. alice).",
            )
        unknown = [r for r in roles if r not in ROLE_NAMES]
        if not roles or unknown:
            raise AccessError(
                f"Unknown role {unknown or roles!r}.", f"Use: {', '.join(ROLE_NAMES)}."
            )
        _check_password(password)
        granted = sorted(frozenset().union(*(ROLE_NAMES[r] for r in roles)))
        with self.engine.begin() as conn:
            if conn.execute(
                sa.select(users_table.c.username).where(users_table.c.username == username)
            ).first():
                raise AccessError(
                    f"User '{username}' already exists.",
                    f"Change the password with `souffleur users passwd {username}`.",
                )
            conn.execute(
                sa.insert(users_table).values(
                    username=username,
                    name=name.strip() or username,
                    email=email.strip().lower(),
                    roles=json.dumps(granted),
                    password_hash=_hasher.hash(password),
                    failures=0,
                    created_at=now(),
                )
            )
        return self.users()[username]

    def users(self) -> dict[str, User]:
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(users_table).order_by(users_table.c.username)).mappings()
            return {
                r["username"]: User(
                    username=r["username"],
                    name=r["name"],
                    roles=frozenset(json.loads(r["roles"])),
                    email=r["email"],
                    password_hash=r["password_hash"],
                )
                for r in rows
            }

    def set_password(self, username: str, password: str) -> None:
        _check_password(password)
        with self.engine.begin() as conn:
            done = conn.execute(
                sa.update(users_table)
                .where(users_table.c.username == username)
                .values(password_hash=_hasher.hash(password), failures=0, locked_until=None)
            ).rowcount
            conn.execute(  # a new password ends the sessions opened with the old one
                sa.update(sessions_table)
                .where(sessions_table.c.username == username, sessions_table.c.revoked_at.is_(None))
                .values(revoked_at=now())
            )
        if not done:
            raise AccessError(
                f"There is no user '{username}'.", "`souffleur users list` shows them."
            )

    def remove(self, username: str) -> bool:
        with self.engine.begin() as conn:
            conn.execute(sa.delete(sessions_table).where(sessions_table.c.username == username))
            return bool(
                conn.execute(
                    sa.delete(users_table).where(users_table.c.username == username)
                ).rowcount
            )

    def unlock(self, username: str) -> bool:
        with self.engine.begin() as conn:
            return bool(
                conn.execute(
                    sa.update(users_table)
                    .where(users_table.c.username == username)
                    .values(failures=0, locked_until=None)
                ).rowcount
            )

    # -- signing in --------------------------------------------------------------------
    def authenticate(self, username: str, password: str, *, at: datetime | None = None) -> User:
        """The user when the password is right; AccessError otherwise (wrong, or locked)."""
        t = at or now()
        refused = AccessError(
            "Wrong user name or password.",
            f"Type them again; after {MAX_FAILURES} failures the account is locked for "
            f"{int(LOCKOUT.total_seconds() // 60)} minutes.",
        )
        # each outcome is committed before it is raised (an error inside the transaction
        # would roll back the failure count)
        problem: AccessError | None = None
        with self.engine.begin() as conn:
            row = (
                conn.execute(sa.select(users_table).where(users_table.c.username == username))
                .mappings()
                .first()
            )
            locked = (
                as_utc(row["locked_until"])
                if row is not None and row["locked_until"] is not None
                else None
            )
            if row is None:
                _verify(_DUMMY_HASH, password)
                problem = refused
            elif locked is not None and locked > t:
                minutes = max(1, int((locked - t).total_seconds() // 60) + 1)
                problem = AccessError(
                    f"Too many failed sign-ins: this account is locked for {minutes} more "
                    "minute(s).",
                    f"Wait, or ask an administrator to run `souffleur users unlock {username}`.",
                )
            elif not _verify(row["password_hash"], password):
                failures = row["failures"] + 1
                conn.execute(
                    sa.update(users_table)
                    .where(users_table.c.username == username)
                    .values(
                        failures=0 if failures >= MAX_FAILURES else failures,
                        locked_until=t + LOCKOUT if failures >= MAX_FAILURES else None,
                    )
                )
                problem = refused
            else:
                values: dict[str, object] = {"failures": 0, "locked_until": None}
                if _hasher.check_needs_rehash(row["password_hash"]):
                    values["password_hash"] = _hasher.hash(password)
                conn.execute(
                    sa.update(users_table)
                    .where(users_table.c.username == username)
                    .values(**values)
                )
        if problem is not None:
            raise problem
        return self.users()[username]

    def open_session(self, username: str, *, at: datetime | None = None) -> str:
        t = at or now()
        token = secrets.token_urlsafe(32)
        with self.engine.begin() as conn:
            conn.execute(
                sa.insert(sessions_table).values(
                    token_sha256=token_digest(token),
                    username=username,
                    created_at=t,
                    expires_at=t + SESSION_TTL,
                )
            )
        return token

    def session_user(self, token: str, *, at: datetime | None = None) -> str | None:
        """The user name of a live session, or None (unknown, expired or revoked)."""
        t = at or now()
        with self.engine.connect() as conn:
            row = (
                conn.execute(
                    sa.select(sessions_table).where(
                        sessions_table.c.token_sha256 == token_digest(token)
                    )
                )
                .mappings()
                .first()
            )
        if row is None or row["revoked_at"] is not None:
            return None
        return row["username"] if as_utc(row["expires_at"]) > t else None

    def close_session(self, token: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                sa.update(sessions_table)
                .where(sessions_table.c.token_sha256 == token_digest(token))
                .values(revoked_at=now())
            )


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise AccessError(
            f"The password is shorter than {MIN_PASSWORD} characters.",
            "Choose a longer one (a few words make a good password).",
        )


def _verify(stored: str, password: str) -> bool:
    try:
        return _hasher.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False
