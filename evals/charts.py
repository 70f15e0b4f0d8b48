"""The report's SVG charts, built from numbers and our own labels only (every text in them is
escaped by :mod:`evals.svg`): deflection vs FDR and risk–coverage with the thresholds marked,
the reliability diagram, the latency histogram and the per-expected_action bars."""

from __future__ import annotations

from typing import Any

from evals.svg import bar_chart, histogram, line_chart

Point = dict[str, Any]  # one threshold of the risk–coverage sweep


def charts(summary: dict[str, Any], records: list[dict[str, Any]]) -> list[str]:
    """Every chart of a run's report, in the report's order."""
    chosen = _thresholds_marked(summary)
    return [
        _deflection_chart(summary, chosen),
        _risk_coverage_chart(summary, chosen),
        _reliability_chart(summary),
        _latency_chart(records),
        *_action_charts(summary),
    ]


def _thresholds_marked(summary: dict[str, Any]) -> list[tuple[Point, str]]:
    """(sweep point, label) of the run's threshold and the risk-controlled one."""
    rc = summary["risk_coverage"]["points"]
    tau = summary["deflection"]["threshold"]
    by_tau = sorted(rc, key=lambda p: p["threshold"])
    chosen = []
    current = next((p for p in by_tau if p["threshold"] >= tau), None)
    if current:
        chosen.append((current, f"τ={tau:.2f}"))
    target = summary["target_risk"]
    if target.get("threshold") is not None:
        star = next((p for p in by_tau if p["threshold"] >= target["threshold"]), None)
        if star:
            chosen.append((star, f"τ*={target['threshold']:.2f}"))
    return chosen


def _deflection_chart(summary: dict[str, Any], chosen: list[tuple[Point, str]]) -> str:
    rc = summary["risk_coverage"]["points"]
    fdr_max = max([p["fdr"] for p in rc] + [0.1])
    return line_chart(
        "Deflection vs false-deflection rate",
        "false-deflection rate",
        "deflection rate",
        [("sweep over τ", "#1f77b4", [(p["fdr"], p["deflection"]) for p in reversed(rc)])],
        x_range=(0, min(1, fdr_max)),
        marks=[(p["fdr"], p["deflection"], label) for p, label in chosen],
    )


def _risk_coverage_chart(summary: dict[str, Any], chosen: list[tuple[Point, str]]) -> str:
    rc = summary["risk_coverage"]["points"]
    target = summary["target_risk"]
    return line_chart(
        "Risk–coverage",
        "coverage",
        "risk (FDR)",
        [
            ("FDR", "#ff7f0e", [(p["coverage"], p["fdr"]) for p in reversed(rc)]),
            (
                "FDR upper 95%",
                "#d62728",
                [(p["coverage"], p["fdr_upper"]) for p in reversed(rc)],
            ),
            (
                f"target {100 * target['target_fdr']:.0f}%",
                "#7f7f7f",
                [(0.0, target["target_fdr"]), (1.0, target["target_fdr"])],
            ),
        ],
        marks=[(p["coverage"], p["fdr"], label) for p, label in chosen],
    )


def _reliability_chart(summary: dict[str, Any]) -> str:
    bins = summary["calibration"].get("reliability", [])
    return line_chart(
        "Reliability diagram",
        "mean confidence",
        "observed rate",
        [("bins", "#2ca02c", [(b["confidence"], b["accuracy"]) for b in bins])],
        diagonal=True,
    )


def _latency_chart(records: list[dict[str, Any]]) -> str:
    return histogram(
        "Latency (pipeline)",
        [
            r["timings"]["total_ms"]
            for r in records
            if r["status"] == "scored" and r["timings"].get("total_ms") is not None
        ],
        xlabel="ms",
    )


def _action_charts(summary: dict[str, Any]) -> list[str]:
    actions = [a["expected_action"] for a in summary["by_action"]]
    return [
        bar_chart(
            "Deflected by expected action",
            actions,
            [a["deflected"] for a in summary["by_action"]],
            ylabel="cases",
        ),
        bar_chart(
            "False deflections by expected action",
            actions,
            [a["false_deflected"] for a in summary["by_action"]],
            color="#d62728",
            ylabel="cases",
        ),
    ]
