"""Live analytics from what agents did with the drafts: pure functions over store rows.

Inputs are the rows of :meth:`ConversationStore.feedback_rows` (one per send, escalation or
discard) and :meth:`ConversationStore.draft_rows` (one per suggestion). Outputs are pandas
DataFrames and dicts that the analytics page charts as they are; every function accepts zero
rows and then returns empty frames (with their columns) or ``None`` figures.

Definitions
- outcome: ``accepted`` (sent as drafted), ``edited`` (sent after editing), ``rejected``
  (draft discarded, or a reply sent without a draft), ``escalated`` (handed to a queue).
- edit ratio: character-level Levenshtein distance / the longer text (0 = sent as drafted),
  over sent drafts only.
- time to first reply: for each conversation, the wait of the customer before the first
  reply an agent sent (escalations and discards are not replies).
- days are UTC calendar days.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pandas as pd

from copilot.desk.store import LIGHT_EDIT

OUTCOMES = ("accepted", "edited", "rejected", "escalated")
# Edit-ratio buckets: (label, lower bound exclusive, upper bound inclusive); exactly 0 is "as-is".
EDIT_BUCKETS: tuple[tuple[str, float, float], ...] = (
    ("0–10 %", 0.0, 0.1),
    ("10–20 %", 0.1, 0.2),
    ("20–40 %", 0.2, 0.4),
    ("40–60 %", 0.4, 0.6),
    ("60–100 %", 0.6, 1.0),
)
AS_IS = "0 (as-is)"
ANSWER_WITHIN_S = 180.0  # customers expect an answer within 3 minutes

Row = Mapping[str, Any]


def acceptance(rows: Sequence[Row]) -> pd.DataFrame:
    """One row per outcome (always the four, in order): ``outcome``, ``count``, ``rate``."""
    counts = {o: 0 for o in OUTCOMES}
    for r in rows:
        if r["outcome"] in counts:
            counts[r["outcome"]] += 1
    total = sum(counts.values())
    return pd.DataFrame(
        {
            "outcome": list(OUTCOMES),
            "count": [counts[o] for o in OUTCOMES],
            "rate": [counts[o] / total if total else 0.0 for o in OUTCOMES],
        }
    )


def edit_ratio_distribution(rows: Sequence[Row]) -> pd.DataFrame:
    """How much agents changed the drafts they sent: ``bucket``, ``count``, ``share``."""
    ratios = [
        float(r["edit_ratio"])
        for r in rows
        if r["outcome"] in ("accepted", "edited") and r.get("edit_ratio") is not None
    ]
    labels = [AS_IS, *(b[0] for b in EDIT_BUCKETS)]
    counts = dict.fromkeys(labels, 0)
    for x in ratios:
        if x <= 0:
            counts[AS_IS] += 1
            continue
        label = next((name for name, lo, hi in EDIT_BUCKETS if lo < x <= hi), EDIT_BUCKETS[-1][0])
        counts[label] += 1
    n = len(ratios)
    return pd.DataFrame(
        {
            "bucket": labels,
            "count": [counts[b] for b in labels],
            "share": [counts[b] / n if n else 0.0 for b in labels],
        }
    )


def escalation_by_reason(rows: Sequence[Row]) -> pd.DataFrame:
    """Per reason the copilot gave: how often it was suggested, how often agents escalated.

    Columns: ``reason``; ``suggested`` (handled drafts carrying the reason); ``escalated``
    (those the agent escalated); ``rate`` (escalated / all handled drafts); ``followed``
    (escalated / suggested). Escalations without any reason count under ``(agent's call)``.
    Sorted by escalations, then by name.
    """
    total = len(rows)
    suggested: dict[str, int] = {}
    escalated: dict[str, int] = {}
    for r in rows:
        reasons = list(dict.fromkeys(r.get("reasons") or []))
        if r["outcome"] == "escalated" and not reasons:
            reasons = ["(agent's call)"]
        for code in reasons:
            suggested[code] = suggested.get(code, 0) + 1
            if r["outcome"] == "escalated":
                escalated[code] = escalated.get(code, 0) + 1
    codes = sorted(suggested, key=lambda c: (-escalated.get(c, 0), c))
    return pd.DataFrame(
        {
            "reason": codes,
            "suggested": [suggested[c] for c in codes],
            "escalated": [escalated.get(c, 0) for c in codes],
            "rate": [escalated.get(c, 0) / total for c in codes] if total else [],
            "followed": [escalated.get(c, 0) / suggested[c] for c in codes],
        },
        columns=["reason", "suggested", "escalated", "rate", "followed"],
    )


def first_reply_seconds(rows: Sequence[Row]) -> list[float]:
    """The wait before the first sent reply of each conversation, in row order."""
    seen: set[str] = set()
    out: list[float] = []
    for r in sorted(rows, key=lambda r: (r["created_at"], r.get("id") or 0)):
        if not str(r.get("sent_text") or "").strip() or r.get("seconds_to_send") is None:
            continue
        if r["conversation_id"] in seen:
            continue
        seen.add(r["conversation_id"])
        out.append(float(r["seconds_to_send"]))
    return out


def time_to_first_reply(rows: Sequence[Row]) -> dict[str, float | int | None]:
    """``replies``, ``median_s``, ``p90_s`` (linear interpolation) and ``within_3_min`` (share)."""
    waits = first_reply_seconds(rows)
    if not waits:
        return {"replies": 0, "median_s": None, "p90_s": None, "within_3_min": None}
    s = pd.Series(waits, dtype="float64")
    return {
        "replies": len(waits),
        "median_s": float(s.median()),
        "p90_s": float(s.quantile(0.9)),
        "within_3_min": float((s <= ANSWER_WITHIN_S).mean()),
    }


def _day(value: datetime) -> date:
    return (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(UTC).date()


def drafts_per_day(rows: Sequence[Row]) -> pd.DataFrame:
    """``day`` (every day from the first to the last, gaps as 0), ``drafts``, ``flagged``
    (drafts that advised escalation)."""
    if not rows:
        return pd.DataFrame(
            {
                "day": pd.Series([], dtype="object"),
                "drafts": pd.Series([], dtype="int64"),
                "flagged": pd.Series([], dtype="int64"),
            }
        )
    drafts: dict[date, int] = {}
    flagged: dict[date, int] = {}
    for r in rows:
        d = _day(r["created_at"])
        drafts[d] = drafts.get(d, 0) + 1
        flagged[d] = flagged.get(d, 0) + (1 if r.get("escalate") else 0)
    first, last = min(drafts), max(drafts)
    days = [first + timedelta(days=i) for i in range((last - first).days + 1)]
    return pd.DataFrame(
        {
            "day": days,
            "drafts": [drafts.get(d, 0) for d in days],
            "flagged": [flagged.get(d, 0) for d in days],
        }
    )


def summary(feedback: Sequence[Row], drafts: Iterable[Row] = ()) -> dict[str, float | int | None]:
    """Headline figures: counts, the rate of each outcome, and acceptance with light edits
    (sent as drafted, or edited with an edit ratio under ``LIGHT_EDIT``)."""
    draft_list = list(drafts)
    acc = acceptance(feedback).set_index("outcome")
    handled = int(acc["count"].sum())
    light = sum(
        1
        for r in feedback
        if r["outcome"] == "accepted"
        or (
            r["outcome"] == "edited"
            and r.get("edit_ratio") is not None
            and r["edit_ratio"] < LIGHT_EDIT
        )
    )
    out: dict[str, float | int | None] = {
        "drafts": len(draft_list),
        "handled": handled,
        "accepted_light": light / handled if handled else None,
    }
    for outcome in OUTCOMES:
        out[outcome] = int(acc.loc[outcome, "count"])
        out[f"{outcome}_rate"] = float(acc.loc[outcome, "rate"]) if handled else None
    return out
