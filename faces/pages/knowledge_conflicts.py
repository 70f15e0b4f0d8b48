"""Knowledge: the conflicts between documents (under the Documents tab). Both statements side
by side, and the decision: keep the new one, the old one, or both with their scopes; a
decided pair can be reopened."""

from __future__ import annotations

import streamlit as st

from faces.pages import ui
from faces.pages.ui import md_text as md
from knowledge import SouffleurError
from knowledge.conflicts import StoredConflict

S = st.session_state


def decide_conflict(ctx: ui.Context, conflict_id: int) -> None:
    keep = str(S.get(f"conflict_keep_{conflict_id}") or "")
    try:
        c = ctx.ws.kb.conflicts.decide(
            conflict_id,
            keep,
            new_scope=str(S.get(f"conflict_scope_new_{conflict_id}") or ""),
            old_scope=str(S.get(f"conflict_scope_old_{conflict_id}") or ""),
            actor=ctx.user.username,
        )
    except SouffleurError as exc:
        S["conflict_notice"] = ("error", str(exc))
        return
    S["conflict_notice"] = ("success", f"#{c.id}: {decision(ctx, c)}.")


def decision(ctx: ui.Context, c: StoredConflict) -> str:
    """A decided pair's decision, as the page says it."""
    t = ctx.t
    return {
        "kept_new": t("knowledge_kept", title=c.new_title),
        "kept_old": t("knowledge_kept", title=c.old_title),
        "kept_both": t(
            "knowledge_kept_both",
            new_value=c.new_value,
            new_scope=c.new_scope,
            old_value=c.old_value,
            old_scope=c.old_scope,
        ),
    }[c.status]


def reopen_conflict(ctx: ui.Context, conflict_id: int) -> None:
    try:
        ctx.ws.kb.conflicts.reopen(conflict_id)
    except SouffleurError as exc:
        S["conflict_notice"] = ("error", str(exc))
    else:
        S["conflict_notice"] = (
            "success",
            ctx.t("knowledge_reopened", conflict_id=conflict_id),
        )


def show_conflict(ctx: ui.Context, c: StoredConflict) -> None:
    """Both statements side by side, and the decision."""
    t = ctx.t
    with st.container(border=True):
        new, old = st.columns(2)
        new.markdown(
            md(f"**{t('knowledge_conflict_new')} · {c.new_title}** — {c.new_value}")
            + "\n\n> "
            + md(c.new_sentence)
        )
        old.markdown(
            md(f"**{t('knowledge_conflict_existing')} · {c.old_title}** — {c.old_value}")
            + "\n\n> "
            + md(c.old_sentence)
        )
        if not c.is_open:
            by = f" ({c.decided_by})" if c.decided_by else ""
            st.caption(md(f"#{c.id}: {decision(ctx, c)}{by}"))
            st.button(
                t("knowledge_reopen"),
                key=f"conflict_reopen_{c.id}",
                on_click=reopen_conflict,
                args=(ctx, c.id),
            )
            return
        keep = st.radio(
            t("knowledge_drafts_should_use"),
            ["new", "old", "both"],
            format_func=lambda k: {
                "new": t("knowledge_keep_one", value=c.new_value, title=c.new_title),
                "old": t("knowledge_keep_one", value=c.old_value, title=c.old_title),
                "both": t("knowledge_keep_both"),
            }[k],
            key=f"conflict_keep_{c.id}",
            horizontal=True,
        )
        if keep == "both":
            a, b = st.columns(2)
            a.text_input(
                t("knowledge_holds_for", value=c.new_value),
                key=f"conflict_scope_new_{c.id}",
                placeholder=t("knowledge_scope_new_placeholder"),
            )
            b.text_input(
                t("knowledge_holds_for", value=c.old_value),
                key=f"conflict_scope_old_{c.id}",
                placeholder=t("knowledge_scope_old_placeholder"),
            )
        st.button(
            t("knowledge_decide"),
            key=f"conflict_decide_{c.id}",
            type="primary",
            on_click=decide_conflict,
            args=(ctx, c.id),
        )


def conflicts_section(ctx: ui.Context) -> None:
    t, kb = ctx.t, ctx.ws.kb
    kb.conflicts.prune(kb)
    everything = kb.conflicts.all()
    open_ = [c for c in everything if c.is_open]
    decided = [c for c in everything if c.status.startswith("kept_")]
    if not open_ and not decided:
        return
    st.subheader(t("knowledge_conflicts_title"))
    notice = S.pop("conflict_notice", None)
    if notice:
        (st.success if notice[0] == "success" else st.error)(md(notice[1]))
    if open_:
        st.caption(t("knowledge_conflicts_to_decide", n=len(open_)))
    for c in open_:
        show_conflict(ctx, c)
    if decided:
        with st.expander(t("knowledge_decided", n=len(decided))):
            for c in decided:
                show_conflict(ctx, c)
