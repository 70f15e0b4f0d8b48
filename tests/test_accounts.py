"""Real sign-in: users made with `souffleur users add` (Argon2id hashes), lockout after repeated
failures, sessions that survive a reload and end at sign-out, and demo users only in demo mode."""

from __future__ import annotations

import io
import shutil
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from copilot.desk.access import AccessError
from copilot.desk.accounts import LOCKOUT, MAX_FAILURES, SESSION_TTL, Accounts
from faces.cli import main
from knowledge import make_engine
from knowledge.db import now

APP = str(Path(__file__).resolve().parents[1] / "app.py")
PASSWORD = "correct horse battery"


@pytest.fixture
def accounts(tmp_path: Path) -> Accounts:
    return Accounts(make_engine(f"sqlite:///{tmp_path / 'a.db'}"))


def test_passwords_are_stored_as_argon2id_hashes(accounts: Accounts) -> None:
    user = accounts.add("nadia", roles=["agent", "knowledge"], password=PASSWORD, name="Nadia B")
    assert user.roles == {"agent", "knowledge_manager"}
    assert user.password_hash is not None and user.password_hash.startswith("$argon2id$")
    assert PASSWORD not in user.password_hash
    assert accounts.authenticate("nadia", PASSWORD).username == "nadia"
    admin = accounts.add("root", roles=["admin"], password=PASSWORD)
    assert admin.roles == {"agent", "knowledge_manager", "evaluator"}


@pytest.mark.parametrize(
    ("username", "roles", "password", "problem"),
    [
        ("bad name!", ["agent"], PASSWORD, "not a usable user name"),
        ("bob", ["boss"], PASSWORD, "Unknown role"),
        ("bob", ["agent"], "short", "shorter than"),
    ],
)
def test_bad_new_users_are_refused_with_the_fix(
    accounts: Accounts, username: str, roles: list[str], password: str, problem: str
) -> None:
    with pytest.raises(AccessError, match=problem) as exc:
        accounts.add(username, roles=roles, password=password)
    assert exc.value.fix
    assert accounts.users() == {}


def test_wrong_passwords_lock_the_account_then_it_opens_again(accounts: Accounts) -> None:
    accounts.add("nadia", roles=["agent"], password=PASSWORD)
    t = now()
    for _ in range(MAX_FAILURES):
        with pytest.raises(AccessError, match="Wrong user name or password"):
            accounts.authenticate("nadia", "guess-guess-guess", at=t)
    with pytest.raises(AccessError, match="locked") as exc:
        accounts.authenticate("nadia", PASSWORD, at=t + timedelta(minutes=1))
    assert "souffleur users unlock nadia" in exc.value.fix
    # after the lockout, the right password works again
    assert accounts.authenticate("nadia", PASSWORD, at=t + LOCKOUT + timedelta(seconds=1))
    # and an unknown user gets the same message as a wrong password
    with pytest.raises(AccessError, match="Wrong user name or password"):
        accounts.authenticate("nobody", PASSWORD)


def test_unlock_lifts_a_lockout(accounts: Accounts) -> None:
    accounts.add("nadia", roles=["agent"], password=PASSWORD)
    for _ in range(MAX_FAILURES):
        with pytest.raises(AccessError):
            accounts.authenticate("nadia", "nope-nope-nope")
    with pytest.raises(AccessError, match="locked"):
        accounts.authenticate("nadia", PASSWORD)
    assert accounts.unlock("nadia")
    assert accounts.authenticate("nadia", PASSWORD).username == "nadia"


def test_sessions_expire_end_at_sign_out_and_at_a_new_password(accounts: Accounts) -> None:
    accounts.add("nadia", roles=["agent"], password=PASSWORD)
    t = now()
    token = accounts.open_session("nadia", at=t)
    assert accounts.session_user(token, at=t) == "nadia"
    assert accounts.session_user(token, at=t + SESSION_TTL + timedelta(seconds=1)) is None
    assert accounts.session_user("forged-token") is None
    accounts.close_session(token)
    assert accounts.session_user(token) is None
    other = accounts.open_session("nadia")
    accounts.set_password("nadia", "another long password")
    assert accounts.session_user(other) is None


def test_the_cli_manages_users(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("SOUFFLEUR_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setattr("sys.stdin", io.StringIO(PASSWORD + "\n"))
    assert (
        main(["users", "add", "nadia", "--role", "agent", "--name", "Nadia B", "--password-stdin"])
        == 0
    )
    assert "added nadia (agent)" in capsys.readouterr().out
    assert main(["users", "list"]) == 0
    assert "Nadia B" in capsys.readouterr().out
    monkeypatch.setattr("sys.stdin", io.StringIO("short\n"))
    assert main(["users", "add", "bob", "--role", "agent", "--password-stdin"]) == 2
    assert "shorter than" in capsys.readouterr().err
    assert main(["users", "remove", "nadia"]) == 0
    assert main(["users", "remove", "nadia"]) == 2


# -- the app --------------------------------------------------------------------------------
@pytest.fixture
def production(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Accounts]:
    """A workspace outside demo mode, with one agent account."""
    data = tmp_path / "data"
    monkeypatch.setenv("SOUFFLEUR_DATA_DIR", str(data))
    monkeypatch.setenv("SOUFFLEUR_EMBEDDER", "hash")
    monkeypatch.setenv("SOUFFLEUR_DEMO_USERS", "false")
    monkeypatch.delenv("SOUFFLEUR_LLM_BASE_URL", raising=False)
    data.mkdir()
    st.cache_resource.clear()
    yield Accounts(make_engine(f"sqlite:///{(data / 'souffleur.db').resolve()}"))
    st.cache_resource.clear()
    shutil.rmtree(data, ignore_errors=True)


def _sign_in(at: AppTest, name: str, password: str) -> AppTest:
    at.text_input(key="sign_in_user").set_value(name)
    at.text_input(key="sign_in_password").set_value(password)
    return at.button[0].click().run()


def test_without_users_the_sign_in_page_says_how_to_make_one(production: Accounts) -> None:
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert not at.exception
    assert any("souffleur users add NAME --role admin" in w.value for w in at.warning)
    assert not at.selectbox  # no one-click demo users outside demo mode


def test_a_password_sign_in_survives_a_reload_until_sign_out(production: Accounts) -> None:
    production.add("nadia", roles=["agent"], password=PASSWORD, name="Nadia B")
    at = AppTest.from_file(APP, default_timeout=60).run()
    at = _sign_in(at, "nadia", "wrong password!")
    assert any("Wrong user name or password" in e.value for e in at.error)
    assert "user" not in at.session_state
    at = _sign_in(at, "nadia", PASSWORD)
    assert not at.exception, [e.value for e in at.exception]
    assert at.session_state["user"] == "nadia"
    kept = at.query_params["session"]
    token = kept if isinstance(kept, str) else kept[0]
    assert production.session_user(token) == "nadia"

    # a reload: a new browser session with the same address is still signed in
    again = AppTest.from_file(APP, default_timeout=60)
    again.query_params["session"] = token
    again.run()
    assert again.session_state["user"] == "nadia"
    assert any("Nadia B" in c.value for c in again.sidebar.caption)

    # signing out ends the session: the same address now shows the sign-in page
    again.sidebar.button(key="sign_out").click().run()
    assert production.session_user(token) is None
    third = AppTest.from_file(APP, default_timeout=60)
    third.query_params["session"] = token
    third.run()
    assert "user" not in third.session_state
    assert third.text_input(key="sign_in_password")
