"""Knowledge: the FAQ-drafts tab. FAQ entries proposed from the agents' replies (or from a
knowledge gap), each edited here and approved into the knowledge, or rejected."""

from __future__ import annotations

from collections import Counter

import streamlit as st

from copilot.desk.faqdrafts import FaqDraft, FaqDrafts
from faces.pages import ui
from faces.pages.ui import md_text as md
from knowledge import SouffleurError

S = st.session_state


def faq_drafts(ctx: ui.Context) -> FaqDrafts:
    return FaqDrafts(ctx.ws, ctx.desk.store)


def propose_faqs(ctx: ui.Context) -> None:
    found = faq_drafts(ctx).propose(author=ctx.user.username)
    S["faq_notice"] = (
        "success",
        ctx.t(
            "knowledge_faq_proposed",
            replies=found.replies,
            new=len(found.new),
            extended=len(found.extended),
            covered=len(found.covered),
            decided=len(found.decided),
        ),
    )


def approve_faq(ctx: ui.Context, draft_id: int) -> None:
    try:
        d = faq_drafts(ctx).approve(
            draft_id,
            by=ctx.user.username,
            question=str(S.get(f"faq_q_{draft_id}") or ""),
            answer=str(S.get(f"faq_a_{draft_id}") or ""),
        )
    except SouffleurError as exc:
        S["faq_notice"] = ("error", str(exc))
        return
    S["faq_notice"] = (
        "success",
        ctx.t("knowledge_faq_approved", draft_id=d.id, doc_id=d.doc_id),
    )


def reject_faq(ctx: ui.Context, draft_id: int) -> None:
    try:
        d = faq_drafts(ctx).reject(draft_id, by=ctx.user.username)
    except SouffleurError as exc:
        S["faq_notice"] = ("error", str(exc))
        return
    S["faq_notice"] = ("success", ctx.t("knowledge_faq_rejected", draft_id=d.id))


def faq_tab(ctx: ui.Context) -> None:
    t = ctx.t
    st.caption(t("knowledge_faq_intro"))
    st.button(
        t("knowledge_faq_propose"),
        key="faq_propose",
        icon=":material/auto_awesome:",
        on_click=propose_faqs,
        args=(ctx,),
    )
    faq_notice = S.pop("faq_notice", None)
    if faq_notice:
        (st.success if faq_notice[0] == "success" else st.error)(md(faq_notice[1]))
    all_faqs = faq_drafts(ctx).entries()
    pending = [d for d in all_faqs if d.status == "pending"]
    decided = Counter(d.status for d in all_faqs if d.status != "pending")
    st.caption(
        t(
            "knowledge_faq_counts",
            pending=len(pending),
            approved=decided["approved"],
            rejected=decided["rejected"],
        )
    )
    for d in reversed(pending):
        faq_card(ctx, d)


def faq_card(ctx: ui.Context, d: FaqDraft) -> None:
    """A pending draft: how it was asked, its question and answer to edit, approve or reject."""
    t = ctx.t
    with st.container(border=True):
        st.markdown(
            f"**#{d.id}** · {md(d.lang)} · "
            + t(
                "knowledge_faq_asked",
                ways=len(d.examples),
                conversations=len(d.conversation_ids),
            )
            + (" · " + t("knowledge_faq_from_gap") if d.origin == "gap" else "")
        )
        for example in d.examples[:5]:
            st.markdown(f"> {md(example)}")
        st.text_input(t("knowledge_faq_question"), value=d.question, key=f"faq_q_{d.id}")
        st.text_area(t("knowledge_faq_answer"), value=d.answer, key=f"faq_a_{d.id}", height=140)
        row = st.container(horizontal=True)
        row.button(
            t("knowledge_faq_approve"),
            key=f"faq_approve_{d.id}",
            type="primary",
            icon=":material/check:",
            on_click=approve_faq,
            args=(ctx, d.id),
        )
        row.button(
            t("knowledge_faq_reject"),
            key=f"faq_reject_{d.id}",
            icon=":material/close:",
            on_click=reject_faq,
            args=(ctx, d.id),
        )
