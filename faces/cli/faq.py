"""`souffleur faq propose | list | approve | reject`: FAQ drafts from the agents' replies."""

from __future__ import annotations

import argparse
from typing import Any

from faces.cli.common import Subcommands, workspace_of


def _faq_lines(d: Any) -> list[str]:
    """A FAQ draft as `souffleur faq` prints it."""
    decided = f" by {d.decided_by or '-'} {d.decided_at:%Y-%m-%d %H:%M}" if d.decided_at else ""
    head = (
        f"#{d.id} {d.status}{decided}  {d.lang}  {len(d.examples)} question(s) from "
        f"{len(d.conversation_ids)} conversation(s): {', '.join(d.conversation_ids[:5]) or '-'}"
        + (f"  -> {d.doc_id}" if d.doc_id else "")
    )
    lines = [head, f"   Q: {d.question}"]
    lines += [f"      also asked: {e}" for e in d.examples if e != d.question]
    lines.append("   A: " + (d.answer.replace("\n", "\n      ") or "(to write)"))
    return lines


def cmd_faq(args: argparse.Namespace) -> int:
    """FAQ drafts from the conversations: propose, list, approve (ingested), reject."""
    from datetime import timedelta

    from copilot.desk.faqdrafts import FaqDrafts
    from copilot.desk.store import now

    faqs = FaqDrafts(workspace_of(args))
    if getattr(args, "by", "") is None:
        import getpass

        try:
            args.by = getpass.getuser()
        except (KeyError, OSError):  # no login name (a container): decisions stay anonymous
            args.by = None
    if args.action == "propose":
        found = faqs.propose(
            since=now() - timedelta(days=args.days) if args.days else None, author=args.by
        )
        for d in found.new:
            print("\n".join(["new      " + line for line in _faq_lines(d)[:1]] + _faq_lines(d)[1:]))
        for d in found.extended:
            print(f"more     #{d.id} now has {len(d.examples)} question(s): {d.question}")
        for c in found.covered:
            print(f"covered  «{c.question}» already answered by {c.doc_id} ({c.title})")
        for question, d in found.decided:
            print(f"decided  «{question}» is FAQ draft #{d.id}, already {d.status}")
        print(
            f"{found.replies} replies agents wrote to unsupported questions, in no FAQ draft yet: "
            f"{len(found.new)} new FAQ drafts, "
            f"{len(found.extended)} pending drafts given more questions, {len(found.covered)} "
            f"already covered by the knowledge, {len(found.decided)} decided before"
        )
        if found.new:
            print("review them: souffleur faq approve ID [--question Q --answer A] | reject ID")
        return 0
    if args.action == "list":
        shown = faqs.entries(args.status)
        for d in shown:
            print("\n".join(_faq_lines(d)))
        if not shown:
            print(
                f"no {args.status or ''} FAQ draft".replace("  ", " ")
                + " (souffleur faq propose reads the conversations)"
            )
        return 0
    if args.action == "approve":
        d = faqs.approve(args.id, by=args.by, question=args.question, answer=args.answer)
        print(f"approved #{d.id}: ingested as {d.doc_id} «{d.question}»")
        return 0
    d = faqs.reject(args.id, by=args.by)
    print(f"rejected #{d.id} «{d.question}»")
    return 0


def add_parser(sub: Subcommands) -> None:
    s = sub.add_parser("faq", help="FAQ drafts from the agents' replies: propose, review, ingest")
    fsub = s.add_subparsers(dest="action", required=True)
    fp = fsub.add_parser(
        "propose", help="read the conversations, store and print new FAQ drafts (pending)"
    )
    fp.add_argument("--days", type=int, help="only replies of the last N days (default: all)")
    fl = fsub.add_parser("list", help="the FAQ drafts")
    fl.add_argument("--status", choices=["pending", "approved", "rejected"])
    fa = fsub.add_parser("approve", help="approve a pending draft: ingested as a FAQ document")
    fa.add_argument("id", type=int)
    fa.add_argument("--question", help="the question as it should read (default: the draft's)")
    fa.add_argument("--answer", help="the answer as it should read (default: the draft's)")
    fr = fsub.add_parser("reject", help="reject a pending draft")
    fr.add_argument("id", type=int)
    for cmd in (fp, fa, fr):
        cmd.add_argument("--by", help="who decides (default: your login name)")
    s.set_defaults(func=cmd_faq)
