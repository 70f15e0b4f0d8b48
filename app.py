"""Souffleur's Streamlit app: sign-in, then the pages of the user's roles.

Layout and session state only; the pages live in ``faces/pages/`` and call into the packages.
Run it with ``make run`` (``streamlit run app.py``).
"""

from __future__ import annotations

import streamlit as st

from copilot.config import unknown_variables
from copilot.desk.access import PAGES as PAGE_NAMES
from copilot.desk.access import AccessError, authenticate, pages_for
from faces.pages import ui
from knowledge import SouffleurError

st.set_page_config(
    page_title="Souffleur",
    page_icon=":material/theater_comedy:",
    layout="wide",
    initial_sidebar_state=460,
)

try:
    svc = ui.services()
except SouffleurError as exc:  # e.g. an index built with another embedder: the message says the fix
    st.error(ui.md_text(str(exc)), icon=":material/error:")
    st.stop()
lang = svc.settings.ui_lang
T = ui.translate
for line in unknown_variables():  # a mistyped setting is said, not silently ignored
    st.warning(ui.md_text(line), icon=":material/warning:")


SESSION = "session"  # the query parameter that keeps a sign-in across reloads


def signed_in_as(username: str) -> None:
    """Open a session (kept in the page's address: a reload stays signed in)."""
    token = svc.accounts.open_session(username)
    st.session_state["user"] = username
    st.session_state["session_token"] = token
    st.query_params[SESSION] = token


def sign_in() -> None:
    """The sign-in page: SSO when configured, else user name and password (or, in demo mode
    only, the one-click demo users)."""
    st.title("Souffleur")
    st.caption(T(lang, "tagline"))
    if ui.oidc_configured():
        if st.user.is_logged_in:
            st.warning(ui.md_text(T(lang, "sso_unknown", email=str(st.user.get("email") or "?"))))
            if st.button(T(lang, "sign_out")):
                st.logout()
        elif st.button(T(lang, "sso_sign_in"), type="primary"):
            st.login()
        return
    try:
        roster = ui.roster(svc)
    except AccessError as exc:
        st.error(ui.md_text(str(exc)))
        return
    known = roster.users
    if roster.source == "none":
        st.warning(T(lang, "no_users"), icon=":material/person_add:")
        return
    with st.form("sign_in", border=True, width=420):
        if roster.source == "demo":
            st.info(T(lang, "demo_users"), icon=":material/science:")
            name = st.selectbox(
                T(lang, "user"),
                list(known),
                format_func=lambda u: f"{known[u].name} — {ui.role_names(known[u], lang)}",
                key="sign_in_user",
            )
            password = ""
        else:
            st.markdown(T(lang, "sign_in_intro"))
            name = st.text_input(T(lang, "user"), key="sign_in_user")
            password = st.text_input(T(lang, "password"), type="password", key="sign_in_password")
        if st.form_submit_button(T(lang, "sign_in"), type="primary"):
            try:
                if roster.source == "accounts":
                    user = svc.accounts.authenticate(str(name or "").strip(), password or "")
                else:
                    user = authenticate(known, str(name or "").strip(), password or "")
            except AccessError as exc:
                st.error(ui.md_text(str(exc)))
            else:
                signed_in_as(user.username)
                st.rerun()


try:
    known_users = ui.users(svc)
    if not ui.oidc_configured() and "user" not in st.session_state:
        token = st.query_params.get(SESSION)
        name = svc.accounts.session_user(token) if token else None
        if name in known_users:  # a reload, or a link opened again: the session goes on
            st.session_state["user"] = name
            st.session_state["session_token"] = token
    user = ui.current_user(known_users)
except AccessError as exc:
    user = None
    st.error(ui.md_text(str(exc)))

if user is not None and not ui.oidc_configured():
    token = st.session_state.get("session_token")
    if token is None:  # signed in some other way (tests set the user): give it a session
        signed_in_as(user.username)
    elif st.query_params.get(SESSION) != token:
        st.query_params[SESSION] = token  # switching pages drops query parameters

if user is None:
    # Every page path leads to the sign-in form, so a deep link opens its page after sign-in.
    gate = [
        st.Page(
            sign_in,
            title=T(lang, "sign_in"),
            icon=":material/login:",
            url_path="sign-in",
            default=True,
        )
    ]
    gate += [st.Page(sign_in, title=T(lang, f"page_{name}"), url_path=name) for name in PAGE_NAMES]
    st.navigation(gate, position="hidden").run()
    st.stop()

ICONS = {
    "desk": ":material/support_agent:",
    "knowledge": ":material/library_books:",
    "analytics": ":material/insights:",
    "evals": ":material/science:",
}
PAGES = {
    name: st.Page(f"faces/pages/{name}.py", title=T(lang, f"page_{name}"), icon=icon, url_path=name)
    for name, icon in ICONS.items()
}
allowed = [PAGES[name] for name in pages_for(user)]
if not allowed:
    st.warning(T(lang, "no_pages"))
    st.stop()
page = st.navigation(allowed, position="top")
page.run()
with st.sidebar:
    st.divider()
    st.caption(ui.md_text(f"{user.name} · {ui.role_names(user, lang)}"))
    if st.button(T(lang, "sign_out"), key="sign_out", icon=":material/logout:", type="tertiary"):
        if ui.oidc_configured():
            st.logout()
        token = st.session_state.get("session_token")
        if token:
            svc.accounts.close_session(token)  # the address's session no longer signs anyone in
        st.query_params.clear()
        st.session_state.clear()  # the local sign-in and this session's UI state
        st.rerun()
