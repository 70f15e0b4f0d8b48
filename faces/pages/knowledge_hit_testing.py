"""Knowledge: the hit-testing tab. A question, and the passages the knowledge search returns
for it, with each search's score and rank."""

from __future__ import annotations

import streamlit as st

from faces.pages import ui
from faces.pages.ui import md_text as md
from knowledge.retrieval import Mode

MODES: dict[str, Mode] = {"hybrid": "hybrid", "dense": "dense", "bm25": "bm25"}


def hit_testing_tab(ctx: ui.Context) -> None:
    t = ctx.t
    query = st.text_input(
        t("knowledge_test_question"),
        key="hit_query",
        placeholder=t("knowledge_test_question_placeholder"),
    )
    c1, c2, c3 = st.columns(3)
    k = c1.slider(t("knowledge_test_results"), 1, 20, 5, key="hit_k")
    mode = c2.segmented_control(
        t("knowledge_test_retrieval"),
        ["hybrid", "dense", "bm25"],
        default="hybrid",
        required=True,
        key="hit_mode",
    )
    lang = c3.segmented_control(
        t("knowledge_test_language"),
        ["any", "fr", "en"],
        default="any",
        required=True,
        key="hit_lang",
    )
    if query.strip():
        hits = ctx.ws.kb.search(
            query, k=k, lang=None if lang == "any" else lang, mode=MODES.get(str(mode), "hybrid")
        )
        if not hits:
            st.warning(t("knowledge_test_no_match"))
        for h in hits:
            with st.container(border=True):
                path = " › ".join(h.chunk.heading_path)
                st.markdown(f"**{h.rank}. {md(h.title)}**" + (f" › {md(path)}" if path else ""))
                dense = (
                    f"{h.dense_score:.3f} (#{h.dense_rank})" if h.dense_score is not None else "–"
                )
                bm25 = f"{h.bm25_score:.2f} (#{h.bm25_rank})" if h.bm25_score is not None else "–"
                st.caption(
                    f"rrf {h.score:.4f} · dense {dense} · bm25 {bm25} · {md(h.chunk.lang)} · {md(h.doc_id)}"
                )
                st.markdown(md(h.snippet))
