"""Bearer tokens for the HTTP API, one per integration (a help desk, a shop's back office).

A token is shown once, when it is created (``souffleur tokens create NAME --role ROLE``); the
database keeps only its SHA-256 (a token is 32 random bytes, so a fast hash is enough: there is
nothing to guess, unlike a password). Each token has one role, and each role a set of scopes:

- ``integration``: inbound messages, suggestions, replies, feedback, order upserts;
- ``knowledge``: knowledge upload, list and delete;
- ``admin``: everything.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from copilot.desk.access import token_digest
from knowledge.db import create_tables, migrate, now, unbounded_strings_on_postgresql
from knowledge.errors import SouffleurError

TokenRole = Literal["integration", "knowledge", "admin"]
TOKEN_ROLES: tuple[TokenRole, ...] = ("integration", "knowledge", "admin")
Scope = Literal["conversations", "orders", "knowledge"]
SCOPES: dict[TokenRole, frozenset[Scope]] = {
    "integration": frozenset({"conversations", "orders"}),
    "knowledge": frozenset({"knowledge"}),
    "admin": frozenset({"conversations", "orders", "knowledge"}),
}
PREFIX = "sfl_"  # recognisable in a leaked log or a secret scanner

metadata = sa.MetaData()
api_tokens = sa.Table(
    "api_tokens",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("name", sa.String(128), nullable=False, unique=True),
    sa.Column("role", sa.String(16), nullable=False),
    sa.Column("sha256", sa.String(64), nullable=False, unique=True),
    sa.Column("hint", sa.String(16), nullable=False),  # the first characters, to tell tokens apart
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
)
MIGRATIONS = [create_tables(api_tokens), unbounded_strings_on_postgresql(api_tokens)]


class TokenError(SouffleurError):
    """A token that cannot be created or used."""


@dataclass(frozen=True)
class ApiToken:
    id: int
    name: str
    role: TokenRole
    hint: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None

    @property
    def scopes(self) -> frozenset[Scope]:
        return SCOPES[self.role]


class TokenStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        migrate(engine, "copilot.apikeys", MIGRATIONS)  # the namespace databases already record

    def create(self, name: str, role: str) -> tuple[ApiToken, str]:
        """A new token: its record and its secret (shown once, never stored)."""
        name = name.strip()
        if not name:
            raise TokenError(
                "A token needs a name.", "Name it after the integration, e.g. chatwoot."
            )
        if role not in TOKEN_ROLES:
            raise TokenError(
                f"Unknown token role '{role}'.", f"Use one of: {', '.join(TOKEN_ROLES)}."
            )
        secret = PREFIX + secrets.token_urlsafe(32)
        with self.engine.begin() as conn:
            taken = conn.execute(
                sa.select(api_tokens.c.id).where(
                    api_tokens.c.name == name, api_tokens.c.revoked_at.is_(None)
                )
            ).first()
            if taken:
                raise TokenError(
                    f"A token named '{name}' already exists.",
                    f"Revoke it first (souffleur tokens revoke {name}) or choose another name.",
                )
            conn.execute(sa.delete(api_tokens).where(api_tokens.c.name == name))  # a revoked one
            conn.execute(
                sa.insert(api_tokens).values(
                    name=name,
                    role=role,
                    sha256=token_digest(secret),
                    hint=secret[: len(PREFIX) + 4],
                    created_at=now(),
                )
            )
        token = self.get(name)
        assert token is not None
        return token, secret

    def get(self, name: str) -> ApiToken | None:
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(api_tokens).where(api_tokens.c.name == name)).mappings()
            first = row.first()
        return _token(first) if first else None

    def list(self) -> list[ApiToken]:
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(api_tokens).order_by(api_tokens.c.name)).mappings()
            return [_token(r) for r in rows]

    def revoke(self, name: str) -> bool:
        with self.engine.begin() as conn:
            done = conn.execute(
                sa.update(api_tokens)
                .where(api_tokens.c.name == name, api_tokens.c.revoked_at.is_(None))
                .values(revoked_at=now())
            ).rowcount
        return bool(done)

    def verify(self, secret: str) -> ApiToken | None:
        """The live token with this secret, or None (unknown, or revoked)."""
        digest = token_digest(secret)
        with self.engine.begin() as conn:
            row = (
                conn.execute(sa.select(api_tokens).where(api_tokens.c.sha256 == digest))
                .mappings()
                .first()
            )
            if row is None or row["revoked_at"] is not None:
                return None
            conn.execute(
                sa.update(api_tokens).where(api_tokens.c.id == row["id"]).values(last_used_at=now())
            )
        return _token(row)


def _token(row: sa.RowMapping) -> ApiToken:
    return ApiToken(
        id=row["id"],
        name=row["name"],
        role=row["role"],
        hint=row["hint"],
        created_at=row["created_at"],
        last_used_at=row["last_used_at"],
        revoked_at=row["revoked_at"],
    )
