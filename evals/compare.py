"""Paired comparison of two runs on the same cases (EVALS.md §1.12).

Per metric: the delta B - A with a paired (cluster) bootstrap interval, the exact McNemar
p-value for binary per-case outcomes, win/tie/loss counts and the minimum detectable
difference for this sample; plus the cases whose outcome changed, and a CI gate on interval
bounds (never point estimates, :mod:`evals.gate`).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from evals.aggregates import hit_at
from evals.gate import gate_checks
from evals.judge import comparison_outcomes
from evals.outcomes import Record, answered, outcome, scored
from evals.records import read_results
from evals.stats import mcnemar_exact, paired_mde, percentile


def load_run(folder: Path) -> tuple[dict[str, Any], dict[str, Record]]:
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    return manifest, {r["id"]: r for r in read_results(folder)}


def _paired_bootstrap(
    groups: list[str],
    stat: Callable[[np.ndarray], float | None],
    n: int,
    b: int = 2000,
    seed: int = 0,
) -> tuple[float | None, float | None]:
    uniq = sorted(set(groups))
    members = {g: [i for i, x in enumerate(groups) if x == g] for g in uniq}
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(b):
        idx = np.concatenate([members[uniq[k]] for k in rng.integers(0, len(uniq), size=len(uniq))])
        v = stat(idx)
        if v is not None:
            out.append(v)
    if not out:
        return None, None
    return float(np.percentile(out, 2.5)), float(np.percentile(out, 97.5))


def compare_runs(a_dir: Path, b_dir: Path, *, margin: float = 0.02) -> dict[str, Any]:
    ma, ra = load_run(a_dir)
    mb, rb = load_run(b_dir)
    tau_a, tau_b = float(ma["threshold"]), float(mb["threshold"])
    ids_a = {r["id"] for r in scored(list(ra.values()))}
    ids_b = {r["id"] for r in scored(list(rb.values()))}
    ids = sorted(ids_a & ids_b)
    A = [ra[i] for i in ids]
    B = [rb[i] for i in ids]
    metrics = _paired_metrics(A, B, tau_a, tau_b)
    checks = gate_checks({m["metric"]: m for m in metrics}, margin)
    failed = [c for c in checks if c["status"] != "pass"]
    return {
        "a": str(a_dir),
        "b": str(b_dir),
        "n_paired": len(ids),
        "only_a": len(ids_a - ids_b),
        "only_b": len(ids_b - ids_a),
        "thresholds": {"a": tau_a, "b": tau_b},
        "metrics": metrics,
        "latency": _latency(A, B),
        "changed_cases": [
            {
                "id": a["id"],
                "a": _label(a, tau_a),
                "b": _label(b, tau_b),
                "question": a.get("question", "")[:120],
            }
            for a, b in zip(A, B, strict=True)
            if _label(a, tau_a) != _label(b, tau_b)
        ],
        "gate": {
            "passed": not failed,
            "reason": "; ".join(f"{c['check']}: {c['why']}" for c in failed)
            or "every check passed",
            "margin": margin,
            "checks": checks,
        },
    }


def _paired_metrics(
    A: list[Record], B: list[Record], tau_a: float, tau_b: float
) -> list[dict[str, Any]]:
    """Every metric of the comparison on the paired cases ``A`` and ``B`` (the same ids)."""

    def judged(r: Record) -> bool:
        return bool(r.get("verdicts"))

    metrics = [
        _binary(A, B, "deflected", lambda r: outcome(r, tau_a)[0], lambda r: outcome(r, tau_b)[0]),
        _binary(
            A,
            B,
            "false_deflected (per case)",
            lambda r: outcome(r, tau_a)[1],
            lambda r: outcome(r, tau_b)[1],
            better="lower",
        ),
        _binary(
            A,
            B,
            "escalation correct",
            lambda r: float((not answered(r, tau_a)) == r["should_escalate"]),
            lambda r: float((not answered(r, tau_b)) == r["should_escalate"]),
        ),
        _binary(
            A,
            B,
            "escalation suggested (recall)",
            lambda r: float(r["escalate"]),
            lambda r: float(r["escalate"]),
            among=lambda a, b: bool(a["should_escalate"]),
        ),
        *(  # what the registered evaluators of the offline judge count per case
            _binary(
                A,
                B,
                o.label,
                (has := _has_verdict(o.key)),
                has,
                better=o.better,
                among=lambda a, b: judged(a) and judged(b),
            )
            for o in comparison_outcomes()
        ),
    ]
    if any(r["reference_doc_ids"] for r in A):
        hit5 = _binary(
            A,
            B,
            "retrieval hit@5",
            (hit := lambda r: float(hit_at(r, 5))),
            hit,
            among=lambda a, b: bool(a["reference_doc_ids"]),
        )
        metrics.append({k: v for k, v in hit5.items() if k != "n"})
    metrics.append(_fdr_metric(A, B, tau_a, tau_b, [r["group"] for r in A]))
    return metrics


def _binary(
    A: list[Record],
    B: list[Record],
    name: str,
    fa: Callable[[Record], float],
    fb: Callable[[Record], float],
    better: str = "higher",
    among: Callable[[Record, Record], bool] | None = None,
) -> dict[str, Any]:
    """A paired 0/1 outcome, over the cases ``among`` keeps (all by default)."""
    keep = [i for i in range(len(A)) if among is None or among(A[i], B[i])]
    return _paired(
        name,
        np.array([fa(A[i]) for i in keep], dtype=float),
        np.array([fb(B[i]) for i in keep], dtype=float),
        [A[i]["group"] for i in keep],
        better,
    )


def _paired(
    name: str, xa: np.ndarray, xb: np.ndarray, groups: list[str], better: str
) -> dict[str, Any]:
    """A paired 0/1 outcome of runs A and B on the same cases: means, the delta with its
    group bootstrap interval, McNemar's exact p, wins/ties/losses and the detectable delta."""
    m = len(xa)
    b_disc = int(((xa == 1) & (xb == 0)).sum())
    c_disc = int(((xa == 0) & (xb == 1)).sum())
    low, high = (
        _paired_bootstrap(groups, lambda idx: float(xb[idx].mean() - xa[idx].mean()), m)
        if m
        else (None, None)
    )
    wins, losses = (c_disc, b_disc) if better == "higher" else (b_disc, c_disc)
    return {
        "metric": name,
        "n": m,
        "a": float(xa.mean()) if m else None,
        "b": float(xb.mean()) if m else None,
        "delta": float(xb.mean() - xa.mean()) if m else None,
        "low": low,
        "high": high,
        "mcnemar_p": mcnemar_exact(b_disc, c_disc) if m else None,
        "wins": wins,
        "ties": m - b_disc - c_disc,
        "losses": losses,
        "mde": paired_mde((b_disc + c_disc) / m, m) if m else None,
        "better": better,
    }


