"""`souffleur intents train | report`: the escalation-intent classifier, fitted and measured."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from faces.cli.common import Subcommands


def cmd_intents_train(args: argparse.Namespace) -> int:
    from copilot.pipeline.intents import DEFAULT_MODEL, train

    t0 = time.perf_counter()
    model = train(Path(args.examples), C=args.C)
    out = Path(args.out) if args.out else DEFAULT_MODEL
    model.save(out)
    print(
        f"fitted on {args.examples} in {time.perf_counter() - t0:.0f} s: {len(model.labels)} labels, "
        f"{len(model.grams.vocabulary)} n-grams, temperature {model.temperature:.2f}; written to {out}"
    )
    return 0


def cmd_intents_report(args: argparse.Namespace) -> int:
    from copilot.pipeline.escalation import Policy
    from copilot.pipeline.intents import IntentClassifier
    from evals.intents import render, report

    policy = Policy.load(Path(args.policy)) if args.policy else Policy.default()
    rep = report(
        policy,
        IntentClassifier.default(),
        examples_path=Path(args.examples),
        test_path=Path(args.test),
        folds=args.folds,
        progress=lambda m: print(f"  {m}", file=sys.stderr),
    )
    print(render(rep))
    if args.json:
        Path(args.json).write_text(json.dumps(rep, indent=2), encoding="utf-8")
        print(f"\nwritten to {args.json}")
    return 0


def add_parser(sub: Subcommands) -> None:
    from copilot.pipeline.intents import DEFAULT_EXAMPLES

    s = sub.add_parser("intents", help="the escalation-intent classifier: fit it, measure it")
    isub = s.add_subparsers(dest="intents_command", required=True)
    it = isub.add_parser("train", help="fit the classifier on the examples (writes its model)")
    it.add_argument("--examples", default=str(DEFAULT_EXAMPLES))
    it.add_argument("--C", type=float, default=100.0, help="inverse regularisation strength")
    it.add_argument("--out", help="model file (default: the shipped one)")
    it.set_defaults(func=cmd_intents_train)
    ir = isub.add_parser(
        "report",
        help="per-reason precision/recall: grouped CV on the examples and the held-out test set",
    )
    ir.add_argument("--examples", default=str(DEFAULT_EXAMPLES))
    ir.add_argument("--test", default="evals/datasets/intents/test.jsonl")
    ir.add_argument("--policy", help="policy file whose triggers and thresholds are measured")
    ir.add_argument("--folds", type=int, default=5)
    ir.add_argument("--json", help="also write the figures to this JSON file")
    ir.set_defaults(func=cmd_intents_report)
