"""Evals page (evaluators): a placeholder until the eval harness issue replaces this script.

The harness will run an eval with a progress bar, show the results (deflection, false
deflection, escalation precision/recall, retrieval, groundedness, latency, cost, with
confidence intervals) and compare runs. Replace this file; ``app.py`` needs no change.
"""

from __future__ import annotations

import streamlit as st

from app_pages import ui

ctx = ui.context()
st.title(ctx.t("evals_title"))
st.info(
    "Offline evaluation arrives with the eval harness issue: run an eval on a dataset with a "
    "progress bar, read deflection and false-deflection rates, escalation precision and recall, "
    "retrieval quality, groundedness, latency and cost with confidence intervals, and compare a "
    "run with the previous one.",
    icon=":material/science:",
)
st.caption(
    "Meanwhile, the Analytics page shows the live acceptance and escalation signal from the desk."
)