def _fdr_metric(
    A: list[Record], B: list[Record], tau_a: float, tau_b: float, groups: list[str]
) -> dict[str, Any]:
    """The false-deflection rate is a ratio over answered cases: its delta is bootstrapped
    directly."""
    n = len(A)

    def fdr(rs: list[Record], tau: float, idx: np.ndarray) -> float | None:
        sel = [rs[i] for i in idx]
        a = sum(1 for r in sel if answered(r, tau))
        return sum(outcome(r, tau)[1] for r in sel) / a if a else None

    fdr_a, fdr_b = fdr(A, tau_a, np.arange(n)), fdr(B, tau_b, np.arange(n))

    def fdr_delta(idx: np.ndarray) -> float | None:
        x, y = fdr(A, tau_a, idx), fdr(B, tau_b, idx)
        return None if x is None or y is None else y - x

    fl, fh = _paired_bootstrap(groups, fdr_delta, n) if n else (None, None)
    return {
        "metric": "false-deflection rate (of answered)",
        "a": fdr_a,
        "b": fdr_b,
        "delta": (fdr_b - fdr_a) if fdr_a is not None and fdr_b is not None else None,
        "low": fl,
        "high": fh,
        "mcnemar_p": None,
        "wins": None,
        "ties": None,
        "losses": None,
        "mde": None,
        "better": "lower",
    }


