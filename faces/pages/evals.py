"""Evals (evaluators): run an eval on a dataset with a progress bar, read a run's metrics with
their intervals and plots, drill into its failures, compare two runs with the CI gate.

Layout only: running is :func:`evals.run_eval`; what to show comes from :mod:`evals.browse`,
:mod:`evals.report` and :mod:`evals.compare`. Text from datasets and drafts is shown as text
(``st.text``, ``st.code``, dataframe cells, escaped Markdown). The only images are the SVG
charts our code draws from numbers, shown with ``st.image`` (an ``<img>``: nothing in it runs).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import streamlit as st

from evals import RunConfig, browse, replay, run_eval
from evals.report import CHOICES, summary_rows
from evals.report import charts as report_charts
from evals.runner import new_run_folder
from evals.stats import Estimate
from faces.pages import ui
from faces.pages.ui import md_text as md
from knowledge import SouffleurError

ctx = ui.context()
t, S = ctx.t, st.session_state
fr = ctx.lang == "fr"
settings = ctx.settings
RUNS = browse.runs_dir(settings.data_dir)
OTHER = "__other__"


TABS = {
    "run": t("evals_tab_run"),
    "results": t("evals_tab_results"),
    "cases": t("evals_tab_cases"),
    "compare": t("evals_tab_compare"),
}


# -- actions -------------------------------------------------------------------------
def start(cfg: RunConfig) -> None:
    """Run (or resume) an eval with a progress bar, then open its results."""
    bar = st.progress(
        0.0,
        text=t("evals_indexing"),
    )

    def progress(done: int, total: int) -> None:
        bar.progress(
            min(done / max(total, 1), 1.0), text=t("evals_progress_cases", done=done, total=total)
        )

    try:
        if cfg.out is None:
            cfg.out = new_run_folder(RUNS, cfg.dataset, cfg.drafter)
        result = run_eval(
            cfg, settings, embedder=ctx.ws.kb.embedder, progress=progress, workspace=ctx.ws
        )
    except SouffleurError as exc:
        bar.empty()
        st.error(md(str(exc)), icon=":material/error:")
        return
    done = len(result.records)
    index_s = float(result.manifest.get("index_build_s") or 0.0)
    S["eval_run"] = result.folder.name
    S["eval_notice"] = t(
        "evals_run_finished",
        cases=done,
        seconds=result.seconds,
        index_seconds=index_s,
        folder=result.folder,
    )
    S["eval_next_tab"] = TABS["results"]
    st.rerun()


def start_replay(drafter: str) -> None:
    """Replay the desk's history (evals.replay): its figures are shown under the button."""
    bar = st.progress(0.0, text=t("evals_building_set"))

    def progress(done: int, total: int) -> None:
        bar.progress(
            min(done / max(total, 1), 1.0), text=t("evals_progress_replies", done=done, total=total)
        )

    try:
        result = replay.run_replay(
            settings,
            drafter=drafter,
            workspace=ctx.ws,
            progress=progress,
        )
    except SouffleurError as exc:
        bar.empty()
        st.error(md(str(exc)), icon=":material/error:")
        return
    bar.empty()
    S["eval_replay"] = str(result.folder)


def replay_section(drafter: str) -> None:
    """The desk's own conversations as a benchmark: how many replies it holds, a button that
    replays them, and the last replay's figures."""
    st.subheader(t("evals_replay_title"))
    found = replay.history(ctx.desk.store)
    st.caption(md(t("evals_replay_intro", test_percent=replay.TEST_PERCENT)))
    st.text(
        t(
            "evals_replay_found",
            cases=found.cases,
            replies=found.replies,
            escalated=found.escalated,
            conversations=found.conversations,
            min_cases=replay.MIN_CASES,
        )
    )
    enough = found.cases >= replay.MIN_CASES
    if st.button(
        t("evals_replay_button"),
        icon=":material/history:",
        key="eval_replay_start",
        disabled=not enough,
    ):
        start_replay(drafter)
    if not enough:
        st.info(md(str(replay.not_enough(found, replay.MIN_CASES))), icon=":material/history:")
    folder = Path(S["eval_replay"]) if S.get("eval_replay") else None
    if folder is not None and (folder / replay.REPORT).is_file():
        report = replay.load_report(folder)
        st.table(
            pd.DataFrame(
                [(md(k), md(v)) for k, v in replay.report_rows(report)],
                columns=["figure", "value [95% CI]"],
            ),
            hide_index=True,
        )
        st.caption(md(t("evals_run_folder", folder=folder)))


