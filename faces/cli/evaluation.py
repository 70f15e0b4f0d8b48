"""`souffleur eval run | replay | compare`: offline evaluation of the copilot, one run against another."""

from __future__ import annotations

import argparse
import sys
from datetime import date
from pathlib import Path

from copilot.config import Settings
from faces.cli.common import Subcommands


def cmd_eval_run(args: argparse.Namespace) -> int:
    from evals import RunConfig, run_eval
    from evals.report import summary_rows

    settings: Settings = args.settings
    shown = [-1]

    def progress(done: int, total: int) -> None:
        pct = int(100 * done / total)
        if pct != shown[0] and (pct % 5 == 0 or done == total):
            shown[0] = pct
            bar = "#" * (pct // 4)
            print(f"\r[{bar:<25}] {done}/{total}", end="", file=sys.stderr, flush=True)

    cfg = RunConfig(
        dataset=Path(args.dataset),
        drafter=args.drafter,
        judge=args.judge,
        limit=args.limit,
        seed=args.seed,
        workers=args.workers,
        timeout_s=args.timeout,
        target_fdr=args.target_fdr,
        threshold=args.threshold,
        out=Path(args.out) if args.out else None,
    )
    result = run_eval(cfg, settings, progress=progress)
    print(file=sys.stderr)
    for name, value in summary_rows(result.summary):
        print(f"{name:<72} {value}")
    print(
        f"\nrun folder: {result.folder} (report.html, report.md, summary.json, results.jsonl, manifest.json)"
    )
    return 0


def _add_run(esub: Subcommands) -> None:
    er = esub.add_parser(
        "run", help="run a dataset folder (cases.jsonl + kb.jsonl [+ orders.jsonl])"
    )
    er.add_argument("--dataset", required=True)
    er.add_argument("--drafter", choices=["offline", "llm"], default="offline")
    er.add_argument("--judge", choices=["offline", "llm"], default="offline")
    er.add_argument("--limit", type=int)
    er.add_argument("--seed", type=int, default=0)
    er.add_argument("--workers", type=int, default=2, help="cases in flight at once")
    er.add_argument(
        "--timeout", type=float, default=120.0, help="seconds per case before it is marked unscored"
    )
    er.add_argument(
        "--target-fdr",
        type=float,
        help="risk target for 'deflection at target risk' (default: the policy's)",
    )
    er.add_argument(
        "--threshold", type=float, help="confidence threshold (default: the confidence model's)"
    )
    er.add_argument(
        "--out", help="run folder (default: under the data directory); an existing one is resumed"
    )
    er.set_defaults(func=cmd_eval_run)


def cmd_eval_replay(args: argparse.Namespace) -> int:
    """Replay the workspace's own conversations: the copilot's drafts against the agents'."""
    from evals.replay import report_rows, run_replay

    def progress(done: int, total: int) -> None:
        print(f"\r{done}/{total} replies replayed", end="", file=sys.stderr, flush=True)

    result = run_replay(
        args.settings,
        split_date=args.split_date,
        out=Path(args.out) if args.out else None,
        drafter=args.drafter,
        min_cases=args.min_cases,
        progress=progress,
    )
    print(file=sys.stderr)
    for name, value in report_rows(result.report):
        print(f"{name:<84} {value}")
    sets = result.report["sets"]
    print(f"\nset: {', '.join(f'{half} {path}' for half, path in sets.items())}")
    print(f"run folder: {result.folder} (replay.json, report.html, results.jsonl, manifest.json)")
    return 0


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"'{text}' is not a date: write it YYYY-MM-DD, e.g. 2026-11-01"
        ) from None


def _add_replay(esub: Subcommands) -> None:
    ep = esub.add_parser(
        "replay",
        help="replay this workspace's past conversations: drafts against what agents sent",
    )
    ep.add_argument(
        "--split-date",
        type=_day,
        help="YYYY-MM-DD: replies before it are the train half, the others the test half "
        "(default: the latest 30 %% of the replies are the test half)",
    )
    ep.add_argument(
        "--out", help="run folder (default: under the data directory); the set is written in it"
    )
    ep.add_argument("--drafter", choices=["offline", "llm"], default="offline")
    ep.add_argument(
        "--min-cases",
        type=int,
        help="fewest agent replies worth replaying (default: the bench's MIN_CASES, 10)",
    )
    ep.set_defaults(func=cmd_eval_replay)


def cmd_eval_compare(args: argparse.Namespace) -> int:
    from evals.compare import compare_runs, format_comparison

    comparison = compare_runs(Path(args.run_a), Path(args.run_b), margin=args.margin)
    print(format_comparison(comparison))
    if args.gate and not comparison["gate"]["passed"]:
        print(f"\nGATE FAILED: {comparison['gate']['reason']}", file=sys.stderr)
        return 1
    return 0


def _add_compare(esub: Subcommands) -> None:
    ec = esub.add_parser("compare", help="paired comparison of two runs on the same cases")
    ec.add_argument("run_a")
    ec.add_argument("run_b")
    ec.add_argument(
        "--margin", type=float, default=0.02, help="non-inferiority margin for the gate"
    )
    ec.add_argument(
        "--gate", action="store_true", help="exit 1 when B is worse than A beyond the margin"
    )
    ec.set_defaults(func=cmd_eval_compare)


def add_parser(sub: Subcommands) -> None:
    s = sub.add_parser("eval", help="offline evaluation: run a dataset, compare runs")
    esub = s.add_subparsers(dest="action", required=True)
    _add_run(esub)
    _add_replay(esub)
    _add_compare(esub)
