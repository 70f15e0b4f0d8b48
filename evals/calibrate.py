"""Fit the confidence model on labelled runs, and measure it honestly.

- the model: logistic regression on standardised evidence features, then an isotonic map
  fitted on out-of-fold predictions (so the calibration is not fitted on what it calibrates);
- the threshold: the largest coverage whose false-deflection upper bound (Clopper-Pearson,
  95 %, on the sample's effective size: variants of one question fail together) stays under
  the target on out-of-fold predictions of the training data (fixed-sequence testing, see
  :func:`evals.metrics.choose_threshold`);
- the measurement: grouped k-fold cross-validation (no group on both sides) and cross-set
  transfer (fit on one set, test on another). Numbers that only hold in-sample are not
  reported as results.

The model and its fit live in :mod:`evals.confidence_fit`, the printed report in
:mod:`evals.calibrate_format`; what the CLI uses of them is importable from here as well.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Sequence
from typing import Any

import numpy as np

from copilot.pipeline.confidence import ConfidenceModel
from evals.calibrate_format import format_recalibration, format_report
from evals.confidence_fit import (
    FIT_FEATURES,
    feedback_rows,
    fit,
    label,
    matrix,
    predict,
    relabel,
    rescore,
    safe_threshold,
    train,
    training_rows,
)
from evals.confidence_fit import grouped_folds as _folds  # the name the tests know
from evals.metrics import (
    Record,
    Step,
    by_confidence,
    calibration,
    choose_threshold,
    deflection,
    error_correlation,
    escalated_by_trigger,
    fdr_upper,
    outcome,
    risk_by_threshold,
    risk_coverage,
    scored,
    shares_groups,
    split_by_group,
)

__all__ = [
    "FIT_FEATURES",
    "at_coverage",
    "cross_validate",
    "evaluate",
    "feedback_rows",
    "fit",
    "format_recalibration",
    "format_report",
    "label",
    "largest_point_threshold",
    "matrix",
    "naive_baseline",
    "recalibrate_threshold",
    "relabel",
    "report",
    "rescore",
    "train",
    "training_rows",
]


def evaluate(
    model: ConfidenceModel, rows: Sequence[Record], *, low_confidence: float
) -> dict[str, Any]:
    test = [{**r, "_tau": model.threshold} for r in predict(model, rows, low_confidence)]
    clustered = shares_groups(test)
    return {
        "threshold": model.threshold,
        "deflection": deflection(test, model.threshold, clustered),
        "calibration": calibration(test),
        "aurc": risk_coverage(test)["aurc"],
        "records": test,
    }


def cross_validate(
    rows: Sequence[Record],
    *,
    target: float,
    low_confidence: float,
    folds: int = 5,
    seed: int = 0,
    c: float = 0.5,
    looser: Sequence[float] = (),
) -> dict[str, Any]:
    """Grouped k-fold: each fold is scored by a model (and threshold) fitted without it.

    ``looser`` targets reuse the same fold models, with their own thresholds: what the same
    protocol certifies when more risk is accepted."""
    targets = [target, *(t for t in looser if t > target)]
    pooled: dict[float, list[Record]] = {t: [] for t in targets}
    thresholds = []
    for test_idx in _folds([r["group"] for r in rows], folds, seed + 1):
        if len(test_idx) == 0:
            continue
        train_rows = [rows[i] for i in np.setdiff1d(np.arange(len(rows)), test_idx)]
        model, oof = fit(train_rows, c=c, seed=seed)
        out_of_fold = rescore(train_rows, oof, low_confidence)
        predicted = predict(model, [rows[i] for i in test_idx], low_confidence)
        for t in targets:
            tau = safe_threshold(out_of_fold, t)
            if t == target:
                thresholds.append(tau)
            pooled[t].extend({**r, "_tau": tau} for r in predicted)
    main = pooled[target]
    clustered = shares_groups(main)
    # the naive baselines' rule on the out-of-fold confidences: for comparison, not a guarantee
    tau_point = largest_point_threshold(main, target)
    return {
        "folds": folds,
        "thresholds": thresholds,
        # every pooled case was scored at its own fold's threshold: count outcomes case by case
        "deflection": _pooled_deflection(main, clustered),
        "looser": {t: _pooled_deflection(pooled[t], clustered) for t in targets[1:]},
        "threshold_point": tau_point,
        "deflection_point": deflection(
            main, tau_point if tau_point is not None else 1e9, clustered
        ),
        "calibration": calibration(main),
        "aurc": risk_coverage(main)["aurc"],
        "at_coverage": at_coverage(main),
    }


def at_coverage(
    records: Sequence[Record], levels: Sequence[float] = (0.05, 0.1, 0.2, 0.3, 0.4)
) -> list[dict[str, float]]:
    """False-deflection rate (point and 95 % upper bound on the effective sample) when
    answering the most confident share of the cases: how far the risk is from the target."""
    s = scored(records)
    icc = error_correlation(s)
    ranked = by_confidence(s)
    out = []
    for level in levels:
        k = round(level * len(s))
        if k == 0 or k > len(ranked):
            continue
        fails = sum(outcome(r, -1.0)[1] for r in ranked[:k])
        sizes = Counter(r["group"] for r in ranked[:k]).values()
        step = Step(ranked[k - 1]["confidence"], k, fails, sum(c * c for c in sizes) / k)
        out.append(
            {
                "coverage": level,
                "answered": k,
                "fdr": fails / k,
                "fdr_upper": fdr_upper(step, icc),
            }
        )
    return out


def _pooled_deflection(pooled: list[Record], clustered: bool) -> dict[str, Any]:
    # The fold thresholds are already applied through 'escalate'/'confidence': score at 0 after
    # turning "below its fold threshold" into an escalation.
    marked = [
        {**r, "escalate": r["escalate"] or r["confidence"] < r.get("_tau", 0.0)} for r in pooled
    ]
    return deflection(marked, 0.0, clustered)


def naive_baseline(rows: Sequence[Record], feature: str, *, target: float) -> dict[str, Any]:
    """Thresholding one raw feature (e.g. the top cosine) with the same risk control, in-sample."""
    recs = [
        {
            **r,
            "confidence": float(r["features"].get(feature, 0.0)),
            "escalate": escalated_by_trigger(r),
        }
        for r in rows
    ]
    tau = choose_threshold(recs, target)
    clustered = shares_groups(recs)
    tau_point = largest_point_threshold(recs, target)
    return {
        "feature": feature,
        "threshold": tau,
        "deflection": deflection(recs, tau if tau is not None else 1e9, clustered),
        # the rule of the baselines: observed FDR <= target, no bound, in-sample
        "threshold_point": tau_point,
        "deflection_point": deflection(
            recs, tau_point if tau_point is not None else 1e9, clustered
        ),
    }


def largest_point_threshold(records: Sequence[Record], target: float) -> float | None:
    """The lowest threshold whose *observed* false-deflection rate stays <= target (no upper
    bound, no multiple-testing correction): the optimistic in-sample rule, for comparison only."""
    best = None
    for step in risk_by_threshold(records):
        if step.false_deflections <= target * step.answered:
            best = step.threshold
    return best


def report(
    sets: dict[str, list[Record]],
    *,
    target: float,
    low_confidence: float,
    folds: int = 5,
    seed: int = 0,
    looser: Sequence[float] = (0.10, 0.20),
) -> dict[str, Any]:
    """Grouped CV within each set, transfer across sets, naive baselines, ECE before/after;
    and what the same protocol certifies at ``looser`` targets (the price of a tighter one)."""
    out: dict[str, Any] = {"target_fdr": target, "sets": {}, "transfer": []}
    for name, rows in sets.items():
        cv = cross_validate(
            rows,
            target=target,
            low_confidence=low_confidence,
            folds=folds,
            seed=seed,
            looser=looser,
        )
        out["sets"][name] = _set_report(rows, cv, target=target)
    out["transfer"] = _transfers(sets, target=target, low_confidence=low_confidence, seed=seed)
    return out


def _set_report(rows: list[Record], cv: dict[str, Any], *, target: float) -> dict[str, Any]:
    """One set: its grouped CV (``cv``), answering everything, its effective size and the naive
    baseline."""
    before = calibration(rows)
    return {
        "n": len(rows),
        "positives": int(sum(label(r) for r in rows)),
        "ece_before": before.get("ece"),
        "brier_before": before.get("brier"),
        "cv": cv,
        "answer_everything": deflection(
            [{**r, "escalate": False, "confidence": 1.0} for r in rows], 0.5, True
        ),
        "effective": _effective_size(rows),
        "naive_top_cosine": naive_baseline(rows, "dense_top", target=target),
    }


def _transfers(
    sets: dict[str, list[Record]], *, target: float, low_confidence: float, seed: int
) -> list[dict[str, Any]]:
    """Fit on one set, test on another; with three sets or more, fit on all the others (and
    then certify the threshold on half of the new set's groups, measured on the other half)."""
    out: list[dict[str, Any]] = []
    names = list(sets)
    for a in names:
        for b in names:
            if a == b:
                continue
            model = train(sets[a], target=target, low_confidence=low_confidence, seed=seed)
            ev = evaluate(model, sets[b], low_confidence=low_confidence)
            ev.pop("records")
            out.append({"train": a, "test": b, **ev})
    if len(names) >= 3:  # as the shipped model meets a new knowledge base: fitted on all others
        for b in names:
            others = [n for n in names if n != b]
            model = train(
                [r for n in others for r in sets[n]],
                target=target,
                low_confidence=low_confidence,
                seed=seed,
            )
            ev = evaluate(model, sets[b], low_confidence=low_confidence)
            ev.pop("records")
            out.append({"train": " + ".join(others), "test": b, **ev})
            # ... and once the customer has labelled some of their own cases: the threshold
            # certified on half of the new set's groups, measured on the other half
            dev, test = split_by_group(sets[b], seed)
            local = dataclasses.replace(model)
            recalibrate_threshold(local, {b: dev}, target=target, low_confidence=low_confidence)
            ev = evaluate(local, test, low_confidence=low_confidence)
            ev.pop("records")
            out.append({"train": " + ".join(others), "test": f"{b}, τ from its other half", **ev})
    return out


def _effective_size(records: Sequence[Record]) -> dict[str, float]:
    """How much independent evidence the cases carry when all are answered."""
    records = [{**r, "escalate": False, "confidence": 1.0} for r in records]
    steps = list(risk_by_threshold(records))
    if not steps:
        return {"icc": 0.0, "n": 0, "design_effect": 1.0}
    icc = error_correlation(records)
    return {"icc": icc, "n": steps[-1].answered, "design_effect": steps[-1].design_effect(icc)}


def recalibrate_threshold(
    model: ConfidenceModel,
    sets: dict[str, list[Record]],
    *,
    target: float,
    low_confidence: float,
) -> dict[str, Any]:
    """Keep the model, choose its threshold on labelled cases it was never fitted on (a
    customer's own feedback, say): a proper calibration set, so the learn-then-test guarantee
    holds as it stands, without cross-validation. Sets the model's threshold; 1.01 (never
    deflect) when none passes."""
    rows = [r for rs in sets.values() for r in rs]
    scored_rows = predict(model, rows, low_confidence)
    model.threshold = safe_threshold(scored_rows, target)
    clustered = shares_groups(scored_rows)
    return {
        "target_fdr": target,
        "n": len(rows),
        "threshold": model.threshold,
        "effective": _effective_size(scored_rows),
        "deflection": deflection(scored_rows, model.threshold, clustered),
        "calibration": calibration(scored_rows),
        "aurc": risk_coverage(scored_rows)["aurc"],
        "at_coverage": at_coverage(scored_rows),
    }
