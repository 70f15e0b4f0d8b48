"""Evals: the Compare tab. Two finished runs side by side: the CI gate's verdict and checks,
the metrics' deltas, the latencies, and the cases whose outcome changed (:mod:`evals.compare`
through :mod:`evals.browse`)."""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from evals import browse
from faces.pages import ui
from faces.pages.ui import md_text as md


def compare_tab(ctx: ui.Context, runs: list[browse.RunInfo]) -> None:
    t = ctx.t
    done = [r for r in runs if r.complete]
    if len(done) < 2:
        st.info(
            t("evals_compare_needs_two"),
            icon=":material/compare_arrows:",
        )
        return
    by_name = {r.name: r for r in done}
    a, b, margin_pp = run_pair(ctx, by_name)
    if a is None or b is None or a == b:
        st.info(t("evals_pick_two"))
        return
    ra, rb = by_name[str(a)], by_name[str(b)]
    with st.spinner(t("evals_comparing")):
        c = browse.compare(ra.folder, rb.folder, float(margin_pp) / 100)
    ma, mb = browse.load_run(ra.folder).manifest, browse.load_run(rb.folder).manifest
    for note in browse.comparison_notes(ma, mb, c):
        st.warning(md(note), icon=":material/warning:")
    st.caption(
        md(
            f"{c['n_paired']} paired cases · τ A {c['thresholds']['a']:.2f}, B {c['thresholds']['b']:.2f}"
        )
    )
    gate(c)
    metrics_delta(ctx, c)
    latency(ctx, c["latency"])
    changed_cases(ctx, c["changed_cases"])


def run_pair(
    ctx: ui.Context, by_name: dict[str, browse.RunInfo]
) -> tuple[str | None, str | None, float]:
    """Run A, run B (newest first, B the newest) and the gate's margin in points."""
    t = ctx.t
    names = list(by_name)
    a = st.selectbox(
        t("evals_run_a"),
        names,
        index=1,
        format_func=lambda n: by_name[n].label,
        key="eval_cmp_a",
        persist_state="session",
    )
    b = st.selectbox(
        t("evals_run_b"),
        names,
        index=0,
        format_func=lambda n: by_name[n].label,
        key="eval_cmp_b",
        persist_state="session",
    )
    margin_pp = st.columns(4)[0].number_input(
        t("evals_gate_margin"),
        min_value=0.0,
        max_value=50.0,
        value=2.0,
        step=0.5,
        key="eval_margin",
        persist_state="session",
        help=t("evals_gate_margin_help"),
    )
    return a, b, margin_pp


def gate(c: dict[str, Any]) -> None:
    """The gate's verdict, then each of its checks."""
    g = c["gate"]
    verdict = md(
        f"Gate (margin {100 * g['margin']:.1f} pp): "
        + ("PASS" if g["passed"] else "FAIL")
        + f" — {g['reason']}"
    )
    if g["passed"]:
        st.success(verdict, icon=":material/check_circle:")
    else:
        st.error(verdict, icon=":material/block:")
    whole_table(browse.gate_rows(c), "eval_gate")


def metrics_delta(ctx: ui.Context, c: dict[str, Any]) -> None:
    st.subheader(ctx.t("evals_metrics_delta"))
    whole_table(browse.comparison_rows(c), "eval_comparison")


def whole_table(rows: list[dict[str, Any]], key: str) -> None:
    """A table shown whole: as wide as the page, as high as its rows."""
    st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch", height="content", key=key)


def latency(ctx: ui.Context, lat: dict[str, Any]) -> None:
    """B's latencies, with their change from A (when both runs timed their cases)."""
    t = ctx.t
    if lat.get("a_p50") is not None and lat.get("b_p50") is not None:
        cols = st.columns(3)
        latency_metric(cols[0], t("evals_latency_p50"), lat["a_p50"], lat["b_p50"])
        latency_metric(cols[1], t("evals_latency_p95"), lat["a_p95"], lat["b_p95"])
        cols[2].metric(
            "Wilcoxon p",
            "–" if lat.get("wilcoxon_p") is None else f"{lat['wilcoxon_p']:.3f}",
            border=True,
        )


def latency_metric(where: DeltaGenerator, label: str, a_ms: float, b_ms: float) -> None:
    where.metric(
        label,
        f"{b_ms:.1f} ms",
        delta=f"{b_ms - a_ms:+.1f} ms",
        delta_color="inverse",
        border=True,
    )


def changed_cases(ctx: ui.Context, changed: list[dict[str, Any]]) -> None:
    t = ctx.t
    st.subheader(t("evals_changed_cases", n=len(changed)))
    if changed:
        st.dataframe(
            pd.DataFrame(changed).rename(columns={"a": "A", "b": "B"}),
            hide_index=True,
            width="stretch",
            key="eval_changed",
        )
    else:
        st.caption(t("evals_no_case_changed"))
