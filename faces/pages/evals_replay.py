"""Evals: the desk's own conversations as a benchmark (under the Run tab): how many replies it
holds, a button that replays them (:mod:`evals.replay`), and the last replay's figures."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import streamlit as st

from evals import replay
from faces.pages import ui
from faces.pages.ui import md_text as md
from knowledge import SouffleurError

S = st.session_state


def start_replay(ctx: ui.Context, drafter: str) -> None:
    """Replay the desk's history (evals.replay): its figures are shown under the button."""
    t = ctx.t
    bar = st.progress(0.0, text=t("evals_building_set"))

    def progress(done: int, total: int) -> None:
        bar.progress(
            min(done / max(total, 1), 1.0), text=t("evals_progress_replies", done=done, total=total)
        )

    try:
        result = replay.run_replay(
            ctx.settings,
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


def replay_section(ctx: ui.Context, drafter: str) -> None:
    """The desk's own conversations as a benchmark: how many replies it holds, a button that
    replays them, and the last replay's figures."""
    t = ctx.t
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
        start_replay(ctx, drafter)
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