def _latency(A: list[Record], B: list[Record]) -> dict[str, Any]:
    """Latency percentiles of both runs, with a paired Wilcoxon test when every case has one."""
    lat_a = [r["timings"].get("total_ms") for r in A if r["timings"].get("total_ms") is not None]
    lat_b = [r["timings"].get("total_ms") for r in B if r["timings"].get("total_ms") is not None]
    latency = {
        "a_p50": percentile(lat_a, 50),
        "b_p50": percentile(lat_b, 50),
        "a_p95": percentile(lat_a, 95),
        "b_p95": percentile(lat_b, 95),
    }
    if len(lat_a) == len(lat_b) == len(A) and A:
        from scipy.stats import wilcoxon

        diffs = np.array(lat_b) - np.array(lat_a)
        latency["wilcoxon_p"] = float(wilcoxon(diffs).pvalue) if np.any(diffs) else 1.0
    return latency


def _has_verdict(key: str) -> Callable[[Record], float]:
    """1 when the case's verdicts list something under ``key`` (leaks, forbidden facts)."""
    return lambda r: float(bool(r["verdicts"].get(key)))


def _label(r: Record, tau: float) -> str:
    d, fd = outcome(r, tau)
    return (
        "deflected"
        if d
        else "false-deflected"
        if fd
        else "escalated"
        if not answered(r, tau)
        else "answered"
    )


def format_comparison(c: dict[str, Any]) -> str:
    def pct(x: float | None) -> str:
        return "n/a" if x is None else f"{100 * x:.1f}%"

    def pp(x: float | None) -> str:
        return "n/a" if x is None else f"{100 * x:+.1f}pp"

    lines = [
        f"A = {c['a']}",
        f"B = {c['b']}",
        f"{c['n_paired']} paired cases (only in A: {c['only_a']}, only in B: {c['only_b']}); thresholds A {c['thresholds']['a']:.2f}, B {c['thresholds']['b']:.2f}",
        "",
    ]
    lines.append(
        f"{'metric':<38} {'A':>7} {'B':>7} {'delta [95% CI]':>28} {'McNemar p':>10} {'W/T/L':>12} {'MDE':>7}"
    )
    for m in c["metrics"]:
        ci = f"{pp(m['delta'])} [{pp(m['low'])}, {pp(m['high'])}]"
        wtl = f"{m['wins']}/{m['ties']}/{m['losses']}" if m["wins"] is not None else "-"
        p = f"{m['mcnemar_p']:.3f}" if m["mcnemar_p"] is not None else "-"
        mde = pp(m["mde"]).lstrip("+") if m["mde"] is not None else "-"
        lines.append(
            f"{m['metric']:<38} {pct(m['a']):>7} {pct(m['b']):>7} {ci:>28} {p:>10} {wtl:>12} {mde:>7}"
        )
    lat = c["latency"]
    if lat.get("a_p50") is not None:
        lines.append(
            f"\nlatency p50 {lat['a_p50']:.1f} -> {lat['b_p50']:.1f} ms, p95 {lat['a_p95']:.1f} -> {lat['b_p95']:.1f} ms"
            + (f" (Wilcoxon p={lat['wilcoxon_p']:.3f})" if "wilcoxon_p" in lat else "")
        )
    lines.append(f"\n{len(c['changed_cases'])} cases changed outcome:")
    for ch in c["changed_cases"][:20]:
        lines.append(f"  {ch['id']}: {ch['a']} -> {ch['b']}  {ch['question']}")
    lines.append(
        f"\ngate (margin {100 * c['gate']['margin']:.1f} pp): {'PASS' if c['gate']['passed'] else 'FAIL'} — {c['gate']['reason']}"
    )
    for chk in c["gate"].get("checks", []):
        lines.append(f"  [{chk['status']:>4}] {chk['check']}: {chk['why']}")
    return "\n".join(lines)
