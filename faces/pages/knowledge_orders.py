"""Knowledge: the order-feed tab. Import a CSV/JSON feed of orders and read its validation
report (new, updated, invalid rows and why)."""

from __future__ import annotations

import pandas as pd
import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from faces.pages import ui
from faces.pages.ui import md_text as md
from knowledge import ImportReport, SouffleurError

S = st.session_state


def orders_tab(ctx: ui.Context) -> DeltaGenerator:
    """The tab; returns the place of its order count, written once this run's import is done."""
    t = ctx.t
    orders_count = st.empty()
    with st.form("orders_upload", clear_on_submit=True):
        feed = st.file_uploader(
            t("knowledge_orders_file"),
            type=["csv", "json", "jsonl"],
            key="orders_file",
        )
        if (
            st.form_submit_button(
                t("knowledge_orders_import"), type="primary", icon=":material/upload:"
            )
            and feed is not None
        ):
            try:
                S["orders_report"] = ctx.ws.orders.import_file(feed.name, feed.getvalue())
            except SouffleurError as exc:
                S["orders_report"] = None
                st.error(md(str(exc)))
    report: ImportReport | None = S.get("orders_report")
    if report is not None:
        cols = st.columns(3)
        cols[0].metric(t("knowledge_orders_new"), report.inserted, border=True)
        cols[1].metric(t("knowledge_orders_updated"), report.updated, border=True)
        cols[2].metric(t("knowledge_orders_invalid"), len(report.invalid_rows), border=True)
        if report.problems:
            st.warning(t("knowledge_orders_some_invalid", source=md(report.source)))
            st.dataframe(
                pd.DataFrame(
                    [
                        {"row": p.row, "field": p.field, "problem": p.problem}
                        for p in report.problems
                    ]
                ),
                hide_index=True,
            )
        else:
            st.success(t("knowledge_orders_all_valid", source=md(report.source)))
    return orders_count
