"""Users, roles, salted passwords and the mapping of an SSO identity."""

from __future__ import annotations

from pathlib import Path

import pytest

from copilot.desk.access import (
    AccessError,
    authenticate,
    hash_password,
    load_users,
    pages_for,
    parse_users,
    user_from_identity,
    verify_password,
)


def test_default_users_and_the_pages_of_each_role(tmp_path: Path) -> None:
    users = load_users(tmp_path / "users.toml")  # no file: the defaults
    assert {u: pages_for(users[u]) for u in users} == {
        "alice": ["desk", "analytics"],
        "kim": ["knowledge", "analytics"],
        "eve": ["analytics", "evals"],
        "admin": ["desk", "knowledge", "analytics", "evals"],
    }
    assert authenticate(users, "alice").username == "alice"  # no password configured: none needed
    assert not users["kim"].can_see("desk")


def test_passwords_are_salted_hashes() -> None:
    stored = hash_password("s3cret")
    assert stored.startswith("scrypt$") and "s3cret" not in stored
    assert stored != hash_password("s3cret")  # another salt
    assert verify_password("s3cret", stored) and not verify_password("S3cret", stored)
    assert not verify_password("s3cret", "garbage") and not verify_password(
        "s3cret", "md5$1$2$3$4$5"
    )


def test_users_file_with_passwords(tmp_path: Path) -> None:
    path = tmp_path / "users.toml"
    path.write_text(
        f"""
[users.nora]
name = "Nora Petit"
roles = ["agent", "evaluator"]
email = "Nora@Example.com"
password_hash = "{hash_password("pw")}"

[users.kim]
roles = ["knowledge_manager"]
""",
        encoding="utf-8",
    )
    users = load_users(path)
    assert set(users) == {"nora", "kim"} and users["kim"].name == "kim"
    assert pages_for(users["nora"]) == ["desk", "analytics", "evals"]
    assert authenticate(users, "nora", "pw").name == "Nora Petit"
    with pytest.raises(AccessError, match="Wrong password"):
        authenticate(users, "nora", "nope")
    with pytest.raises(AccessError, match="no user 'alice'"):
        authenticate(users, "alice")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[users.x]\nroles = ['boss']\n", "Use a non-empty list of: agent"),
        ("[users.x]\nroles = []\n", "non-empty list"),
        ("[users.x]\nroles = ['agent']\npassword_hash = 'plain'\n", "salted hash"),
        ("title = 'no users'\n", "no \\[users"),
        ("[users.x\n", "cannot be read as TOML"),
    ],
)
def test_a_bad_users_file_says_what_to_fix(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "users.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(AccessError, match=message):
        load_users(path)


def test_sso_identity_maps_to_a_configured_user_by_email() -> None:
    users = parse_users(
        {"users": {"kim": {"roles": ["knowledge_manager"], "email": "kim@example.com"}}}
    )
    assert (
        user_from_identity(users, {"is_logged_in": True, "email": "KIM@example.com"})
        == users["kim"]
    )
    assert user_from_identity(users, {"email": "kim@example.com", "email_verified": False}) is None
    assert user_from_identity(users, {"email": "mallory@example.com"}) is None
    assert user_from_identity(users, {"name": "no email"}) is None
