"""Knowledge: the escalation-policy tab. The policy's YAML, validated when saved (a broken one
is refused and the previous one stays), its history with restore, and the active triggers."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from copilot.pipeline.escalation import Policy, PolicyError
from faces.pages import ui
from faces.pages.ui import md_text as md
from knowledge import SouffleurError

S = st.session_state


def save_policy(ctx: ui.Context) -> None:
    try:
        policy = ctx.ws.policies.save(str(S.get("policy_text") or ""), author=ctx.user.username)
    except PolicyError as exc:
        S["policy_notice"] = ("error", str(exc))
    else:
        S["policy_notice"] = (
            "success",
            ctx.t("knowledge_policy_saved", triggers=len(policy.model.triggers)),
        )


def revert_policy(ctx: ui.Context) -> None:
    S["policy_text"] = ctx.ws.policies.text()
    S.pop("policy_notice", None)


def restore_policy(ctx: ui.Context) -> None:
    version = int(S.get("policy_version") or 0)
    try:
        policy = ctx.ws.policies.restore(version, author=ctx.user.username)
    except SouffleurError as exc:
        S["policy_notice"] = ("error", str(exc))
        return
    S["policy_text"] = ctx.ws.policies.text()
    S["policy_notice"] = (
        "success",
        ctx.t("knowledge_policy_restored", version=version, triggers=len(policy.model.triggers)),
    )


def policy_tab(ctx: ui.Context) -> None:
    policy = ctx.ws.policies.current()
    policy_editor(ctx, policy)
    policy_history(ctx)
    active_triggers(ctx, policy)


def policy_editor(ctx: ui.Context, policy: Policy) -> None:
    """What is active, the last save's outcome, the YAML and its Save / Revert buttons."""
    t, ps = ctx.t, policy.settings
    st.caption(
        t(
            "knowledge_policy_active",
            triggers=len(policy.model.triggers),
            queues=len(policy.model.queues),
            refund_limit=ps.refund_limit,
            currency=ps.currency,
        )
    )
    if policy.added:
        st.info(t("knowledge_policy_added", codes=", ".join(policy.added)), icon=":material/add:")
    notice = S.pop("policy_notice", None)
    if notice:
        if notice[0] == "error":
            st.error(md(notice[1]), icon=":material/error:")
            st.caption(t("knowledge_policy_still_active"))
        else:
            st.success(md(notice[1]))
    if "policy_text" not in S:
        S["policy_text"] = ctx.ws.policies.text()
    st.text_area(t("knowledge_policy_yaml"), key="policy_text", height=420)
    row = st.container(horizontal=True)
    row.button(
        t("knowledge_policy_save"),
        key="policy_save",
        type="primary",
        icon=":material/save:",
        on_click=save_policy,
        args=(ctx,),
    )
    row.button(
        t("knowledge_policy_revert"),
        key="policy_revert",
        icon=":material/undo:",
        on_click=revert_policy,
        args=(ctx,),
    )


def policy_history(ctx: ui.Context) -> None:
    """Every saved version (who, when, why), and the restore of an earlier one."""
    t = ctx.t
    history = ctx.ws.policies.history()
    with st.expander(t("knowledge_policy_history", n=len(history))):
        st.caption(t("knowledge_policy_history_help"))
        st.dataframe(
            pd.DataFrame(
                [
                    {
                        "version": r.version,
                        t("knowledge_history_saved"): f"{r.created_at:%Y-%m-%d %H:%M}",
                        t("knowledge_history_by"): r.author or "—",
                        t("knowledge_history_note"): r.note,
                    }
                    for r in history
                ]
            ),
            hide_index=True,
            key="policy_history",
        )
        if len(history) > 1:
            pick = st.container(horizontal=True, vertical_alignment="bottom")
            pick.selectbox(
                t("knowledge_history_version"),
                [r.version for r in history[1:]],
                key="policy_version",
            )
            pick.button(
                t("knowledge_policy_restore"),
                key="policy_restore",
                icon=":material/history:",
                on_click=restore_policy,
                args=(ctx,),
            )


def active_triggers(ctx: ui.Context, policy: Policy) -> None:
    t = ctx.t
    fr = ctx.lang == "fr"
    with st.expander(t("knowledge_active_triggers")):
        st.caption(t("knowledge_active_triggers_help"))
        st.dataframe(
            pd.DataFrame(policy.triggers("fr" if fr else "en")),
            hide_index=True,
            key="policy_triggers",
        )
