"""Agent desk: the suggestion in the copilot panel, top to bottom: the copilot's verdict, the
model's late draft, what to review, the draft being edited (autosaved at every rerun), the
actions, the tone controls, why to escalate, and the sources."""

from __future__ import annotations

import streamlit as st

from copilot.desk.store import DraftRecord
from copilot.types import Escalation, Suggestion
from faces.pages import ui
from faces.pages.desk_actions import (
    DEFAULTS,
    EMOJI,
    LENGTHS,
    TONES,
    on_discard,
    on_escalate,
    on_proposed,
    on_regenerate,
    regenerate_button,
    send_button,
)
from faces.pages.ui import md_text as md


def suggestion_panel(ctx: ui.Context, cid: str, draft: DraftRecord) -> None:
    sug = draft.suggestion
    esc = sug.escalation
    verdict(ctx, sug)
    late_model_draft(ctx, cid)
    if sug.needs_review and not esc.escalate:
        for hint in sug.review_hints:
            st.caption(md(hint), help=ctx.t("review_hint_help"))
    key = draft_editor(ctx, draft)
    draft_actions(ctx, cid, key, escalate=esc.escalate)
    tone_controls(ctx, cid)
    if esc.escalate:
        why_escalate(ctx, esc)
    sources(ctx, sug)


def verdict(ctx: ui.Context, sug: Suggestion) -> None:
    """Escalate or not, review or send, whether it asks back, the confidence; the draft's
    language and drafter."""
    t, esc = ctx.t, sug.escalation
    badges = st.container(horizontal=True, gap="small")
    if esc.escalate:
        badges.badge(
            md(t("escalate_to", queue=esc.queue or "?")),
            color="red",
            icon=":material/priority_high:",
        )
    else:
        badges.badge(t("no_escalation"), color="green", icon=":material/check_circle:")
    badges.badge(
        t("needs_review") if sug.needs_review else t("could_send"),
        color="orange" if sug.needs_review else "green",
    )
    if sug.clarify:  # the draft asks back instead of answering
        badges.badge(t(f"asks_{sug.clarify}"), color="blue", icon=":material/help:")
    badges.badge(t("confidence", p=f"{sug.confidence:.0%}").replace("%", "\\%"), color="gray")
    drafter = t("offline_drafter") if sug.drafter == "offline" else sug.model
    st.caption(
        md(
            f"{ui.LANG_NAMES[ctx.lang].get(sug.language, sug.language)} · {sug.register_} · {drafter}"
        )
    )
    if sug.llm_unavailable:
        st.warning(t("llm_unavailable"))


@st.fragment(run_every=1.0)
def late_model_watch(ctx: ui.Context, cid: str) -> None:
    """While the model is still drafting, say so; once its draft has landed, redraw the page."""
    if ctx.desk.drafting_late(cid):
        st.caption(ctx.t("model_drafting"), help=None)
    else:
        st.rerun()


def late_model_draft(ctx: ui.Context, cid: str) -> None:
    """The model still drafting, or its draft come after the agent started editing: theirs to
    take or leave."""
    t, desk = ctx.t, ctx.desk
    if desk.drafting_late(cid):
        late_model_watch(ctx, cid)
    proposed = desk.proposed(cid)
    if proposed is None:
        return
    st.info(t("model_ready"))
    with st.expander(t("use_model_draft"), icon=":material/auto_awesome:"):
        st.caption(md(proposed.draft_text))
    choice = st.container(horizontal=True, gap="small")
    choice.button(
        t("use_model_draft"),
        key="use_model_draft",
        on_click=on_proposed,
        args=(ctx, cid, proposed.id),
        kwargs={"adopt": True},
    )
    choice.button(
        t("keep_mine"),
        key="keep_mine",
        type="tertiary",
        on_click=on_proposed,
        args=(ctx, cid, proposed.id),
        kwargs={"adopt": False},
    )


def draft_editor(ctx: ui.Context, draft: DraftRecord) -> str:
    """The draft's text area; returns its widget key."""
    key = f"draft_{draft.id}"
    text = st.text_area(ctx.t("draft"), value=draft.edited_text, key=key, height=260)
    ctx.desk.store.autosave(
        draft.id, str(text or "")
    )  # every rerun: a reload or a restart keeps the edit
    return key


def draft_actions(ctx: ui.Context, cid: str, key: str, *, escalate: bool) -> None:
    # Fixed places for muscle memory; the action the copilot recommends is the primary one.
    t = ctx.t
    main_actions = st.container(horizontal=True, gap="small")
    send_button(
        main_actions,
        ctx,
        cid,
        key,
        type="secondary" if escalate else "primary",
        width="stretch",
    )
    main_actions.button(
        t("escalate"),
        key="escalate",
        type="primary" if escalate else "secondary",
        icon=":material/call_split:",
        width="stretch",
        on_click=on_escalate,
        args=(ctx, cid),
    )
    more = st.container(horizontal=True, gap="small")
    regenerate_button(more, ctx, cid, type="tertiary")
    more.button(
        t("discard"),
        key="discard",
        icon=":material/delete:",
        type="tertiary",
        on_click=on_discard,
        args=(ctx, cid),
    )


def tone_controls(ctx: ui.Context, cid: str) -> None:
    """Tone, length and emoji: a change redrafts with the same wording variant."""
    t = ctx.t
    with st.expander(t("tone"), icon=":material/tune:"):
        for label, name, choices in (
            (t("tone"), "tone", TONES),
            (t("length"), "length", LENGTHS),
            (t("emoji"), "emoji", tuple(EMOJI)),
        ):
            st.segmented_control(
                label,
                choices,
                format_func=t,
                key=f"{name}_{cid}",
                default=DEFAULTS[name],
                required=True,
                on_change=on_regenerate,
                args=(cid,),
                kwargs={"new_wording": False},
            )


def why_escalate(ctx: ui.Context, esc: Escalation) -> None:
    t = ctx.t
    with st.expander(t("why_escalate"), icon=":material/priority_high:", expanded=True):
        for r in esc.reasons:
            st.markdown(f"- **{md(r.label)}**" + (f" — {md(r.detail)}" if r.detail else ""))
        if esc.handoff_summary:
            st.markdown(f"**{t('handoff')}**")
            st.caption(md(esc.handoff_summary))


def sources(ctx: ui.Context, sug: Suggestion) -> None:
    """The citations behind the draft (what each supports, its passages, its links), then the
    drafter's notes."""
    t = ctx.t
    st.markdown(f"**{t('sources', n=len(sug.citations))}**")
    if not sug.citations:
        st.caption(t("no_sources"))
    for i, c in enumerate(sug.citations, 1):
        title = " · ".join(dict.fromkeys(c.titles)) or ", ".join(c.doc_ids)
        with st.expander(f"[{i}] {md(title)}", icon=":material/menu_book:"):
            st.caption(f"{t('supports')}: {md(c.sentence)}")
            for snippet in c.snippets:
                st.markdown(f"> {md(snippet)}")
            for url in dict.fromkeys(u for u in c.urls if ui.safe_url(u)):
                st.markdown(f"[{t('open_source')}]({url})")
    for note in sug.notes:
        st.caption(md(note))