def keep_run(widget_key: str) -> None:
    """The run picked in one tab is the run the other tab shows."""
    S["eval_run"] = S[widget_key]


def run_picker(runs: list[browse.RunInfo], where: str) -> browse.RunInfo:
    """The run being read; the Results and Cases tabs show the same one."""
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


# -- the tabs ------------------------------------------------------------------------
def run_tab(runs: list[browse.RunInfo]) -> None:
    demo = browse.demo_dataset()
    dev = browse.dev_sets()
    choices = ([demo] if demo else []) + (dev or [])
    labels = {str(c.path): c.label for c in choices} | {OTHER: t("evals_other_dataset")}
    pick = st.radio(
        t("evals_dataset"),
        list(labels),
        format_func=lambda p: md(labels[p]),
        key="eval_dataset",
        persist_state="session",
    )
    if dev is None:
        st.caption(md(t("evals_no_dev_sets", folder=browse.SHARED_DATA)))
    elif not dev:
        st.caption(md(t("evals_no_dataset_folder", folder=browse.SHARED_DATA)))
    dataset = str(pick)
    if pick == OTHER:
        dataset = st.text_input(
            t("evals_dataset_folder"),
            key="eval_dataset_path",
            persist_state="session",
            placeholder="/path/to/dataset",
            help=t("evals_dataset_folder_help"),
        ).strip()

    llm = bool(settings.llm_base_url)
    cols = st.columns(5)
    drafter = cols[0].radio(
        t("evals_drafter"),
        ["offline", "llm"],
        key="eval_drafter",
        persist_state="session",
        horizontal=True,
        disabled=not llm,
        help=t("evals_drafter_help" if llm else "evals_drafter_help_no_llm"),
    )
    limit = cols[1].number_input(
        t("evals_limit"),
        min_value=1,
        value=None,
        step=1,
        key="eval_limit",
        persist_state="session",
        placeholder=t("evals_limit_placeholder"),
        help=t("evals_limit_help"),
    )
    seed = cols[2].number_input(
        t("evals_seed"),
        min_value=0,
        value=0,
        step=1,
        key="eval_seed",
        persist_state="session",
        help=t("evals_seed_help"),
    )
    workers = cols[3].number_input(
        t("evals_workers"),
        min_value=1,
        max_value=16,
        value=2,
        step=1,
        key="eval_workers",
        persist_state="session",
        help=t("evals_workers_help"),
    )
    threshold = cols[4].number_input(
        t("evals_threshold"),
        min_value=0.0,
        max_value=1.0,
        value=None,
        step=0.05,
        key="eval_threshold",
        persist_state="session",
        placeholder=t("evals_threshold_placeholder"),
        help=t("evals_threshold_help"),
    )
    if st.button(
        t("evals_run_button"),
        type="primary",
        icon=":material/play_arrow:",
        key="eval_start",
        disabled=not dataset,
    ):
        start(
            RunConfig(
                dataset=Path(dataset).expanduser().resolve(),
                drafter=str(drafter) if llm else "offline",
                limit=int(limit) if limit else None,
                seed=int(seed),
                workers=int(workers),
                threshold=float(threshold) if threshold is not None else None,
            )
        )
    st.caption(md(t("evals_runs_written", folder=RUNS)))
    replay_section(str(drafter) if llm else "offline")
    unfinished = [r for r in runs if not r.complete]
    if unfinished:
        st.subheader(t("evals_interrupted"))
        for r in unfinished:
            left, right = st.columns([4, 1], vertical_alignment="center")
            left.text(r.label)
            if right.button(
                t("evals_resume"), key=f"eval_resume_{r.name}", icon=":material/replay:"
            ):
                start(browse.resume_config(r))


