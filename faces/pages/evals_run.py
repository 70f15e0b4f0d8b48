"""Evals: the Run tab. Pick a dataset and the run's options, run (or resume) an eval with a
progress bar, then open its results; the desk's replay lies below (``evals_replay``)."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from evals import RunConfig, browse, run_eval
from evals.runner import new_run_folder
from faces.pages import ui
from faces.pages.evals_replay import replay_section
from faces.pages.ui import md_text as md
from knowledge import SouffleurError

S = st.session_state
OTHER = "__other__"


def start(ctx: ui.Context, cfg: RunConfig) -> None:
    """Run (or resume) an eval with a progress bar, then open its results."""
    t = ctx.t
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
            cfg.out = new_run_folder(
                browse.runs_dir(ctx.settings.data_dir), cfg.dataset, cfg.drafter
            )
        result = run_eval(
            cfg, ctx.settings, embedder=ctx.ws.kb.embedder, progress=progress, workspace=ctx.ws
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
    S["eval_next_tab"] = t("evals_tab_results")  # a tab's label is its key (evals.py: TABS)
    st.rerun()


def run_tab(ctx: ui.Context, runs: list[browse.RunInfo]) -> None:
    t = ctx.t
    dataset = dataset_picker(ctx)
    llm = bool(ctx.settings.llm_base_url)
    drafter, limit, seed, workers, threshold = run_options(ctx, llm=llm)
    if st.button(
        t("evals_run_button"),
        type="primary",
        icon=":material/play_arrow:",
        key="eval_start",
        disabled=not dataset,
    ):
        start(
            ctx,
            RunConfig(
                dataset=Path(dataset).expanduser().resolve(),
                drafter=str(drafter) if llm else "offline",
                limit=int(limit) if limit else None,
                seed=int(seed),
                workers=int(workers),
                threshold=float(threshold) if threshold is not None else None,
            ),
        )
    st.caption(md(t("evals_runs_written", folder=browse.runs_dir(ctx.settings.data_dir))))
    replay_section(ctx, str(drafter) if llm else "offline")
    interrupted_runs(ctx, runs)


def dataset_picker(ctx: ui.Context) -> str:
    """The bundled demo set, the dev sets found beside the repository, or a folder typed in;
    returns the dataset's folder ("" while none is typed)."""
    t = ctx.t
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
    return dataset


def run_options(
    ctx: ui.Context, *, llm: bool
) -> tuple[str | None, float | None, float, float, float | None]:
    """The row of the run's options: drafter, case limit, seed, workers, threshold."""
    t = ctx.t
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
    return drafter, limit, seed, workers, threshold


def interrupted_runs(ctx: ui.Context, runs: list[browse.RunInfo]) -> None:
    unfinished = [r for r in runs if not r.complete]
    if unfinished:
        st.subheader(ctx.t("evals_interrupted"))
        for r in unfinished:
            left, right = st.columns([4, 1], vertical_alignment="center")
            left.text(r.label)
            if right.button(
                ctx.t("evals_resume"), key=f"eval_resume_{r.name}", icon=":material/replay:"
            ):
                start(ctx, browse.resume_config(r))
