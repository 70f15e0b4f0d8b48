"""`souffleur calibrate`: refit the confidence model and its risk-controlled threshold."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from copilot.config import Settings
from copilot.pipeline.confidence import ConfidenceModel
from faces.cli.common import Subcommands, workspace_of
from knowledge import SouffleurError

LabelledSets = dict[str, list[dict[str, Any]]]
"""Labelled cases by where they come from: a dataset, a run, or ``agent-feedback``."""


def cmd_calibrate(args: argparse.Namespace) -> int:
    """Refit the confidence model on labelled eval runs (or the app's feedback) and report it."""
    from copilot.pipeline.escalation import Policy

    settings: Settings = args.settings
    policy = Policy.load(settings.policy_path)
    target = args.target_fdr or policy.settings.target_fdr
    sets = _labelled_sets(args, settings)
    out = Path(args.out) if args.out else settings.confidence_path
    low_confidence = policy.settings.low_confidence
    if args.threshold_only:
        model = _rethreshold(settings, sets, target=target, low_confidence=low_confidence)
    else:
        model = _refit(
            sets, target=target, low_confidence=low_confidence, folds=args.folds, seed=args.seed
        )
    _write_model(model, out, settings if not args.out else None)
    return 0


def _labelled_sets(args: argparse.Namespace, settings: Settings) -> LabelledSets:
    """The cases of --runs, of --dataset (run first) and of --feedback; their counts to stderr."""
    from evals import RunConfig, run_eval
    from evals.calibrate import feedback_rows, relabel, training_rows
    from evals.compare import load_run

    sets: LabelledSets = {}
    for run in args.runs or []:
        manifest, records = load_run(Path(run))
        sets[manifest["dataset"]] = training_rows(relabel(list(records.values()), args.label))
    for dataset in args.dataset or []:
        res = run_eval(
            RunConfig(dataset=Path(dataset), seed=args.seed, workers=args.workers), settings
        )
        sets[res.manifest["dataset"]] = training_rows(relabel(res.records, args.label))
    if args.feedback:
        from copilot.desk.store import ConversationStore

        ws = workspace_of(args, load_demo_if_empty=False)
        store = ConversationStore(ws.engine)
        sets["agent-feedback"] = feedback_rows(store.draft_rows(), store.feedback_rows())
    sets = {k: v for k, v in sets.items() if v}
    if not sets:
        raise SouffleurError(
            "No labelled data to calibrate on.",
            "Pass --dataset DIR, --runs RUN_DIR, or --feedback once agents have sent drafts.",
        )
    for name, rows in sets.items():
        print(
            f"{name}: {len(rows)} labelled cases, {sum(1 for r in rows if r['ok'] and not r['should_escalate'])} positives",
            file=sys.stderr,
        )
    return sets


def _rethreshold(
    settings: Settings, sets: LabelledSets, *, target: float, low_confidence: float
) -> ConfidenceModel:
    """--threshold-only: the current model, its threshold chosen again on cases it was not fitted on."""
    from evals.calibrate import format_recalibration, recalibrate_threshold

    model = ConfidenceModel.load(settings.confidence_path)
    seen = sorted(set(sets) & set(model.info.get("trained_on", {})))
    if seen:
        raise SouffleurError(
            f"The current model was fitted on {', '.join(seen)}: a threshold chosen on the same cases would only hold in-sample.",
            "Choose the threshold on cases the model has not seen, or refit without --threshold-only (cross-validated).",
        )
    print(
        format_recalibration(
            recalibrate_threshold(model, sets, target=target, low_confidence=low_confidence)
        )
    )
    model.info = {
        **model.info,
        "threshold_from": {k: len(v) for k, v in sets.items()},
        "target_fdr": target,
    }
    return model


def _refit(
    sets: LabelledSets, *, target: float, low_confidence: float, folds: int, seed: int
) -> ConfidenceModel:
    """A new model fitted on every case, after the cross-validated report of how it does."""
    from evals.calibrate import format_report, report, train

    print(
        format_report(
            report(sets, target=target, low_confidence=low_confidence, folds=folds, seed=seed)
        )
    )
    model = train(
        [r for rows in sets.values() for r in rows],
        target=target,
        low_confidence=low_confidence,
        seed=seed,
    )
    model.info = {
        "kind": "fitted",
        "trained_on": {k: len(v) for k, v in sets.items()},
        "target_fdr": target,
        "folds": folds,
    }
    print(f"\nmodel fitted on {sum(len(v) for v in sets.values())} cases")
    return model


def _write_model(model: ConfidenceModel, out: Path, workspace: Settings | None) -> None:
    """The model to ``out``; for the workspace's own model (no --out), also to its database,
    where every app and API process picks it up within seconds."""
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(model.to_json(), encoding="utf-8")
    print(f"deflection threshold {model.threshold:.3f}; written to {out}")
    if workspace is not None:
        from copilot.desk.shared import SharedState
        from knowledge import make_engine

        saved = SharedState(make_engine(workspace.db_url)).save(
            "confidence",
            model.to_json(),
            note=f"souffleur calibrate ({model.info.get('kind', '')})",
        )
        print(f"and saved as the workspace's confidence model, version {saved.version}")


def add_parser(sub: Subcommands) -> None:
    s = sub.add_parser(
        "calibrate", help="refit the confidence model and its risk-controlled threshold"
    )
    s.add_argument(
        "--dataset", action="append", help="labelled dataset folder (repeatable); it is run first"
    )
    s.add_argument(
        "--runs", action="append", help="existing eval run folder to learn from (repeatable)"
    )
    s.add_argument(
        "--feedback", action="store_true", help="learn from the agents' feedback stored by the app"
    )
    s.add_argument(
        "--target-fdr",
        type=float,
        help="upper bound of the false-deflection rate (default: the policy's)",
    )
    s.add_argument(
        "--threshold-only",
        action="store_true",
        help="keep the current model and only choose its threshold on these cases (which it "
        "was not fitted on): for a first few hundred agent feedbacks",
    )
    s.add_argument("--folds", type=int, default=5)
    s.add_argument(
        "--label",
        choices=["verified", "top3"],
        default="verified",
        help="what counts as a right answer (top3: the retrieval proxy of the naive baselines)",
    )
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--workers", type=int, default=2)
    s.add_argument(
        "--out", help="where to write the model (default: the data directory's confidence.json)"
    )
    s.set_defaults(func=cmd_calibrate)
