"""Knowledge: the knowledge-gaps tab. What customers asked that the knowledge could not answer
(grouped, most asked first), with a FAQ draft or an article to write from each gap."""

from __future__ import annotations

import streamlit as st

from copilot.desk.desk import Gap
from copilot.desk.faqdrafts import article_from_gap
from faces.pages import ui
from faces.pages.knowledge_documents import ingest
from faces.pages.knowledge_faq import faq_drafts
from faces.pages.ui import md_text as md
from knowledge import SouffleurError

S = st.session_state


def draft_faq_from_gap(ctx: ui.Context, gap: Gap) -> None:
    d, created = faq_drafts(ctx).draft_from_gap(gap, author=ctx.user.username)
    S["gap_notice"] = ctx.t(
        "knowledge_gap_faq_created" if created else "knowledge_gap_faq_exists", draft_id=d.id
    )


def write_article(gap: Gap) -> None:
    article = article_from_gap(gap)
    S["article"] = article
    S["article_title"] = article.title
    S["article_body"] = article.body


def gaps_tab(ctx: ui.Context) -> None:
    t = ctx.t
    days = st.number_input(
        t("knowledge_gap_days"),
        min_value=1,
        max_value=365,
        value=7,
        key="gap_days",
    )
    gaps = ctx.desk.knowledge_gaps(days=int(days))
    if not gaps:
        st.success(t("knowledge_no_gaps"))
    else:
        st.caption(t("knowledge_gaps_intro"))
        for n, g in enumerate(gaps):
            gap_card(ctx, n, g)
    gap_notice = S.pop("gap_notice", None)
    if gap_notice:
        st.success(md(gap_notice))
    if S.get("article") is not None:
        article_editor(ctx)


def gap_card(ctx: ui.Context, n: int, g: Gap) -> None:
    """One gap: how often, in the customers' words, and what to write from it."""
    t = ctx.t
    when = f"{g.last_at:%Y-%m-%d %H:%M}" if g.last_at else ""
    said = ", ".join(md(w) for w in g.shown_words(6))
    title = t("knowledge_gap_title", count=g.count, said=said, when=when)
    with st.expander(title, expanded=n < 3):
        for example in g.examples[:5]:
            st.markdown(f"> {md(example)}")
        if len(g.examples) > 5:
            st.caption(t("knowledge_gap_more", n=len(g.examples) - 5))
        acts = st.container(horizontal=True)
        acts.button(
            t("knowledge_gap_draft_faq"),
            key=f"gap_faq_{n}",
            icon=":material/quiz:",
            on_click=draft_faq_from_gap,
            args=(ctx, g),
            help=t("knowledge_gap_draft_faq_help"),
        )
        acts.button(
            t("knowledge_gap_write_article"),
            key=f"gap_article_{n}",
            icon=":material/edit_note:",
            on_click=write_article,
            args=(g,),
        )


def article_editor(ctx: ui.Context) -> None:
    """The article written from a gap: edited here, then indexed as a new document."""
    t = ctx.t
    with st.container(border=True):
        st.markdown("**" + t("knowledge_article_new") + "**")
        st.text_input(t("knowledge_article_title"), key="article_title")
        st.text_area(t("knowledge_article_body"), key="article_body", height=260)
        row = st.container(horizontal=True)
        if row.button(
            t("knowledge_article_save"),
            key="article_save",
            type="primary",
            icon=":material/upload:",
        ):
            try:
                name, data = S["article"].file(
                    str(S.get("article_title") or ""),
                    str(S.get("article_body") or ""),
                    taken={d.source_name for d in ctx.ws.kb.documents()},
                )
            except SouffleurError as exc:
                st.error(md(str(exc)))
            else:
                saved = ingest(ctx, [(name, data)])
                if all(r.ok for r in saved):
                    S.pop("article")
                    st.success(md(t("knowledge_article_indexed", name=name)))
                else:
                    st.error(md("; ".join(r.error or "" for r in saved)))
        if row.button(t("knowledge_article_cancel"), key="article_cancel"):
            S.pop("article")
            st.rerun()
