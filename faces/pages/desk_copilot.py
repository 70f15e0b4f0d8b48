"""Agent desk: the copilot panel in the sidebar. It shows the last action's notice, gets the
draft (streamed while an LLM writes it), then shows the suggestion, or, without a draft, the
reply typed by hand after a discard and the way to the next conversation."""

from __future__ import annotations

import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from copilot.desk.desk import DeskView
from copilot.desk.store import ConversationRecord, DraftRecord
from faces.pages import ui
from faces.pages.desk_actions import options, regenerate_button, send_button
from faces.pages.desk_suggestion import suggestion_panel
from faces.pages.ui import md_text as md

S = st.session_state


def copilot_panel(ctx: ui.Context, cid: str) -> None:
    last_notice(ctx)
    view = ctx.desk.view(cid)
    stream = st.empty()  # the reply so far, while an LLM streams it
    discarded = ctx.desk.discarded(cid)
    draft = current_draft(ctx, cid, view, stream, discarded=discarded)
    stream.empty()
    if draft is None:
        no_draft(ctx, cid, view.conversation, discarded=discarded)
        return
    suggestion_panel(ctx, cid, draft)


def last_notice(ctx: ui.Context) -> None:
    """What the last action did (sent, escalated, discarded, or why not: its text kept)."""
    notice = S.pop("notice", None)
    if notice:
        kind, text, unsent = notice
        {"success": st.success, "info": st.info, "error": st.error}.get(kind, st.warning)(md(text))
        if unsent:
            with st.expander(ctx.t("unsent"), expanded=True):
                st.code(unsent, language=None, wrap_lines=True)


def current_draft(
    ctx: ui.Context, cid: str, view: DeskView, stream: DeltaGenerator, *, discarded: bool
) -> DraftRecord | None:
    """A new draft when one was asked for, a draft for an open conversation that has none
    (unless the agent discarded it), else the stored one."""
    t, desk = ctx.t, ctx.desk

    def show_stream(text: str) -> None:
        stream.text(text)

    if S.get("regenerate") == cid:
        S.pop("regenerate")
        with st.spinner(t("drafting")):
            return desk.regenerate(cid, options(ctx, cid), on_delta=show_stream)
    if view.conversation.status == "open" and not discarded:
        with st.spinner(t("drafting")):
            return desk.ensure_draft(cid, options(ctx, cid), on_delta=show_stream)
    return view.draft


def no_draft(ctx: ui.Context, cid: str, rec: ConversationRecord, *, discarded: bool) -> None:
    last = rec.messages[-1] if rec.messages else None
    if discarded and last is not None:
        reply_by_hand(ctx, cid, f"reply_{cid}_{last.id}")
    elif rec.status != "escalated":
        st.caption(ctx.t("no_draft"))
    next_conversation(ctx, cid)


def reply_by_hand(ctx: ui.Context, cid: str, key: str) -> None:
    """After a discard: a reply typed by hand, or a new draft on request."""
    t = ctx.t
    st.info(t("discarded_note"))
    st.text_area(t("your_reply"), key=key, height=200)
    row = st.container(horizontal=True)
    send_button(row, ctx, cid, key, type="primary")
    regenerate_button(row, ctx, cid)


def next_conversation(ctx: ui.Context, cid: str) -> None:
    next_up = next(
        (
            r.conversation_id
            for r in ctx.desk.inbox()
            if r.waiting_s is not None and r.conversation_id != cid
        ),
        None,
    )
    if next_up:
        st.button(
            ctx.t("next_conversation"),
            key="next",
            icon=":material/arrow_forward:",
            on_click=S.__setitem__,
            args=("conversation", next_up),
        )
