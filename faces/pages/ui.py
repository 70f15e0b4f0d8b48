"""What every page shares: the cached workspace, the signed-in user, UI strings, safe text.

Layout helpers only; every decision is a call into ``copilot`` or ``knowledge``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import streamlit as st

from copilot import Settings, Workspace, load_settings, open_workspace
from copilot.channels.integrations import Integrations, connect
from copilot.desk.access import (
    DEFAULT_USERS,
    ROLE_LABELS,
    USERS_FILE,
    User,
    load_users,
    user_from_identity,
)
from copilot.desk.accounts import Accounts
from copilot.desk.desk import Desk
from faces.pages import strings_en, strings_fr

# -- UI strings: one table per language, English and French (SOUFFLEUR_UI_LANG=fr) ------
STRINGS: dict[str, dict[str, str]] = {"en": strings_en.STRINGS, "fr": strings_fr.STRINGS}

BadgeColor = Literal["red", "orange", "yellow", "blue", "green", "violet", "gray"]
BAND_COLORS: dict[str, BadgeColor] = {
    "fast": "green",
    "warning": "orange",
    "late": "red",
    "answered": "gray",
}
LANG_NAMES = {"en": {"fr": "French", "en": "English"}, "fr": {"fr": "français", "en": "anglais"}}


# -- text that comes from customers or documents -------------------------------------
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|~<>$:=&^\"'])")
_LINE_BREAK = re.compile(
    r"(?<!\n)\n(?!\n)"
)  # a single newline: a hard break; blank lines stay paragraphs


def md_text(text: str) -> str:
    """``text`` escaped for ``st.markdown``: shown exactly as typed, never as markup.

    Every Markdown/HTML-significant ASCII character gets a backslash (CommonMark renders an
    escaped punctuation character literally), so ``<script>``, ``![x](http://…)`` images,
    ``$…$`` LaTeX and ``:red[…]`` directives all come out as plain text; line breaks stay.
    """
    return _LINE_BREAK.sub("  \n", _MD_SPECIAL.sub(r"\\\1", text.replace("\r\n", "\n")))


def safe_url(url: str | None) -> str | None:
    """An http(s) URL that can sit inside a Markdown link, else None."""
    if url and re.fullmatch(r"https?://[^\s()<>\[\]\"'`]+", url):
        return url
    return None


def fmt_wait(seconds: float | None, t: Callable[[str], str]) -> str:
    if seconds is None:
        return t("answered")
    s = int(max(seconds, 0))
    if s >= 3600:
        return f"{s // 3600} h {s % 3600 // 60:02d}"
    return f"{s // 60}:{s % 60:02d}"


# -- the workspace, once per process and per configuration ---------------------------
@dataclass
class Services:
    settings: Settings
    ws: Workspace
    desk: Desk
    links: Integrations
    accounts: Accounts


@st.cache_resource(show_spinner="Opening the workspace…", max_entries=4)
def _services(key: str, _settings: Settings) -> Services:
    """Keyed on the settings: a test (or a reconfigured process) never reuses another data dir."""
    ws = open_workspace(_settings)
    desk = Desk(ws)
    # a reply sent from this desk reaches the customer: Chatwoot, the webhook (the outbox
    # worker of this process sends it; `souffleur serve` may run another on the same database)
    links = connect(desk, _settings)
    links.start()
    return Services(_settings, ws, desk, links, Accounts(ws.engine))


def services() -> Services:
    settings = load_settings()
    return _services(settings.model_dump_json(), settings)


# -- who is there --------------------------------------------------------------------
def oidc_configured() -> bool:
    """True when ``.streamlit/secrets.toml`` has an ``[auth]`` section (``st.login`` works)."""
    try:
        return bool(st.secrets.load_if_toml_exists() and "auth" in st.secrets)
    except (FileNotFoundError, KeyError):
        return False


@dataclass(frozen=True)
class Roster:
    """Who may sign in, and from where: the accounts made with `souffleur users add`, else a
    users.toml file, else (demo mode only) the one-click demo users, else nobody yet."""

    users: dict[str, User]
    source: Literal["accounts", "file", "demo", "none"]


def roster(svc: Services) -> Roster:
    made = svc.accounts.users()
    if made:
        return Roster(made, "accounts")
    path = svc.settings.data_dir / USERS_FILE
    if path.exists():
        return Roster(load_users(path), "file")
    if svc.settings.demo_users:
        return Roster({u.username: u for u in DEFAULT_USERS}, "demo")
    return Roster({}, "none")


def users(svc: Services) -> dict[str, User]:
    return roster(svc).users


def current_user(known: dict[str, User]) -> User | None:
    """The signed-in user, or None.

    With OIDC configured, the identity comes from ``st.user`` (``st.login``) and is mapped to
    a configured user by e-mail; otherwise from the local sign-in kept in the session.
    """
    if oidc_configured():
        if not st.user.is_logged_in:
            return None
        return user_from_identity(known, st.user.to_dict())
    name = st.session_state.get("user")
    return known.get(name) if isinstance(name, str) else None


# -- per-run context for the pages ---------------------------------------------------
@dataclass
class Context:
    settings: Settings
    ws: Workspace
    desk: Desk
    user: User
    lang: str

    def t(self, key: str, **values: Any) -> str:
        return translate(self.lang, key, **values)


def context() -> Context:
    """What a page needs; a page opened without a signed-in user stops with a notice."""
    svc = services()
    user = current_user(users(svc))
    lang = svc.settings.ui_lang
    if user is None:
        st.info(STRINGS[lang]["sign_in_intro"])
        st.stop()
    return Context(svc.settings, svc.ws, svc.desk, user, lang)


def translate(lang: str, key: str, **values: Any) -> str:
    """The UI string ``key`` in ``lang`` (English when missing), formatted with ``values``."""
    text = STRINGS.get(lang, STRINGS["en"]).get(key) or STRINGS["en"].get(key, key)
    return text.format(**values) if values else text


def role_names(user: User, lang: str) -> str:
    return ", ".join(
        ROLE_LABELS[r][lang if lang in ("en", "fr") else "en"] for r in sorted(user.roles)
    )