def results_tab(runs: list[browse.RunInfo]) -> None:
    notice = S.pop("eval_notice", None)
    if notice:
        st.success(md(notice), icon=":material/check_circle:")
    info = run_picker(runs, "results")
    run = browse.load_run(info.folder)
    s, m = run.summary, run.manifest
    st.caption(
        md(
            f"{m['mode']['drafter']} drafter · {m['mode']['judge']} judge · git {str(m['git_sha'])[:10]} · dataset {str(m['dataset_hash'])[:10]} · KB {str(m['kb_hash'])[:10]} · embedder {m['embedder']} · seed {m['seed']} · intervals: {s['interval_method']}"
        )
    )
    d = s["deflection"]
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
        f"{run.threshold:.2f}",
        border=True,
        help=t("evals_threshold_metric_help"),
    )

    st.subheader(t("evals_metrics"))
    st.table(  # a static table wraps long values; its cells are Markdown: escaped
        pd.DataFrame(
            [(md(k), md(v)) for k, v in summary_rows(s)], columns=["metric", "value [95% CI]"]
        ),
        hide_index=True,
    )
    for note in browse.summary_notes(s):
        st.caption(md(note))

    st.subheader(t("evals_plots"))
    charts = report_charts(s, run.records)
    for row in range(0, len(charts), 2):  # a row of columns at a time: stacks in reading order
        for col, svg in zip(st.columns(2), charts[row : row + 2], strict=False):
            col.image(svg)  # our SVG, drawn from numbers: shown as an image, never as HTML

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
    report = info.folder / "report.html"
    if report.is_file():
        st.download_button(
            t("evals_download_report"),
            data=report.read_bytes(),
            file_name=f"{info.name}-report.html",
            mime="text/html",
            icon=":material/download:",
            on_click="ignore",
            key="eval_download",
        )


def _cases_table(rows: list[dict[str, Any]], key: str) -> None:
    st.dataframe(
        pd.DataFrame(rows),
        hide_index=True,
        width="stretch",
        key=key,
        column_config={"confidence": st.column_config.NumberColumn(format="%.2f")},
    )


def cases_tab(runs: list[browse.RunInfo]) -> None:
    info = run_picker(runs, "cases")
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
        case_detail(rec, tau)


def case_detail(r: dict[str, Any], tau: float) -> None:
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


def compare_tab(runs: list[browse.RunInfo]) -> None:
    done = [r for r in runs if r.complete]
    if len(done) < 2:
        st.info(
            t("evals_compare_needs_two"),
            icon=":material/compare_arrows:",
        )
        return
    by_name = {r.name: r for r in done}
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
    gate = c["gate"]
    verdict = md(
        f"Gate (margin {100 * gate['margin']:.1f} pp): "
        + ("PASS" if gate["passed"] else "FAIL")
        + f" — {gate['reason']}"
    )
    if gate["passed"]:
        st.success(verdict, icon=":material/check_circle:")
    else:
        st.error(verdict, icon=":material/block:")
    st.dataframe(
        pd.DataFrame(browse.gate_rows(c)),
        hide_index=True,
        width="stretch",
        height="content",
        key="eval_gate",
    )
    st.subheader(t("evals_metrics_delta"))
    st.dataframe(
        pd.DataFrame(browse.comparison_rows(c)),
        hide_index=True,
        width="stretch",
        height="content",
        key="eval_comparison",
    )
    lat = c["latency"]
    if lat.get("a_p50") is not None and lat.get("b_p50") is not None:
        cols = st.columns(3)
        cols[0].metric(
            t("evals_latency_p50"),
            f"{lat['b_p50']:.1f} ms",
            delta=f"{lat['b_p50'] - lat['a_p50']:+.1f} ms",
            delta_color="inverse",
            border=True,
        )
        cols[1].metric(
            t("evals_latency_p95"),
            f"{lat['b_p95']:.1f} ms",
            delta=f"{lat['b_p95'] - lat['a_p95']:+.1f} ms",
            delta_color="inverse",
            border=True,
        )
        cols[2].metric(
            "Wilcoxon p",
            "–" if lat.get("wilcoxon_p") is None else f"{lat['wilcoxon_p']:.3f}",
            border=True,
        )
    changed = c["changed_cases"]
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


# -- layout --------------------------------------------------------------------------
st.title(t("evals_title"))
runs = browse.list_runs(RUNS)
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
        run_tab(runs)
if results_t.open:
    with results_t:
        if finished:
            results_tab(finished)
        else:
            st.info(
                t("evals_no_finished_run"),
                icon=":material/science:",
            )
if cases_t.open:
    with cases_t:
        if finished:
            cases_tab(finished)
        else:
            st.info(t("evals_no_finished_run_short"), icon=":material/science:")
if compare_t.open:
    with compare_t:
        compare_tab(runs)
