"""Analytics: what agents do with the drafts (every role; team-level aggregates only).

Figures come from :mod:`copilot.desk.analytics` over the store's feedback and draft rows.
"""

from __future__ import annotations

from typing import Any

import altair as alt
import streamlit as st

from copilot.desk import analytics
from faces.pages import ui

ctx = ui.context()
t = ctx.t
fr = ctx.lang == "fr"
store = ctx.desk.store

OUTCOME_LABELS = {
    "accepted": t("analytics_outcome_accepted"),
    "edited": t("analytics_outcome_edited"),
    "rejected": t("analytics_outcome_rejected"),
    "escalated": t("analytics_outcome_escalated"),
}
OUTCOME_COLORS = ["#2e7d32", "#1565c0", "#9e9e9e", "#c62828"]


def pct(x: float | int | None) -> str:
    return "–" if x is None else f"{x:.0%}"


def secs(x: float | int | None) -> str:
    if x is None:
        return "–"
    return f"{x:.0f} s" if x < 120 else f"{x / 60:.1f} min"


def dashboard(feedback: list[dict[str, Any]], drafts: list[dict[str, Any]]) -> None:
    headline(feedback, drafts)
    left, right = st.columns(2, gap="large")
    with left:
        outcomes(feedback)
    with right:
        edit_share(feedback)
    left, right = st.columns(2, gap="large")
    with left:
        escalation_by_reason(feedback)
    with right:
        drafts_per_day(drafts)


def headline(feedback: list[dict[str, Any]], drafts: list[dict[str, Any]]) -> None:
    """Two rows of figures: what happened to the drafts, then the time to a first reply."""
    s = analytics.summary(feedback, drafts)
    ttfr = analytics.time_to_first_reply(feedback)
    top = st.columns(4)
    top[0].metric(t("analytics_drafts"), s["drafts"], border=True)
    top[1].metric(
        t("analytics_handled"),
        s["handled"],
        border=True,
        help="Sent, edited, rejected or escalated drafts.",
    )
    top[2].metric(t("analytics_sent_as_drafted"), pct(s["accepted_rate"]), border=True)
    top[3].metric(
        t("analytics_accepted_light"),
        pct(s["accepted_light"]),
        border=True,
        help="Sent as drafted, or edited with an edit ratio under 40 %.",
    )
    times = st.columns(4)
    times[0].metric(t("analytics_first_reply_median"), secs(ttfr["median_s"]), border=True)
    times[1].metric(t("analytics_first_reply_p90"), secs(ttfr["p90_s"]), border=True)
    times[2].metric(
        t("analytics_within_3_min"),
        pct(ttfr["within_3_min"]),
        border=True,
        help="Customers expect an answer within 3 minutes.",
    )
    times[3].metric(t("analytics_escalated"), pct(s["escalated_rate"]), border=True)


def outcomes(feedback: list[dict[str, Any]]) -> None:
    st.subheader(t("analytics_outcomes"))
    acc = analytics.acceptance(feedback)
    acc["label"] = acc["outcome"].map(OUTCOME_LABELS)
    if int(acc["count"].sum()) == 0:
        st.caption(t("analytics_no_draft_handled"))
    else:
        chart = (
            alt.Chart(acc)
            .mark_bar()
            .encode(
                x=alt.X("rate:Q", axis=alt.Axis(format="%"), title=None),
                y=alt.Y("label:N", sort=list(OUTCOME_LABELS.values()), title=None),
                color=alt.Color(
                    "label:N",
                    scale=alt.Scale(domain=list(OUTCOME_LABELS.values()), range=OUTCOME_COLORS),
                    legend=None,
                ),
                tooltip=["label", "count", alt.Tooltip("rate:Q", format=".0%")],
            )
            .properties(height=260)
        )
        st.altair_chart(chart, width="stretch")


def edit_share(feedback: list[dict[str, Any]]) -> None:
    st.subheader(t("analytics_edit_share"))
    dist = analytics.edit_ratio_distribution(feedback)
    if int(dist["count"].sum()) == 0:
        st.caption(t("analytics_no_reply_from_draft"))
    else:
        st.bar_chart(
            dist,
            x="bucket",
            y="count",
            x_label="edit ratio",
            y_label="replies",
            sort=False,
            color="#4f46e5",
        )


def escalation_by_reason(feedback: list[dict[str, Any]]) -> None:
    st.subheader(t("analytics_escalation_by_reason"))
    reasons = analytics.escalation_by_reason(feedback)
    if reasons.empty:
        st.caption(t("analytics_no_escalation_reason"))
    else:
        policy = ctx.ws.policies.current()
        reasons["reason"] = reasons["reason"].map(
            lambda code: policy.label(code, "fr" if fr else "en")
        )
        st.dataframe(
            reasons,
            hide_index=True,
            column_config={
                "rate": st.column_config.ProgressColumn(
                    "escalation rate", format="percent", min_value=0.0, max_value=1.0
                ),
                "followed": st.column_config.NumberColumn("followed", format="percent"),
            },
        )


def drafts_per_day(drafts: list[dict[str, Any]]) -> None:
    st.subheader(t("analytics_drafts_per_day"))
    per_day = analytics.drafts_per_day(drafts)
    if per_day.empty:
        st.caption(t("analytics_no_draft"))
    else:
        names = {
            "drafts": t("analytics_series_drafts"),
            "flagged": t("analytics_series_flagged"),
        }
        long = per_day.assign(day=per_day["day"].map(lambda d: d.isoformat())).melt(
            "day", var_name="series", value_name="n"
        )
        long["series"] = long["series"].map(names)
        chart = (
            alt.Chart(long)
            .mark_bar()
            .encode(
                x=alt.X("day:N", title=None),
                xOffset="series:N",
                y=alt.Y("n:Q", title=None, axis=alt.Axis(tickMinStep=1)),
                color=alt.Color(
                    "series:N",
                    scale=alt.Scale(domain=list(names.values()), range=["#4f46e5", "#c62828"]),
                    title=None,
                ),
                tooltip=["day", "series", "n"],
            )
        )
        st.altair_chart(chart, width="stretch")


st.title(t("analytics_title"))
feedback = store.feedback_rows()
drafts = store.draft_rows()
if feedback or drafts:
    dashboard(feedback, drafts)
else:
    st.info(
        t("analytics_no_data"),
        icon=":material/insights:",
    )
