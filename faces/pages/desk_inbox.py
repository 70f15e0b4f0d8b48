"""Agent desk: the inbox (refreshed every 10 s so the waiting timers move) and the form that
starts a new conversation."""

from __future__ import annotations

import streamlit as st

from copilot.desk.desk import InboxRow
from faces.pages import ui
from faces.pages.ui import md_text as md

S = st.session_state
CHANNELS = ("web", "whatsapp", "messenger", "sms", "email")


def inbox_rows(ctx: ui.Context) -> list[InboxRow]:
    return ctx.desk.inbox(waiting_only=not S.get("show_answered", False))


@st.fragment(run_every=10)
def inbox_head(ctx: ui.Context) -> None:
    t = ctx.t
    head = st.container(horizontal=True, vertical_alignment="center")
    head.subheader(t("inbox"))
    head.badge(t("open_count", n=len(inbox_rows(ctx))), color="gray")  # counted at each refresh


@st.fragment(run_every=10)
def inbox_panel(ctx: ui.Context) -> None:
    t = ctx.t
    rows = inbox_rows(ctx)
    if not rows:
        st.info(t("inbox_empty"))
        return
    with st.container(height=620, border=False):
        for row in rows:
            selected = row.conversation_id == S.get("conversation")
            with st.container(border=True, gap="xsmall"):
                top = st.container(horizontal=True, vertical_alignment="center", gap="small")
                top.badge(
                    ui.fmt_wait(row.waiting_s, t),
                    color=ui.BAND_COLORS.get(row.band, "gray"),
                    icon=":material/schedule:",
                )
                clicked = top.button(
                    md(row.customer_name),
                    key=f"open_{row.conversation_id}",
                    type="primary" if selected else "tertiary",
                    help=row.conversation_id,
                )
                st.caption(f"{md(row.channel)} · {md(row.preview)}")
            if clicked:
                S["conversation"] = row.conversation_id
                st.rerun()


def new_conversation(ctx: ui.Context) -> None:
    t = ctx.t
    with (
        st.popover(t("new_conversation"), icon=":material/add_comment:", width="stretch"),
        st.form("new_conversation", border=False),
    ):
        customers = {c.customer_id: c for c in ctx.ws.orders.customers()}
        customer_id = st.selectbox(
            t("customer"),
            [None, *customers],
            format_func=lambda c: t("visitor") if c is None else f"{customers[c].name} ({c})",
            key="new_customer",
        )
        channel = st.selectbox(t("channel"), CHANNELS, key="new_channel")
        text = st.text_area(t("first_message"), key="new_text", height=100)
        if st.form_submit_button(t("start"), type="primary"):
            if not str(text or "").strip():
                st.error(t("first_message") + " ?")
                return
            S["conversation"] = ctx.desk.new_conversation(customer_id, str(text), channel=channel)
            st.rerun()
