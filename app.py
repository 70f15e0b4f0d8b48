"""Souffleur's Streamlit app: sign-in, then the pages of the user's roles.

Layout and session state only; the pages live in ``app_pages/`` and call into the packages.
Run it with ``make run`` (``streamlit run app.py``).
"""

from __future__ import annotations

import streamlit as st

from app_pages import ui
from copilot.access import PAGES as PAGE_NAMES
from copilot.access import AccessError, authenticate, pages_for
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


def sign_in() -> None:
    """The sign-in page: SSO when configured, else a pick-your-user form."""
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
        known = ui.users(svc.settings)
    except AccessError as exc:
        st.error(ui.md_text(str(exc)))
        return
    with st.form("sign_in", border=True, width=420):
        st.markdown(T(lang, "sign_in_intro"))
        name = st.selectbox(
            T(lang, "user"),
            list(known),
            format_func=lambda u: f"{known[u].name} — {ui.role_names(known[u], lang)}",
            key="sign_in_user",
        )
        needs_password = any(u.needs_password for u in known.values())
        password = (
            st.text_input(T(lang, "password"), type="password", key="sign_in_password")
            if needs_password
            else ""
        )
        if st.form_submit_button(T(lang, "sign_in"), type="primary"):
            try:
                st.session_state["user"] = authenticate(known, str(name), password or "").username
            except AccessError as exc:
                st.error(ui.md_text(str(exc)))
            else:
                st.rerun()


try:
    user = ui.current_user(ui.users(svc.settings))
except AccessError as exc:
    user = None
    st.error(ui.md_text(str(exc)))

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

PAGES = {
    "desk": st.Page(
        "app_pages/desk.py",
        title=T(lang, "page_desk"),
        icon=":material/support_agent:",
        url_path="desk",
    ),
    "knowledge": st.Page(
        "app_pages/knowledge.py",
        title=T(lang, "page_knowledge"),
        icon=":material/library_books:",
        url_path="knowledge",
    ),
    "analytics": st.Page(
        "app_pages/analytics.py",
        title=T(lang, "page_analytics"),
        icon=":material/insights:",
        url_path="analytics",
    ),
    "evals": st.Page(
        "app_pages/evals.py",
        title=T(lang, "page_evals"),
        icon=":material/science:",
        url_path="evals",
    ),
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
        st.session_state.clear()  # the local sign-in and this session's UI state
        st.rerun()
