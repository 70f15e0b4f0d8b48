"""`souffleur logs [ID]`: every model call, as the call log kept it."""

from __future__ import annotations

import argparse
import dataclasses
import json

from copilot.config import Settings
from faces.cli.common import Subcommands
from knowledge import SouffleurError


def cmd_logs(args: argparse.Namespace) -> int:
    from copilot.pipeline.calllog import CallLog
    from knowledge import make_engine

    settings: Settings = args.settings
    calls = CallLog(make_engine(settings.db_url))
    if args.id is not None:
        one = calls.get(args.id)
        if one is None:
            raise SouffleurError(
                f"No model call number {args.id}.", "`souffleur logs` lists the latest ones."
            )
        if args.json:
            print(json.dumps(dataclasses.asdict(one), ensure_ascii=False, indent=2, default=str))
            return 0
        tokens = f"{one.prompt_tokens or '?'} + {one.completion_tokens or '?'} tokens"
        print(f"#{one.id}  {one.at:%Y-%m-%d %H:%M:%S}  {one.role} {one.purpose}  {one.model}")
        print(
            f"outcome {one.outcome}  {one.latency_ms:.0f} ms  {tokens}  json_mode={one.json_mode}"
        )
        print(f"prompt {one.prompt_version or '-'}  hash {one.prompt_hash[:16]}  {one.process}")
        if one.conversation_id or one.case_id:
            print(f"conversation {one.conversation_id or '-'}  case {one.case_id or '-'}")
        for m in one.messages:
            print(f"\n--- {m['role']}\n{m['content']}")
        print(f"\n=== {'output' if one.outcome == 'ok' else 'error'}")
        print(one.output if one.outcome == "ok" else one.error)
        return 0
    rows = calls.list(
        role=args.role,
        purpose=args.purpose,
        outcome=args.outcome,
        conversation_id=args.conversation,
        limit=args.limit,
    )
    if args.json:
        print(json.dumps([dataclasses.asdict(r) for r in rows], ensure_ascii=False, default=str))
        return 0
    filtered = args.role or args.purpose or args.outcome or args.conversation
    if not rows:
        print("no model call logged" + (" with these filters" if filtered else ""))
    for r in rows:
        said = (r.output if r.outcome == "ok" else r.error) or ""
        spent = (r.prompt_tokens or 0) + (r.completion_tokens or 0)
        print(
            f"{r.id:6d} {r.at:%Y-%m-%d %H:%M:%S} {r.role:7s} {r.purpose:22s} {r.outcome:14s} "
            f"{r.latency_ms:7.0f} ms {spent:6d} tok  {r.conversation_id or r.case_id or '-':14s} "
            f"{' '.join(said.split())[:60]}"
        )
    return 0


def add_parser(sub: Subcommands) -> None:
    s = sub.add_parser(
        "logs", help="every model call: drafts, repairs, judge verdicts (souffleur logs [ID])"
    )
    s.add_argument("id", nargs="?", type=int, help="show this call whole: messages and output")
    s.add_argument("--role", choices=["drafter", "judge"])
    s.add_argument("--purpose", help="draft, repair, judge (or judge:claim, ...): by prefix")
    s.add_argument("--outcome", help="ok, error (any failure), or a failure: timeout, busy, ...")
    s.add_argument("--conversation", help="one desk conversation's calls")
    s.add_argument("--limit", type=int, default=20)
    s.add_argument("--json", action="store_true", help="as JSON, for scripts")
    s.set_defaults(func=cmd_logs)
