"""Knowledge (knowledge managers): documents, hit testing, the order feed, the escalation
policy and knowledge gaps. Every action is a call into ``knowledge`` or ``copilot``.

One module a tab: ``knowledge_documents`` (with ``knowledge_conflicts``, the conflicts between
documents under it), ``knowledge_hit_testing``, ``knowledge_orders``, ``knowledge_policy``,
``knowledge_gaps`` and ``knowledge_faq``.
"""

from __future__ import annotations

import streamlit as st

from faces.pages import ui
from faces.pages.knowledge_documents import documents_tab
from faces.pages.knowledge_faq import faq_tab
from faces.pages.knowledge_gaps import gaps_tab
from faces.pages.knowledge_hit_testing import hit_testing_tab
from faces.pages.knowledge_orders import orders_tab
from faces.pages.knowledge_policy import policy_tab

ctx = ui.context()
t = ctx.t
ws = ctx.ws
kb = ws.kb

st.title(t("knowledge_title"))
# the counters are written last, after this run's upload, import or delete (never one behind)
summary = st.empty()
docs_t, test_t, orders_t, policy_t, gaps_t, faq_t = st.tabs(
    [
        t("knowledge_tab_documents"),
        t("knowledge_tab_test"),
        t("knowledge_tab_orders"),
        t("knowledge_tab_policy"),
        t("knowledge_tab_gaps"),
        t("knowledge_tab_faq"),
    ]
)
with docs_t:
    documents_tab(ctx)
with test_t:
    hit_testing_tab(ctx)
with orders_t:
    orders_count = orders_tab(ctx)
with policy_t:
    policy_tab(ctx)
with gaps_t:
    gaps_tab(ctx)
with faq_t:
    faq_tab(ctx)


def counters() -> None:
    stats = kb.stats()
    n_orders = ws.orders.count()
    summary.caption(
        t(
            "knowledge_counters",
            documents=stats["documents"],
            chunks=stats["chunks"],
            orders=n_orders,
            embedder=kb.embedder.name,
        )
    )
    orders_count.caption(t("knowledge_orders_count", n=n_orders))


counters()
