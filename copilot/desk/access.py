"""Who may use which page: users, roles, passwords, and the mapping of an SSO identity.

Three roles: ``agent`` (the desk), ``knowledge_manager`` (knowledge, order feed, policy),
``evaluator`` (evals). Analytics shows team-level aggregates only (no customer text, no
per-agent figures), so every role sees it: agents see how their drafts fare, knowledge
managers which escalation reasons dominate, evaluators how live acceptance compares with
offline evals.

Locally the users are :data:`DEFAULT_USERS`, or those of ``<data dir>/users.toml``::

    [users.alice]
    name = "Alice Martin"
    roles = ["agent"]
    email = "alice@example.com"          # optional: matches the SSO identity
    password_hash = "scrypt$16384$8$1$…" # optional; make one with:
    # python -c "from copilot.desk.access import hash_password; print(hash_password('secret'))"

In production, Streamlit's OIDC login (``st.login``) proves the identity instead, and
:func:`user_from_identity` maps its e-mail to a configured user and their roles.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, cast

from knowledge.errors import SouffleurError

Role = Literal["agent", "knowledge_manager", "evaluator"]
ROLES: tuple[Role, ...] = ("agent", "knowledge_manager", "evaluator")
ROLE_LABELS: dict[Role, dict[str, str]] = {
    "agent": {"en": "Agent", "fr": "Agent"},
    "knowledge_manager": {"en": "Knowledge manager", "fr": "Gestionnaire des connaissances"},
    "evaluator": {"en": "Evaluator", "fr": "Évaluateur"},
}
# Page -> the roles that see it, in navigation order; the first allowed page is the default.
PAGES: dict[str, frozenset[Role]] = {
    "desk": frozenset({"agent"}),
    "knowledge": frozenset({"knowledge_manager"}),
    "analytics": frozenset(ROLES),
    "evals": frozenset({"evaluator"}),
}
USERS_FILE = "users.toml"
_SCRYPT = (2**14, 8, 1)  # n, r, p


class AccessError(SouffleurError):
    """Sign-in refused, or a users file that cannot be used."""


@dataclass(frozen=True)
class User:
    username: str
    name: str
    roles: frozenset[Role]
    email: str = ""
    password_hash: str | None = None

    @property
    def needs_password(self) -> bool:
        return bool(self.password_hash)

    def can_see(self, page: str) -> bool:
        return bool(self.roles & PAGES.get(page, frozenset()))


DEFAULT_USERS: tuple[User, ...] = (
    User("alice", "Alice Martin", frozenset({"agent"}), "alice@example.com"),
    User("kim", "Kim Nguyen", frozenset({"knowledge_manager"}), "kim@example.com"),
    User("eve", "Eve Laurent", frozenset({"evaluator"}), "eve@example.com"),
    User("admin", "Admin", frozenset(ROLES), "admin@example.com"),
)


def pages_for(user: User) -> list[str]:
    """The pages this user may open, in navigation order."""
    return [page for page in PAGES if user.can_see(page)]


# -- users ---------------------------------------------------------------------------
def load_users(path: Path | None) -> dict[str, User]:
    """The users of ``path`` (a TOML file), or :data:`DEFAULT_USERS` when there is no file."""
    if path is None or not path.exists():
        return {u.username: u for u in DEFAULT_USERS}
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise AccessError(
            f"{path}: cannot be read as TOML ({exc}).",
            "Fix the file, or delete it to use the default users.",
        ) from exc
    return parse_users(data, str(path))


def parse_users(data: Mapping[str, Any], source: str = "users") -> dict[str, User]:
    table = data.get("users")
    if not isinstance(table, Mapping) or not table:
        raise AccessError(
            f"{source}: has no [users.<name>] tables.",
            'Add at least one user, e.g. [users.alice] with roles = ["agent"].',
        )
    users: dict[str, User] = {}
    for username, entry in table.items():
        if not isinstance(entry, Mapping):
            raise AccessError(
                f"{source}: users.{username} must be a table.",
                "Write it as [users.<name>] with name and roles.",
            )
        roles = entry.get("roles", [])
        if not isinstance(roles, list) or not roles or any(r not in ROLES for r in roles):
            raise AccessError(
                f"{source}: users.{username} has roles {roles!r}.",
                f"Use a non-empty list of: {', '.join(ROLES)}.",
            )
        pw = entry.get("password_hash") or None
        if pw is not None and (not isinstance(pw, str) or not pw.startswith("scrypt$")):
            raise AccessError(
                f"{source}: users.{username}.password_hash is not a salted hash made by Souffleur.",
                "Make one with: python -c \"from copilot.desk.access import hash_password; print(hash_password('…'))\"",
            )
        users[str(username)] = User(
            username=str(username),
            name=str(entry.get("name") or username),
            roles=frozenset(cast("list[Role]", roles)),
            email=str(entry.get("email") or "").strip().lower(),
            password_hash=pw,
        )
    return users


# -- passwords -----------------------------------------------------------------------
def hash_password(password: str, *, salt: bytes | None = None) -> str:
    """A salted scrypt hash, self-describing: ``scrypt$n$r$p$salt$hash`` (base64)."""
    n, r, p = _SCRYPT
    salt = salt or secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=n, r=r, p=p, dklen=32)
    return "$".join(
        [
            "scrypt",
            str(n),
            str(r),
            str(p),
            base64.b64encode(salt).decode(),
            base64.b64encode(digest).decode(),
        ]
    )


def token_digest(token: str) -> str:
    """What is stored of a random token (an API token, a sign-in session): its SHA-256. A
    token of 32 random bytes has nothing to guess, so a fast hash is enough (unlike a password)."""
    return hashlib.sha256(token.encode()).hexdigest()


def verify_password(password: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        expected = base64.b64decode(digest)
        got = hashlib.scrypt(
            password.encode(),
            salt=base64.b64decode(salt),
            n=int(n),
            r=int(r),
            p=int(p),
            dklen=len(expected),
        )
    except ValueError:
        return False
    return hmac.compare_digest(got, expected)


def authenticate(users: Mapping[str, User], username: str, password: str = "") -> User:
    """The user, if the password matches (users without a password need none)."""
    user = users.get(username)
    if user is None:
        raise AccessError(f"There is no user '{username}'.", "Pick a user from the list.")
    if user.password_hash and not verify_password(password, user.password_hash):
        raise AccessError(
            "Wrong password.", "Type it again; an administrator can reset it in users.toml."
        )
    return user


# -- single sign-on ------------------------------------------------------------------
def user_from_identity(users: Mapping[str, User], claims: Mapping[str, Any]) -> User | None:
    """The configured user whose e-mail is the SSO identity's (``st.user``), if any.

    Only a verified e-mail counts when the provider says whether it is verified.
    """
    email = str(claims.get("email") or "").strip().lower()
    if not email or claims.get("email_verified") is False:
        return None
    return next((u for u in users.values() if u.email and u.email == email), None)
