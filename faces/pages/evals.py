"""Evals (evaluators): run an eval on a dataset with a progress bar, read a run's metrics with
their intervals and plots, drill into its failures, compare two runs with the CI gate.

Layout only: running is :func:`evals.run_eval`; what to show comes from :mod:`evals.browse`,
:mod:`evals.report` and :mod:`evals.compare`. Text from datasets and drafts is shown as text
(``st.text``, ``st.code``, dataframe cells, escaped Markdown). The only images are the SVG
charts our code draws from numbers, shown with ``st.image`` (an ``<img>``: nothing in it runs).

One module a tab: ``evals_run`` (with ``evals_replay``, the desk's replay under it),
``evals_results``, ``evals_cases``, ``evals_compare``.
"""

from __future__ import annotations

import streamlit as st

from evals import browse
from faces.pages import ui
from faces.pages.evals_cases import cases_tab
from faces.pages.evals_compare import compare_tab
from faces.pages.evals_results import results_tab
from faces.pages.evals_run import run_tab

ctx = ui.context()
t, S = ctx.t, st.session_state

# a tab's label is its key: evals_run.start opens the Results tab by its label
TABS = {
    "run": t("evals_tab_run"),
    "results": t("evals_tab_results"),
    "cases": t("evals_tab_cases"),
    "compare": t("evals_tab_compare"),
}

st.title(t("evals_title"))
runs = browse.list_runs(browse.runs_dir(ctx.settings.data_dir))
finished = [r for r in runs if r.complete]
if "eval_next_tab" in S:
    S["eval_tab"] = S.pop("eval_next_tab")
tabs = st.tabs(
    list(TABS.values()),
    key="eval_tab",
    on_change="rerun",
    default=TABS["results"] if finished else TABS["run"],
)
run_t, results_t, cases_t, compare_t = tabs
if run_t.open:
    with run_t:
        run_tab(ctx, runs)
if results_t.open:
    with results_t:
        if finished:
            results_tab(ctx, finished)
        else:
            st.info(
                t("evals_no_finished_run"),
                icon=":material/science:",
            )
if cases_t.open:
    with cases_t:
        if finished:
            cases_tab(ctx, finished)
        else:
            st.info(t("evals_no_finished_run_short"), icon=":material/science:")
if compare_t.open:
    with compare_t:
        compare_tab(ctx, runs)
