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

from evals.aggregates import hit_at, measured
from evals.gate import gate_checks
from evals.judge import Measure, comparison_outcomes, registered_measures
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
    metrics += [m for m in (_paired_mean(A, B, x) for x in registered_measures()) if m["n"]]
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
    name: str, xa: np.ndarray, xb: np.ndarray, groups: list[str], better: str, binary: bool = True
) -> dict[str, Any]:
    """A paired outcome of runs A and B on the same cases: means, the delta with its group
    bootstrap interval, wins/ties/losses (cases that moved in the better direction, did not
    move, moved in the worse) and, for a 0/1 outcome, McNemar's exact p and the detectable
    delta (a number per case has neither: its values are in its own unit)."""
    m = len(xa)
    down, up = int((xb < xa).sum()), int((xb > xa).sum())  # for 0/1: McNemar's b and c
    low, high = (
        _paired_bootstrap(groups, lambda idx: float(xb[idx].mean() - xa[idx].mean()), m)
        if m
        else (None, None)
    )
    wins, losses = (up, down) if better == "higher" else (down, up)
    return {
        "metric": name,
        "n": m,
        "a": float(xa.mean()) if m else None,
        "b": float(xb.mean()) if m else None,
        "delta": float(xb.mean() - xa.mean()) if m else None,
        "low": low,
        "high": high,
        "mcnemar_p": mcnemar_exact(down, up) if m and binary else None,
        "wins": wins,
        "ties": m - down - up,
        "losses": losses,
        "mde": paired_mde((down + up) / m, m) if m and binary else None,
        "better": better,
        **({} if binary else {"scale": "number"}),
    }


def _paired_mean(A: list[Record], B: list[Record], m: Measure) -> dict[str, Any]:
    """A number per case (an evaluator's measure) on the drafts both runs would send (scored,
    not handed over, measured in both)."""
    pairs = [
        (measured(a, m.key), measured(b, m.key), a["group"]) for a, b in zip(A, B, strict=True)
    ]
    keep = [(x, y, g) for x, y, g in pairs if x is not None and y is not None]
    return _paired(
        m.label,
        np.array([x for x, _, _ in keep], dtype=float),
        np.array([y for _, y, _ in keep], dtype=float),
        [g for _, _, g in keep],
        m.better,
        binary=False,
    )


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


def pct(x: float | None) -> str:
    return "n/a" if x is None else f"{100 * x:.1f}%"


def pp(x: float | None) -> str:
    return "n/a" if x is None else f"{100 * x:+.1f} pp"


def _number(x: float | None) -> str:
    return "n/a" if x is None else f"{x:.3g}"


def _signed(x: float | None) -> str:
    return "n/a" if x is None else f"{x:+.3g}"


def comparison_rows(c: dict[str, Any]) -> list[dict[str, str]]:
    """One row per metric, as the CLI prints it and the page shows it: A, B, the delta B − A
    with its 95 % interval, McNemar's p, W/T/L (wins are changes in the better direction) and
    the minimum detectable difference. Shares are in % and points, means of a number per case
    in its own unit."""
    rows = []
    for m in c["metrics"]:
        value, delta = (_number, _signed) if m.get("scale") == "number" else (pct, pp)
        rows.append(
            {
                "metric": m["metric"],
                "better": m["better"],
                "A": value(m["a"]),
                "B": value(m["b"]),
                "delta B−A [95% CI]": f"{delta(m['delta'])} [{delta(m['low'])}, {delta(m['high'])}]",
                "McNemar p": "–" if m["mcnemar_p"] is None else f"{m['mcnemar_p']:.3f}",
                "W/T/L": "–" if m["wins"] is None else f"{m['wins']}/{m['ties']}/{m['losses']}",
                "MDE": "–" if m["mde"] is None else f"{100 * m['mde']:.1f} pp",
            }
        )
    return rows


def format_comparison(c: dict[str, Any]) -> str:
    lines = [
        f"A = {c['a']}",
        f"B = {c['b']}",
        f"{c['n_paired']} paired cases (only in A: {c['only_a']}, only in B: {c['only_b']}); thresholds A {c['thresholds']['a']:.2f}, B {c['thresholds']['b']:.2f}",
        "",
    ]
    rows = comparison_rows(c)
    if rows:
        widths = {k: max(len(k), *(len(r[k]) for r in rows)) for k in rows[0]}
        lines.append("  ".join(k.ljust(w) for k, w in widths.items()).rstrip())
        for r in rows:
            lines.append("  ".join(r[k].ljust(w) for k, w in widths.items()).rstrip())
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
