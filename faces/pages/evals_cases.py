"""Evals: the Failures and cases tab. A run's worst failures, the wrong drafts it held back,
every case, and one case in detail (its draft, its escalation, its sources, its verdicts)."""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from evals import browse
from faces.pages import ui
from faces.pages.evals_results import run_picker
from faces.pages.ui import md_text as md


def _cases_table(rows: list[dict[str, Any]], key: str) -> None:
    st.dataframe(
        pd.DataFrame(rows),
        hide_index=True,
        width="stretch",
        key=key,
        column_config={"confidence": st.column_config.NumberColumn(format="%.2f")},
    )


def cases_tab(ctx: ui.Context, runs: list[browse.RunInfo]) -> None:
    t = ctx.t
    info = run_picker(ctx, runs, "cases")
    run = browse.load_run(info.folder)
    tau = run.threshold
    st.subheader(t("evals_worst_failures"))
    fails = browse.failure_rows(run.records, tau)
    if fails:
        _cases_table(fails, "eval_failures")
    else:
        st.caption(t("evals_no_false_deflection", tau=tau))
    held = browse.held_back_rows(run.records, tau)
    if held:
        st.subheader(t("evals_held_back"))
        st.caption(t("evals_held_back_help"))
        _cases_table(held, "eval_held_back")
    with st.expander(t("evals_all_cases")):
        _cases_table(browse.case_rows(run.records, tau), "eval_cases")
    ids = browse.case_order(run.records, tau)
    if not ids:
        return
    labels = {r["id"]: f"{r['id']} · {browse.outcome_label(r, tau)}" for r in run.records}
    picked = st.selectbox(
        t("evals_case"),
        ids,
        format_func=lambda i: labels.get(i, i),
        key="eval_case",
        help=t("evals_case_help"),
    )
    rec = run.record(str(picked))
    if rec is not None:
        case_detail(ctx, rec, tau)


def case_detail(ctx: ui.Context, r: dict[str, Any], tau: float) -> None:
    t = ctx.t
    fr = ctx.lang == "fr"
    st.subheader(md(t("evals_case_title", case_id=r["id"])))
    cols = st.columns([1, 2, 1, 1])
    cols[0].metric(t("evals_confidence"), f"{r['confidence']:.2f}", help=f"τ = {tau:.2f}")
    cols[1].metric(t("evals_outcome"), browse.outcome_label(r, tau))
    cols[2].metric(t("evals_expected_action"), str(r["expected_action"]))
    cols[3].metric(
        t("evals_needs_human"),
        t("evals_yes") if r["should_escalate"] else t("evals_no"),
    )
    if r["status"] != "scored" or r.get("unscored_reason"):
        st.warning(md(f"{r['status']}: {r.get('unscored_reason') or ''}"))
    st.caption(t("evals_customer_message"))
    st.text(r.get("question", ""))
    st.caption(t("evals_draft"))
    st.code(r["draft"] or t("evals_no_draft"), language=None, wrap_lines=True)

    policy = ctx.ws.policies.current()
    reasons = [
        f"{policy.label(code, 'fr' if fr else 'en')} ({code})" for code in r.get("reasons") or []
    ]
    lines = [
        t("evals_copilot_escalated", reasons="; ".join(reasons) or "–")
        if r["escalate"]
        else t("evals_copilot_did_not_escalate"),
        t("evals_gold_reason", reason=r.get("gold_reason") or "–"),
        t("evals_retrieved", doc_ids=", ".join(r.get("retrieved_doc_ids") or []) or "–"),
        t("evals_reference", doc_ids=", ".join(r.get("reference_doc_ids") or []) or "–"),
    ]
    timings = r.get("timings") or {}
    if timings.get("total_ms") is not None:
        lines.append(t("evals_latency", ms=timings["total_ms"]))
    st.markdown("  \n".join(md(x) for x in lines))

    cites = browse.citation_rows(r)
    st.caption(t("evals_citations", n=len(cites)))
    if cites:
        st.dataframe(pd.DataFrame(cites), hide_index=True, width="stretch", key="eval_citations")
    st.caption(t("evals_verdicts"))
    st.markdown(md(browse.verdict_line(r.get("verdicts"))))
    with st.expander(t("evals_all_verdicts")):
        st.json(r.get("verdicts") or {})
