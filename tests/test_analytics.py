"""Analytics over feedback and draft rows, checked against figures computed by hand."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import pytest

from copilot.desk import analytics

T0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


def fb(
    id: int,
    conv: str,
    outcome: str,
    *,
    ratio: float | None = None,
    secs: float | None = None,
    sent: str = "",
    reasons: tuple[str, ...] = (),
    minutes: int = 0,
) -> dict[str, Any]:
    return {
        "id": id,
        "conversation_id": conv,
        "outcome": outcome,
        "edit_ratio": ratio,
        "seconds_to_send": secs,
        "sent_text": sent,
        "reasons": list(reasons),
        "created_at": T0 + timedelta(minutes=minutes),
    }


ROWS = [
    fb(1, "c1", "accepted", ratio=0.0, secs=30, sent="ok"),
    fb(2, "c2", "edited", ratio=0.05, secs=60, sent="ok", minutes=1),
    fb(3, "c3", "edited", ratio=0.3, secs=120, sent="ok", minutes=2),
    fb(
        4, "c1", "accepted", ratio=0.0, secs=500, sent="ok", minutes=3
    ),  # c1's second reply: not a first reply
    fb(5, "c4", "escalated", secs=200, reasons=("anger", "refund_over_limit"), minutes=4),
    fb(6, "c5", "rejected", reasons=("low_confidence",), minutes=5),  # a discard: nothing sent
    fb(7, "c6", "edited", ratio=0.7, secs=400, sent="x", reasons=("anger",), minutes=6),
    fb(8, "c7", "escalated", secs=50, minutes=7),  # escalated with no reason: the agent's call
]


def test_acceptance_counts_and_rates_of_the_four_outcomes() -> None:
    acc = analytics.acceptance(ROWS)
    assert list(acc["outcome"]) == ["accepted", "edited", "rejected", "escalated"]
    assert list(acc["count"]) == [2, 3, 1, 2]
    assert list(acc["rate"]) == pytest.approx([0.25, 0.375, 0.125, 0.25])


def test_edit_ratio_distribution_over_sent_drafts() -> None:
    dist = analytics.edit_ratio_distribution(ROWS)  # sent drafts: 0, 0.05, 0.3, 0, 0.7
    assert list(dist["bucket"]) == [
        "0 (as-is)",
        "0–10 %",
        "10–20 %",
        "20–40 %",
        "40–60 %",
        "60–100 %",
    ]
    assert list(dist["count"]) == [2, 1, 0, 1, 0, 1]
    assert list(dist["share"]) == pytest.approx([0.4, 0.2, 0, 0.2, 0, 0.2])
    edges = analytics.edit_ratio_distribution(
        [fb(1, "a", "edited", ratio=0.1), fb(2, "b", "edited", ratio=1.0)]
    )
    assert list(edges["count"]) == [0, 1, 0, 0, 0, 1]  # upper bounds are inclusive


def test_escalation_rate_by_reason() -> None:
    by = analytics.escalation_by_reason(ROWS).set_index("reason")
    assert list(by.index) == ["(agent's call)", "anger", "refund_over_limit", "low_confidence"]
    assert by.loc["anger", "suggested"] == 2 and by.loc["anger", "escalated"] == 1
    assert by.loc["anger", "rate"] == pytest.approx(1 / 8) and by.loc[
        "anger", "followed"
    ] == pytest.approx(0.5)
    assert by.loc["refund_over_limit", "followed"] == 1.0
    assert by.loc["low_confidence", "escalated"] == 0 and by.loc["low_confidence", "rate"] == 0


def test_time_to_first_reply_median_and_p90() -> None:
    assert analytics.first_reply_seconds(ROWS) == [30, 60, 120, 400]
    ttfr = analytics.time_to_first_reply(ROWS)
    # median of 30, 60, 120, 400 = 90; p90 at position 2.7 = 120 + 0.7 * (400 - 120) = 316
    assert (
        ttfr["replies"] == 4
        and ttfr["median_s"] == pytest.approx(90)
        and ttfr["p90_s"] == pytest.approx(316)
    )
    assert ttfr["within_3_min"] == pytest.approx(0.75)


def test_drafts_per_day_fills_gaps_in_utc() -> None:
    rows = [
        {"created_at": T0, "escalate": True},
        {
            "created_at": datetime(2026, 11, 21, 0, 30, tzinfo=timezone(timedelta(hours=2))),
            "escalate": False,
        },  # 20 Nov 22:30 UTC
        {"created_at": datetime(2026, 11, 22, 8, 0), "escalate": False},  # naive: taken as UTC
    ]
    per_day = analytics.drafts_per_day(rows)
    assert list(per_day["day"]) == [date(2026, 11, 20), date(2026, 11, 21), date(2026, 11, 22)]
    assert list(per_day["drafts"]) == [2, 0, 1] and list(per_day["flagged"]) == [1, 0, 0]


def test_summary_headline_figures() -> None:
    s = analytics.summary(ROWS, [{"created_at": T0}] * 10)
    assert s["drafts"] == 10 and s["handled"] == 8
    assert (
        s["accepted"] == 2
        and s["accepted_rate"] == pytest.approx(0.25)
        and s["escalated_rate"] == pytest.approx(0.25)
    )
    assert s["accepted_light"] == pytest.approx(4 / 8)  # 2 as-is + edits of 0.05 and 0.3 (< 0.4)


def test_everything_works_with_zero_rows() -> None:
    assert list(analytics.acceptance([])["count"]) == [0, 0, 0, 0]
    assert int(analytics.edit_ratio_distribution([])["count"].sum()) == 0
    by = analytics.escalation_by_reason([])
    assert by.empty and list(by.columns) == ["reason", "suggested", "escalated", "rate", "followed"]
    assert analytics.time_to_first_reply([]) == {
        "replies": 0,
        "median_s": None,
        "p90_s": None,
        "within_3_min": None,
    }
    per_day = analytics.drafts_per_day([])
    assert per_day.empty and list(per_day.columns) == ["day", "drafts", "flagged"]
    s = analytics.summary([], [])
    assert s["handled"] == 0 and s["accepted_rate"] is None and s["accepted_light"] is None
