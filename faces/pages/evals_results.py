"""Evals: the Results tab (a run's headline figures, its metrics with their intervals, its
plots, its outcomes by action, its report) and the run picker it shares with the Cases tab."""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from evals import browse
from evals.report import CHOICES, summary_rows
from evals.report import charts as report_charts
from evals.stats import Estimate
from faces.pages import ui
from faces.pages.ui import md_text as md

S = st.session_state


def keep_run(widget_key: str) -> None:
    """The run picked in one tab is the run the other tab shows."""
    S["eval_run"] = S[widget_key]


def run_picker(ctx: ui.Context, runs: list[browse.RunInfo], where: str) -> browse.RunInfo:
    """The run being read; the Results and Cases tabs show the same one."""
    t = ctx.t
    names = [r.name for r in runs]
    if S.get("eval_run") not in names:
        S["eval_run"] = names[0]
    S[f"eval_run__{where}"] = S["eval_run"]
    by_name = {r.name: r for r in runs}
    name = st.selectbox(
        t("evals_run"),
        names,
        format_func=lambda n: by_name[n].label,
        key=f"eval_run__{where}",
        on_change=keep_run,
        args=(f"eval_run__{where}",),
        help=t("evals_run_help"),
    )
    return by_name[str(name)]


def point(e: Estimate) -> str:
    return "n/a" if e.value is None else f"{100 * e.value:.1f}%"


def results_tab(ctx: ui.Context, runs: list[browse.RunInfo]) -> None:
    notice = S.pop("eval_notice", None)
    if notice:
        st.success(md(notice), icon=":material/check_circle:")
    info = run_picker(ctx, runs, "results")
    run = browse.load_run(info.folder)
    s, m = run.summary, run.manifest
    st.caption(
        md(
            f"{m['mode']['drafter']} drafter · {m['mode']['judge']} judge · git {str(m['git_sha'])[:10]} · dataset {str(m['dataset_hash'])[:10]} · KB {str(m['kb_hash'])[:10]} · embedder {m['embedder']} · seed {m['seed']} · intervals: {s['interval_method']}"
        )
    )
    headline(ctx, s["deflection"], run.threshold)
    metrics(ctx, s)
    plots(ctx, s, run.records)
    by_action(ctx, s)
    download_report(ctx, info)


def headline(ctx: ui.Context, d: dict[str, Any], threshold: float) -> None:
    """The four figures on top: deflection, false deflection, coverage, threshold."""
    t = ctx.t
    top = st.columns(4)
    top[0].metric(
        t("evals_deflection_rate"),
        point(d["deflection_rate"]),
        border=True,
        help=t("evals_deflection_rate_help", interval=d["deflection_rate"].fmt()),
    )
    top[1].metric(
        t("evals_false_deflection_rate"),
        point(d["false_deflection_rate"]),
        border=True,
        help=t("evals_false_deflection_rate_help", interval=d["false_deflection_rate"].fmt()),
    )
    top[2].metric(
        t("evals_coverage"),
        point(d["coverage"]),
        border=True,
        help=t("evals_coverage_help", interval=d["coverage"].fmt()),
    )
    top[3].metric(
        t("evals_threshold_metric"),
        f"{threshold:.2f}",
        border=True,
        help=t("evals_threshold_metric_help"),
    )


def metrics(ctx: ui.Context, s: dict[str, Any]) -> None:
    st.subheader(ctx.t("evals_metrics"))
    st.table(  # a static table wraps long values; its cells are Markdown: escaped
        pd.DataFrame(
            [(md(k), md(v)) for k, v in summary_rows(s)], columns=["metric", "value [95% CI]"]
        ),
        hide_index=True,
    )
    for note in browse.summary_notes(s):
        st.caption(md(note))


def plots(ctx: ui.Context, s: dict[str, Any], records: list[dict[str, Any]]) -> None:
    st.subheader(ctx.t("evals_plots"))
    charts = report_charts(s, records)
    for row in range(0, len(charts), 2):  # a row of columns at a time: stacks in reading order
        for col, svg in zip(st.columns(2), charts[row : row + 2], strict=False):
            col.image(svg)  # our SVG, drawn from numbers: shown as an image, never as HTML


def by_action(ctx: ui.Context, s: dict[str, Any]) -> None:
    """Outcomes by expected action, and how each outcome is counted."""
    t = ctx.t
    st.subheader(t("evals_by_action"))
    st.dataframe(
        pd.DataFrame(s["by_action"]),
        hide_index=True,
        column_config={
            "mean_confidence": st.column_config.NumberColumn("mean confidence", format="%.2f")
        },
    )
    with st.expander(t("evals_how_counted")):
        st.markdown("\n".join(f"- {md(c)}" for c in CHOICES))


def download_report(ctx: ui.Context, info: browse.RunInfo) -> None:
    report = info.folder / "report.html"
    if report.is_file():
        st.download_button(
            ctx.t("evals_download_report"),
            data=report.read_bytes(),
            file_name=f"{info.name}-report.html",
            mime="text/html",
            icon=":material/download:",
            on_click="ignore",
            key="eval_download",
        )
