"""Agent desk: the inbox, the conversation and the customer card; the copilot in the sidebar.

Every action is a :class:`copilot.desk.desk.Desk` call. Actions run in button callbacks, before
the script reruns, with the conversation version this session last showed: a change made
meanwhile by another window raises ``ConflictError`` and shows a notice instead of
overwriting it. The draft being edited is autosaved at every rerun.

The page's parts: ``desk_inbox`` (the inbox, a new conversation), ``desk_conversation`` (the
messages, the customer card), ``desk_copilot`` (the sidebar panel), ``desk_suggestion`` (the
draft and what the copilot advises) and ``desk_actions`` (what its buttons do).
"""

from __future__ import annotations

import streamlit as st

from faces.pages import ui
from faces.pages.desk_conversation import conversation_panel, customer_card
from faces.pages.desk_copilot import copilot_panel
from faces.pages.desk_inbox import inbox_head, inbox_panel, inbox_rows, new_conversation

ctx = ui.context()
t, desk, S = ctx.t, ctx.desk, st.session_state

rows = inbox_rows(ctx)
cid = S.get("conversation")
if not cid or not desk.store.exists(cid):
    cid = rows[0].conversation_id if rows else None
    S["conversation"] = cid

left, main, right = st.columns([1.05, 2.0, 1.15], gap="medium")
with left:
    inbox_head(ctx)
    # outside the refreshing fragments, so a half-typed message is never redrawn
    new_conversation(ctx)
    st.toggle(t("show_answered"), key="show_answered")
    inbox_panel(ctx)
if cid is None:
    main.info(t("select_conversation"))
else:
    with main:
        conversation_panel(ctx, cid)
    with right:
        view = desk.view(cid)
        customer_card(ctx, view.customer, view.orders, view.conversation.channel)
with st.sidebar:
    st.header(t("copilot"), divider="violet")
    if cid is None:
        st.caption(t("select_conversation"))
    else:
        copilot_panel(ctx, cid)
